//! Which workspace (and org, and installation) a user, a channel or a token belongs to: the
//! context events carry (`team_id`, `enterprise_id`, `authorizations`), what `auth.test`
//! answers, the check of issued tokens and the record of every token used.

use super::{InstallKey, IssuedTokenKind, TokenUse};
use crate::State;
use crate::api::connect::Auth;
use crate::workspace::TokenFlavor;
use serde_json::{Value, json};
use slack_rtm_types::{EnterpriseId, TeamId, UserId};
use std::time::Instant;

/// A workspace (or, for an org-wide token, the org) as `auth.test` names it.
pub(crate) struct TeamView {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub enterprise_id: Option<String>,
    pub org_install: bool,
}

/// The workspace an event happens in and the installation that sees it.
#[derive(Clone, Debug)]
pub(crate) struct EventScope {
    pub team_id: TeamId,
    pub team_domain: String,
    pub enterprise: Option<(EnterpriseId, String)>,
    /// The bot the app is there: the org's for an org-wide install, else the workspace's.
    pub bot: UserId,
    /// Seen through an org-wide install.
    pub org_install: bool,
}

/// The workspace of a user (the default one for users of no other).
pub(crate) fn team_of_user(st: &State, user: &UserId) -> TeamId {
    st.oauth.user_team.get(user).cloned().unwrap_or_else(|| st.ws.team.id.clone())
}

impl EventScope {
    /// The scope of an event in workspace `team` (the default one when unknown).
    pub fn for_team(st: &State, team: &TeamId, default_bot: &UserId) -> Self {
        let rec = st.oauth.team(team.as_str());
        let (team_id, domain, team_bot) = match rec {
            Some(t) => (t.id.clone(), t.domain.clone(), t.bot.clone()),
            None => (st.ws.team.id.clone(), st.ws.team.domain.clone(), default_bot.clone()),
        };
        let enterprise_id = match rec {
            Some(t) => t.enterprise.clone(),
            None => st.oauth.default_enterprise.clone(),
        };
        let org = enterprise_id.as_ref().and_then(|e| st.oauth.org(e.as_str()));
        let org_install = enterprise_id
            .as_ref()
            .is_some_and(|e| st.oauth.installs.contains_key(&InstallKey::Org(e.clone())));
        let bot = match org {
            Some(o) if org_install => o.bot.clone(),
            _ => team_bot,
        };
        Self {
            team_id,
            team_domain: domain,
            enterprise: org.map(|o| (o.id.clone(), o.name.clone())),
            bot,
            org_install,
        }
    }

    /// The scope of an event in a channel.
    pub fn for_channel(st: &State, channel: &str, default_bot: &UserId) -> Self {
        let team = match st.oauth.channel_team.is_empty() {
            true => None,
            false => st.oauth.channel_team.get(&slack_rtm_types::ChannelId::new(channel)).cloned(),
        };
        let team = team.unwrap_or_else(|| st.ws.team.id.clone());
        Self::for_team(st, &team, default_bot)
    }

    /// The scope of an event a user makes.
    pub fn for_user(st: &State, user: &UserId, default_bot: &UserId) -> Self {
        Self::for_team(st, &team_of_user(st, user), default_bot)
    }

    /// `{"id", "name"}` of the org, or `null`.
    pub fn enterprise_json(&self) -> Value {
        match &self.enterprise {
            Some((id, name)) => json!({"id": id, "name": name}),
            None => Value::Null,
        }
    }

    /// Puts this scope into an `event_callback` payload: `team_id`, `enterprise_id`, the
    /// `authorizations` entry, and the inner event's `team`.
    pub fn apply(&self, payload: &mut Value) {
        let enterprise_id = self.enterprise.as_ref().map(|(id, _)| id.as_str());
        payload["team_id"] = json!(self.team_id);
        match enterprise_id {
            Some(e) => payload["enterprise_id"] = json!(e),
            None => {
                if let Some(o) = payload.as_object_mut() {
                    o.remove("enterprise_id");
                }
            }
        }
        payload["authorizations"] = json!([{
            "enterprise_id": enterprise_id,
            "team_id": if self.org_install { Value::Null } else { json!(self.team_id) },
            "user_id": self.bot,
            "is_bot": true,
            "is_enterprise_install": self.org_install,
        }]);
        if payload["event"].get("team").is_some() {
            payload["event"]["team"] = json!(self.team_id);
        }
    }
}

/// A workspace's id, name, domain and org, if it exists (the default one included).
pub(crate) fn team_named(
    st: &State,
    team: &TeamId,
) -> Option<(TeamId, String, String, Option<EnterpriseId>)> {
    match st.oauth.team(team.as_str()) {
        Some(t) => Some((t.id.clone(), t.name.clone(), t.domain.clone(), t.enterprise.clone())),
        None if *team == st.ws.team.id => Some((
            team.clone(),
            st.ws.team.name.clone(),
            st.ws.team.domain.clone(),
            st.oauth.default_enterprise.clone().or_else(|| st.ws.team.enterprise_id.clone()),
        )),
        None => None,
    }
}

/// What `auth.test` says of the workspace of `token` (owned by `user`).
pub(crate) fn team_view(st: &State, token: &str, user: &UserId) -> TeamView {
    let team = match st.oauth.tokens.get(token).map(|t| &t.key) {
        Some(InstallKey::Org(e)) => {
            let name = st.oauth.org(e.as_str()).map(|o| o.name.clone()).unwrap_or_default();
            return TeamView {
                id: e.as_str().to_owned(),
                domain: name.to_ascii_lowercase().replace(' ', "-"),
                name,
                enterprise_id: Some(e.as_str().to_owned()),
                org_install: true,
            };
        }
        Some(InstallKey::Team(t)) => t.clone(),
        None => team_of_user(st, user),
    };
    let known = team_named(st, &team).or_else(|| team_named(st, &st.ws.team.id));
    let (id, name, domain, enterprise) = known
        .unwrap_or_else(|| (st.ws.team.id.clone(), st.ws.team.name.clone(), st.ws.team.domain.clone(), None));
    TeamView {
        id: id.as_str().to_owned(),
        name,
        domain,
        enterprise_id: enterprise.map(|e| e.as_str().to_owned()),
        org_install: false,
    }
}

/// Checks a token `oauth.v2.access` issued (`None` for any other token): `token_revoked`
/// once revoked, `token_expired` once expired.
pub(crate) fn check_token(st: &State, token: &str) -> Option<Auth> {
    let t = st.oauth.tokens.get(token)?;
    Some(if t.revoked {
        Auth::Err("token_revoked")
    } else if t.expires.is_some_and(|e| e <= Instant::now()) {
        Auth::Err("token_expired")
    } else {
        Auth::Ok { user: t.user.clone(), flavor: TokenFlavor::Granular }
    })
}

/// Records one use of `token` by `method` and how it was answered.
pub(crate) fn record_use(st: &mut State, method: &str, token: &str, auth: &Auth) {
    let now = Instant::now();
    let (kind, team_id, enterprise_id, expired, revoked) = match st.oauth.tokens.get(token) {
        Some(t) => {
            let (team, enterprise) = match &t.key {
                InstallKey::Team(team) => (Some(team.clone()), st.oauth.enterprise_of_team(team).cloned()),
                InstallKey::Org(e) => (None, Some(e.clone())),
            };
            (t.kind, team, enterprise, t.expires.is_some_and(|e| e <= now), t.revoked)
        }
        None => match st.ws.tokens.get(token) {
            Some(t) => {
                let team = team_of_user(st, &t.user);
                let enterprise = st.oauth.enterprise_of_team(&team).cloned();
                (IssuedTokenKind::Classic, Some(team), enterprise, false, false)
            }
            None => (IssuedTokenKind::Unknown, None, None, false, false),
        },
    };
    let error = match auth {
        Auth::Err(code) => Some((*code).to_owned()),
        Auth::Ok { .. } => None,
    };
    st.oauth.uses.push(TokenUse {
        at: now,
        method: method.to_owned(),
        kind,
        team_id,
        enterprise_id,
        expired,
        revoked,
        error,
        fingerprint: super::control::fingerprint(token),
    });
}

/// Delivers `event` in `scope` (an `events_api` envelope, a new event id); returns its number.
/// Called with the state locked; the caller wakes the waits and the timer task.
pub(crate) fn enqueue_event(shared: &crate::Shared, st: &mut State, scope: &EventScope, event: Value) -> u64 {
    let id = crate::socket_mode::state::event_id();
    let app_id = st.sm.app_id.clone();
    let mut payload = crate::socket_mode::state::event_callback(
        scope.team_id.as_str(),
        &app_id,
        scope.bot.as_str(),
        &id,
        event,
    );
    scope.apply(&mut payload);
    st.sm.enqueue(&shared.config.socket_mode, "events_api", payload, Some(id))
}

impl crate::Shared {
    /// Delivers `event`, made by `user`, in the user's workspace.
    pub(crate) fn send_user_event(&self, user: &UserId, event: Value) -> u64 {
        let mut st = self.lock();
        let scope = EventScope::for_user(&st, user, &self.bot.user);
        let seq = enqueue_event(self, &mut st, &scope, event);
        drop(st);
        self.notify();
        self.sm_timer.notify_one();
        seq
    }
}
