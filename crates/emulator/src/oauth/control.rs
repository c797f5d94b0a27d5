//! The handle's OAuth controls ([`Emulator::oauth`] → [`OAuthControl`]), uninstalls, and the
//! records tests assert on ([`OAuthCall`], [`TokenUse`]).

use super::{Decision, EventScope, InstallKey};
use crate::Emulator;
use serde_json::json;
use slack_rtm_types::{EnterpriseId, TeamId, UserId};
use std::fmt;
use std::time::{Duration, Instant};

/// Whose token it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IssuedTokenKind {
    /// A bot token `oauth.v2.access` issued (`xoxb-…`, `xoxe.xoxb-…` with rotation).
    Bot,
    /// A user token `oauth.v2.access` issued (`xoxp-…`, `xoxe.xoxp-…` with rotation).
    User,
    /// A token the emulator made itself ([`Emulator::token`], [`Emulator::add_user`], …).
    Classic,
    /// A token the emulator does not know.
    Unknown,
}

/// What an `oauth.v2.access` call asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantKind {
    /// A code exchange (`code`, no `grant_type` or `grant_type=authorization_code`).
    Code,
    /// A refresh (`grant_type=refresh_token`).
    RefreshToken,
    /// Another `grant_type` (answered `invalid_grant_type`).
    Other(String),
}

/// How an `oauth.v2.access` call authenticated the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `Authorization: Basic` (what Slack recommends).
    Basic,
    /// `client_id` and `client_secret` form fields.
    Form,
    /// Neither.
    None,
}

/// One `oauth.v2.access` call, as answered (no code, token or secret in it).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthCall {
    /// When it arrived.
    pub at: Instant,
    /// What it asked for.
    pub grant: GrantKind,
    /// How the app authenticated.
    pub client_auth: ClientAuth,
    /// The workspace of the install (`None` for an org-wide install or a refused call).
    pub team_id: Option<TeamId>,
    /// The org of the install, if any.
    pub enterprise_id: Option<EnterpriseId>,
    /// `bot` or `user`: whose token was issued (a refresh issues one).
    pub token_type: Option<String>,
    /// The error answered (`invalid_code`, `bad_client_secret`, …), `None` on success.
    pub error: Option<String>,
}

/// One visit of the authorize page (`/oauth/v2/authorize`), as answered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizeVisit {
    /// When.
    pub at: Instant,
    /// The bot scopes asked for (comma-separated, as given).
    pub scope: String,
    /// The user scopes asked for.
    pub user_scope: String,
    /// The `redirect_uri` given.
    pub redirect_uri: Option<String>,
    /// Whether a `state` was given.
    pub state: bool,
    /// The workspace (`T…`) or org (`E…`) approved into, when approved.
    pub approved: Option<String>,
    /// `access_denied`, or the reason of an error page (`invalid_client_id`, …).
    pub error: Option<String>,
}

/// One use of a token by a Web API call (`auth.test` and `rtm.connect` included), recorded
/// whatever the answer: tests assert "never called the API with an expired token" on
/// [`TokenUse::expired`]. The token itself is not kept; [`TokenUse::is_token`] compares.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenUse {
    /// When.
    pub at: Instant,
    /// The method called.
    pub method: String,
    /// Whose token it was.
    pub kind: IssuedTokenKind,
    /// The workspace the token belongs to (`None` for an org-wide token or an unknown one).
    pub team_id: Option<TeamId>,
    /// The org the token belongs to, if any.
    pub enterprise_id: Option<EnterpriseId>,
    /// The token had expired at the time (answered `token_expired`).
    pub expired: bool,
    /// The token had been revoked (answered `token_revoked`).
    pub revoked: bool,
    /// The authentication error answered, if any.
    pub error: Option<String>,
    pub(crate) fingerprint: u64,
}

impl TokenUse {
    /// Whether this use was of `token`.
    pub fn is_token(&self, token: &str) -> bool {
        self.fingerprint == fingerprint(token)
    }
}

impl fmt::Debug for TokenUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenUse")
            .field("method", &self.method)
            .field("kind", &self.kind)
            .field("team_id", &self.team_id)
            .field("enterprise_id", &self.enterprise_id)
            .field("expired", &self.expired)
            .field("revoked", &self.revoked)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// A token's fingerprint (not a secret-grade hash: the records stay in the test's process).
pub(crate) fn fingerprint(token: &str) -> u64 {
    crate::web::fnv1a(crate::web::FNV_OFFSET, token.as_bytes())
}

/// The OAuth controls, from [`Emulator::oauth`].
#[derive(Clone, Copy)]
pub struct OAuthControl<'a> {
    emu: &'a Emulator,
}

impl fmt::Debug for OAuthControl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthControl").field("client_id", &self.client_id()).finish_non_exhaustive()
    }
}

impl Emulator {
    /// The OAuth app registration, the authorize page's script, token rotation and the records.
    pub fn oauth(&self) -> OAuthControl<'_> {
        OAuthControl { emu: self }
    }

    /// The app's OAuth client id (also [`OAuthControl::client_id`]).
    pub fn oauth_client_id(&self) -> String {
        self.oauth().client_id()
    }

    /// The app's OAuth client secret: a secret, never logged by the emulator.
    pub fn oauth_client_secret(&self) -> String {
        self.oauth().client_secret()
    }

    /// Uninstalls the app from a workspace (`T…`) or, for an org-wide install, an org (`E…`):
    /// revokes every token of that install (`token_revoked` from then on) and sends
    /// `tokens_revoked` (the revoked tokens' user ids, under `oauth` and `bot`) then
    /// `app_uninstalled`, in that workspace's context, over every delivery channel. Returns the
    /// two envelopes' numbers, or `None` when the app has no install there.
    pub fn uninstall(&self, team_or_enterprise: &str) -> Option<Vec<u64>> {
        let shared = &self.shared;
        let mut guard = shared.lock();
        let st = &mut *guard;
        let key = if st.oauth.org(team_or_enterprise).is_some() {
            InstallKey::Org(EnterpriseId::new(team_or_enterprise))
        } else {
            InstallKey::Team(TeamId::new(team_or_enterprise))
        };
        let install = st.oauth.installs.get(&key)?.clone();
        let mut bots: Vec<UserId> = Vec::new();
        let mut users: Vec<UserId> = Vec::new();
        for t in st.oauth.tokens.values_mut().filter(|t| t.key == key && !t.revoked) {
            t.revoked = true;
            let list = if t.kind == super::IssuedTokenKind::Bot { &mut bots } else { &mut users };
            if !list.contains(&t.user) {
                list.push(t.user.clone());
            }
        }
        for r in st.oauth.refresh.values_mut().filter(|r| r.key == key) {
            r.used = true;
        }
        // The context the events carry: the workspace's; for an org, its first workspace's.
        let team = match &key {
            InstallKey::Team(t) => t.clone(),
            InstallKey::Org(e) => st
                .oauth
                .org(e.as_str())
                .and_then(|o| o.teams.first().cloned())
                .unwrap_or_else(|| TeamId::new(e.as_str())),
        };
        let mut scope = EventScope::for_team(st, &team, &shared.bot.user);
        st.oauth.installs.remove(&key);
        if let Some(bot) = install.bot {
            scope.bot = bot;
        }
        let events = [
            json!({"type": "tokens_revoked", "tokens": {"oauth": users, "bot": bots}}),
            json!({"type": "app_uninstalled"}),
        ];
        let seqs = events.into_iter().map(|e| super::scope::enqueue_event(shared, st, &scope, e)).collect();
        drop(guard);
        shared.notify();
        shared.sm_timer.notify_one();
        tracing::info!(install = team_or_enterprise, "emulator: app uninstalled");
        Some(seqs)
    }
}

impl OAuthControl<'_> {
    fn with<R>(&self, f: impl FnOnce(&mut super::OAuthState) -> R) -> R {
        let r = f(&mut self.emu.shared.lock().oauth);
        self.emu.shared.notify();
        r
    }

    /// The app's client id (`digits.digits`, made at start).
    pub fn client_id(&self) -> String {
        self.with(|o| o.client_id.clone())
    }

    /// The app's client secret (32 hex digits, made at start).
    pub fn client_secret(&self) -> String {
        self.with(|o| o.client_secret.clone())
    }

    /// Replaces the client id and secret.
    pub fn set_client(&self, client_id: &str, client_secret: &str) {
        self.with(|o| {
            o.client_id = client_id.to_owned();
            o.client_secret = client_secret.to_owned();
        });
    }

    /// The next visit of the authorize page approves the install into this workspace (`T…`,
    /// the default one included) or, org-wide, into this org (`E…`). Visits with nothing
    /// scripted approve into the workspace of the `team` argument if it names one, else the
    /// default workspace.
    pub fn approve_next(&self, team_or_enterprise: &str) {
        self.with(|o| o.decisions.push_back(Decision::Approve(team_or_enterprise.to_owned())));
    }

    /// The next visit of the authorize page is denied: a redirect with `error=access_denied`.
    pub fn deny_next(&self) {
        self.with(|o| o.decisions.push_back(Decision::Deny));
    }

    /// How long codes are valid (10 minutes by default); applies to codes issued afterwards.
    pub fn set_code_lifetime(&self, lifetime: Duration) {
        self.with(|o| o.code_lifetime = lifetime);
    }

    /// Token rotation: `Some(lifetime)` makes the tokens issued afterwards expire (`xoxe.`
    /// tokens with `expires_in` and a single-use `refresh_token`); `None` (the default) issues
    /// tokens that never expire. `expires_in` is in whole seconds, rounded down.
    pub fn set_token_lifetime(&self, lifetime: Option<Duration>) {
        self.with(|o| o.token_lifetime = lifetime);
    }

    /// Revokes one issued token (as `auth.revoke` would): `token_revoked` from then on. No
    /// event is sent. `false` if the token is unknown.
    pub fn revoke_token(&self, token: &str) -> bool {
        self.with(|o| o.tokens.get_mut(token).map(|t| t.revoked = true).is_some())
    }

    /// Makes one issued token expire now. `false` if the token is unknown.
    pub fn expire_token(&self, token: &str) -> bool {
        self.with(|o| o.tokens.get_mut(token).map(|t| t.expires = Some(Instant::now())).is_some())
    }

    /// Whether the app is installed (tokens issued, not uninstalled) in this workspace or,
    /// org-wide, this org.
    pub fn is_installed(&self, team_or_enterprise: &str) -> bool {
        self.with(|o| {
            o.installs.contains_key(&InstallKey::Team(TeamId::new(team_or_enterprise)))
                || o.installs.contains_key(&InstallKey::Org(EnterpriseId::new(team_or_enterprise)))
        })
    }

    /// Every `oauth.v2.access` call (bounded like the other records), oldest first.
    pub fn calls(&self) -> Vec<OAuthCall> {
        self.with(|o| o.calls.to_vec())
    }

    /// Waits until at least `n` `oauth.v2.access` calls were made (ever, answered or refused).
    pub async fn wait_for_calls(&self, n: u64, timeout: Duration) -> Result<(), crate::EmulatorError> {
        let what = || format!("{n} oauth.v2.access calls");
        self.emu.wait_until(what, timeout, |st| st.oauth.calls.total() >= n).await
    }

    /// Waits until the app is installed in this workspace or (org-wide) org.
    pub async fn wait_for_install(
        &self,
        team_or_enterprise: &str,
        timeout: Duration,
    ) -> Result<(), crate::EmulatorError> {
        let (team, org) = (
            InstallKey::Team(TeamId::new(team_or_enterprise)),
            InstallKey::Org(EnterpriseId::new(team_or_enterprise)),
        );
        let what = || format!("an install in {team_or_enterprise}");
        self.emu
            .wait_until(what, timeout, |st| {
                st.oauth.installs.contains_key(&team) || st.oauth.installs.contains_key(&org)
            })
            .await
    }

    /// Every visit of the authorize page, oldest first.
    pub fn authorize_visits(&self) -> Vec<AuthorizeVisit> {
        self.with(|o| o.visits.to_vec())
    }

    /// Every use of a token by a Web API call, oldest first.
    pub fn token_uses(&self) -> Vec<TokenUse> {
        self.with(|o| o.uses.to_vec())
    }

    /// The uses of tokens that had expired at the time.
    pub fn expired_token_uses(&self) -> Vec<TokenUse> {
        self.token_uses().into_iter().filter(|u| u.expired).collect()
    }
}
