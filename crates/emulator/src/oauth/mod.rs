//! Many workspaces and OAuth v2 installs: more workspaces and an Enterprise Grid org beside the
//! default workspace ([`teams`]), Slack's authorize page ([`authorize`]), `oauth.v2.access`
//! for codes and refresh tokens ([`access`]), the tokens it issues (checked by every Web API
//! call: `token_expired`, `token_revoked`), uninstalls and the records ([`control`]).
//!
//! Everything lives in [`OAuthState`], a part of the emulator's one locked state. The default
//! workspace is the one made at start (its users and channels are in no map here); the other
//! workspaces' users and channels live in the same store (ids never collide) and are mapped to
//! their workspace, so every Web API method works for them unchanged.

mod access;
mod authorize;
mod basic;
mod control;
mod scope;
mod teams;

pub(crate) use access::oauth_v2_access;
pub(crate) use authorize::authorize_page;
pub use control::{
    AuthorizeVisit, ClientAuth, GrantKind, IssuedTokenKind, OAuthCall, OAuthControl, TokenUse,
};
pub(crate) use scope::{EventScope, check_token, record_use, team_named, team_of_user, team_view};
pub use teams::{OrgInfo, TeamScope, WorkspaceInfo};

use crate::record::Ring;
use crate::workspace::{random_alnum, random_u64};
use slack_rtm_types::{ChannelId, EnterpriseId, TeamId, UserId};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How long an authorization code is valid by default (Slack: 10 minutes).
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(600);
/// At most this many codes, tokens or refresh tokens are kept; past it, dead ones are dropped.
const MAX_KEPT: usize = 100_000;

/// A workspace other than the default one.
#[derive(Clone, Debug)]
pub(crate) struct TeamRec {
    pub id: TeamId,
    pub name: String,
    pub domain: String,
    pub enterprise: Option<EnterpriseId>,
    /// The app's bot user in this workspace (made with the workspace).
    pub bot: UserId,
    /// The user who installs the app (the first human user).
    pub installer: UserId,
    pub general: ChannelId,
}

/// An Enterprise Grid org.
#[derive(Clone, Debug)]
pub(crate) struct OrgRec {
    pub id: EnterpriseId,
    pub name: String,
    pub teams: Vec<TeamId>,
    /// The app's bot user for an org-wide install.
    pub bot: UserId,
}

/// What an install covers: one workspace, or (org-wide) every workspace of an org.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum InstallKey {
    Team(TeamId),
    Org(EnterpriseId),
}

/// A live install.
#[derive(Clone, Debug)]
pub(crate) struct Install {
    pub bot: Option<UserId>,
}

/// A token `oauth.v2.access` issued.
#[derive(Clone, Debug)]
pub(crate) struct IssuedToken {
    pub key: InstallKey,
    pub kind: IssuedTokenKind,
    pub user: UserId,
    pub expires: Option<Instant>,
    pub revoked: bool,
}

/// A refresh token (single-use).
#[derive(Clone, Debug)]
pub(crate) struct RefreshRec {
    pub key: InstallKey,
    pub kind: IssuedTokenKind,
    pub user: UserId,
    pub scope: String,
    pub used: bool,
}

/// An authorization code.
#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub key: InstallKey,
    pub redirect_uri: String,
    pub scope: String,
    pub user_scope: String,
    pub expires: Instant,
    pub used: bool,
}

/// What the authorize page does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Approve into this workspace (`T…`) or org-wide into this org (`E…`).
    Approve(String),
    Deny,
}

/// The OAuth side of the state.
pub(crate) struct OAuthState {
    pub client_id: String,
    pub client_secret: String,
    pub code_lifetime: Duration,
    /// Token rotation: issued tokens expire after this (`None`: they never expire).
    pub token_lifetime: Option<Duration>,
    pub decisions: VecDeque<Decision>,
    pub codes: HashMap<String, Code>,
    pub tokens: HashMap<String, IssuedToken>,
    pub refresh: HashMap<String, RefreshRec>,
    pub teams: Vec<TeamRec>,
    pub orgs: Vec<OrgRec>,
    /// The workspace of every user outside the default one.
    pub user_team: HashMap<UserId, TeamId>,
    /// The workspace of every channel outside the default one.
    pub channel_team: HashMap<ChannelId, TeamId>,
    /// Live installs.
    pub installs: HashMap<InstallKey, Install>,
    /// The enterprise the default workspace belongs to, once put in an org.
    pub default_enterprise: Option<EnterpriseId>,
    pub calls: Ring<OAuthCall>,
    pub uses: Ring<TokenUse>,
    pub visits: Ring<AuthorizeVisit>,
}

impl OAuthState {
    pub fn new(record_limit: usize) -> Self {
        Self {
            client_id: format!("{}.{}", random_u64() % 10_000_000_000_000, random_u64() % 10_000_000_000_000),
            client_secret: format!("{:016x}{:016x}", random_u64(), random_u64()),
            code_lifetime: CODE_LIFETIME,
            token_lifetime: None,
            decisions: VecDeque::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            refresh: HashMap::new(),
            teams: Vec::new(),
            orgs: Vec::new(),
            user_team: HashMap::new(),
            channel_team: HashMap::new(),
            installs: HashMap::new(),
            default_enterprise: None,
            calls: Ring::new(record_limit),
            uses: Ring::new(record_limit),
            visits: Ring::new(record_limit),
        }
    }

    pub fn team(&self, id: &str) -> Option<&TeamRec> {
        self.teams.iter().find(|t| t.id.as_str() == id)
    }

    pub fn org(&self, id: &str) -> Option<&OrgRec> {
        self.orgs.iter().find(|o| o.id.as_str() == id)
    }

    /// The org a workspace belongs to (the default workspace, and any workspace not made
    /// here, belong to [`OAuthState::default_enterprise`]).
    pub fn enterprise_of_team(&self, team: &TeamId) -> Option<&EnterpriseId> {
        match self.team(team.as_str()) {
            Some(t) => t.enterprise.as_ref(),
            None => self.default_enterprise.as_ref(),
        }
    }

    /// A new code for this install, forgetting dead ones when many are kept.
    pub fn issue_code(&mut self, code: Code) -> String {
        let now = Instant::now();
        if self.codes.len() >= MAX_KEPT {
            self.codes.retain(|_, c| c.expires > now && !c.used);
        }
        let id = format!(
            "{}.{}.{}",
            random_u64() % 10_000_000_000_000,
            random_u64() % 10_000_000_000_000,
            random_alnum(40)
        );
        self.codes.insert(id.clone(), code);
        id
    }

    /// A new access token (`xoxb-…` / `xoxp-…`, `xoxe.` in front when it expires) and, with
    /// rotation on, its refresh token (`xoxe-1-…`) and lifetime.
    pub fn issue_token(
        &mut self,
        key: &InstallKey,
        kind: IssuedTokenKind,
        user: &UserId,
        scope: &str,
    ) -> (String, Option<(String, Duration)>) {
        let now = Instant::now();
        if self.tokens.len() >= MAX_KEPT {
            self.tokens.retain(|_, t| !t.revoked && t.expires.is_none_or(|e| e > now));
        }
        if self.refresh.len() >= MAX_KEPT {
            self.refresh.retain(|_, r| !r.used);
        }
        let prefix = match kind {
            IssuedTokenKind::Bot => "xoxb",
            _ => "xoxp",
        };
        let body = format!(
            "{prefix}-{:012}-{:013}-{}",
            random_u64() % 1_000_000_000_000,
            random_u64() % 10_000_000_000_000,
            random_alnum(24)
        );
        let lifetime = self.token_lifetime;
        let token = if lifetime.is_some() { format!("xoxe.{body}") } else { body };
        self.tokens.insert(
            token.clone(),
            IssuedToken {
                key: key.clone(),
                kind,
                user: user.clone(),
                expires: lifetime.map(|l| now + l),
                revoked: false,
            },
        );
        let refresh = lifetime.map(|l| {
            let r = format!("xoxe-1-{}", random_alnum(60));
            self.refresh.insert(
                r.clone(),
                RefreshRec {
                    key: key.clone(),
                    kind,
                    user: user.clone(),
                    scope: scope.to_owned(),
                    used: false,
                },
            );
            (r, l)
        });
        (token, refresh)
    }
}
