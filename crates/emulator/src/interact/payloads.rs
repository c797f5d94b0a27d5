//! The payloads of users' interactions, shaped as Slack sends them: the common parts (user,
//! team, app), the `response_url`s and triggers they carry.

use super::state::ResponseUrl;
use crate::Shared;
use crate::workspace::random_alnum;
use serde_json::{Value, json};
use slack_rtm_types::{ChannelId, UserId};
use std::time::Instant;

/// The verification token every payload carries (deprecated by Slack; apps check signatures).
pub(crate) const VERIFICATION_TOKEN: &str = "emulatorverificationtoken";

/// What every interaction payload starts with.
pub(crate) struct Common {
    pub team: Value,
    pub user: Value,
    pub app_id: String,
    /// The user's workspace, org and the installation that sees them.
    pub scope: crate::oauth::EventScope,
}

impl Common {
    pub fn new(shared: &Shared, user: &UserId) -> Self {
        let st = shared.lock();
        let name = st.ws.users.iter().find(|u| &u.id == user).map(|u| u.name.clone()).unwrap_or_default();
        let scope = crate::oauth::EventScope::for_user(&st, user, &shared.bot.user);
        let mut team = json!({"id": scope.team_id, "domain": scope.team_domain});
        if let Some((e, _)) = &scope.enterprise {
            team["enterprise_id"] = json!(e);
        }
        Common {
            team,
            user: json!({"id": user, "username": name, "name": name, "team_id": scope.team_id}),
            app_id: st.sm.app_id.clone(),
            scope,
        }
    }

    /// `{"type": kind, "team", "user", "api_app_id", "token", "is_enterprise_install",
    /// "enterprise"}`.
    pub fn payload(&self, kind: &str) -> Value {
        json!({
            "type": kind,
            "team": self.team,
            "user": self.user,
            "api_app_id": self.app_id,
            "token": VERIFICATION_TOKEN,
            "is_enterprise_install": self.scope.org_install,
            "enterprise": self.scope.enterprise_json(),
        })
    }
}

/// `{"id", "name"}` of a channel.
pub(crate) fn channel_object(shared: &Shared, channel: &ChannelId) -> Value {
    let st = shared.lock();
    let name = st.ws.channels.iter().find(|c| &c.id == channel).map(|c| c.name.clone()).unwrap_or_default();
    json!({"id": channel, "name": name})
}

/// An `action_ts` / `event_ts`-shaped timestamp.
pub(crate) fn action_ts(shared: &Shared) -> String {
    shared.clock.next()
}

/// A trigger for `user`, valid for the configured lifetime.
pub(crate) fn trigger(shared: &Shared, user: &UserId) -> String {
    shared.issue_trigger(Some(user.clone()), shared.config.interactions.trigger_lifetime)
}

/// Hands out a `response_url` (`kind` is `commands` or `actions`) for these messages.
pub(crate) fn response_url(
    shared: &Shared,
    kind: &str,
    user: &UserId,
    channel: Option<&ChannelId>,
    original: Option<(ChannelId, String)>,
) -> String {
    let mut st = shared.lock();
    let path = format!(
        "/{kind}/{}/{}/{}",
        st.ws.team.id.as_str(),
        crate::workspace::random_u64() % 10_000_000_000_000,
        random_alnum(24)
    );
    let expires = Instant::now() + shared.config.interactions.response_url_lifetime;
    st.ix.urls.insert(
        path.clone(),
        ResponseUrl { channel: channel.cloned(), user: user.clone(), original, uses: 0, expires },
    );
    drop(st);
    let base = shared.base_url();
    format!("{}{}", base.trim_end_matches('/'), path)
}

impl Shared {
    /// The server's base URL, e.g. `http://127.0.0.1:PORT/`.
    pub(crate) fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/", self.addr)
    }
}
