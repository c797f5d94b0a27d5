//! OAuth v2 installs: the `oauth.v2.access` answer ([`OAuthV2Access`], for a code exchange and
//! for a token refresh alike) and what an app keeps of it per workspace ([`Installation`]).
//!
//! Tokens are [`Token`]s: `Debug` prints only their kind. The answer keeps every field it does
//! not model in `extra`. An [`Installation`] has no serde implementation, so it cannot reach a
//! JSON log by accident: a store writes it with [`Installation::to_json_with_secrets`] and reads
//! it back with [`Installation::from_json_with_secrets`], names that say what they do.
//!
//! ```
//! use slack_rtm_types::oauth::{Installation, OAuthV2Access};
//!
//! let answer: OAuthV2Access = serde_json::from_str(r#"{"ok":true,"access_token":"xoxb-1",
//!     "token_type":"bot","scope":"chat:write,commands","bot_user_id":"U0BOT","app_id":"A1",
//!     "team":{"id":"T1","name":"Team"},"enterprise":null,"is_enterprise_install":false,
//!     "authed_user":{"id":"U1"}}"#).unwrap();
//! let installation = Installation::from_access(answer, 1_700_000_000).unwrap();
//! assert_eq!(installation.team_id.as_ref().unwrap(), "T1");
//! assert!(!format!("{installation:?}").contains("xoxb-1"));
//! ```

use crate::{BotId, EnterpriseId, TeamId, Token, UserId};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::fmt;

fn opt_token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Token>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()).map(Token::new))
}

/// A team or enterprise as `oauth.v2.access` names it: `{"id":"T…","name":"…"}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NamedId {
    /// The id (`T…` or `E…`).
    pub id: String,
    /// The display name, when given.
    #[serde(default)]
    pub name: Option<String>,
}

/// The user who installed the app, and their user token when user scopes were asked for.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AuthedUser {
    /// The installing user.
    pub id: UserId,
    /// Granted user scopes, comma-separated as Slack sends them.
    #[serde(default)]
    pub scope: Option<String>,
    /// The user token (`xoxp-…`), when user scopes were granted.
    #[serde(default, deserialize_with = "opt_token")]
    pub access_token: Option<Token>,
    /// `"user"`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds until the user token expires (token rotation on).
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The single-use refresh token of the user token (token rotation on).
    #[serde(default, deserialize_with = "opt_token")]
    pub refresh_token: Option<Token>,
}

/// The incoming webhook created by the install (`incoming-webhook` scope).
#[derive(Clone, PartialEq, Deserialize)]
pub struct IncomingWebhook {
    /// The webhook URL: a secret (anyone holding it can post), redacted in `Debug`.
    pub url: String,
    /// The channel's name, e.g. `#general`.
    #[serde(default)]
    pub channel: Option<String>,
    /// The channel's id.
    #[serde(default)]
    pub channel_id: Option<String>,
    /// Where the user can change the webhook.
    #[serde(default)]
    pub configuration_url: Option<String>,
}

impl fmt::Debug for IncomingWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncomingWebhook")
            .field("url", &"…redacted")
            .field("channel", &self.channel)
            .field("channel_id", &self.channel_id)
            .field("configuration_url", &self.configuration_url)
            .finish()
    }
}

/// The answer of `oauth.v2.access` (without the `ok` envelope, checked by the codec): a code
/// exchange gives the bot token in `access_token` (`token_type: "bot"`) and the user's in
/// `authed_user`; a refresh gives the one refreshed token in `access_token` with its
/// `token_type` (`"bot"` or `"user"`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OAuthV2Access {
    /// The app.
    #[serde(default)]
    pub app_id: Option<String>,
    /// The bot token (code exchange) or the refreshed token (refresh).
    #[serde(default, deserialize_with = "opt_token")]
    pub access_token: Option<Token>,
    /// `"bot"` or `"user"`: whose token `access_token` is.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Granted scopes of `access_token`, comma-separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// The bot user's id.
    #[serde(default)]
    pub bot_user_id: Option<UserId>,
    /// The workspace; absent (null) for an org-wide install.
    #[serde(default)]
    pub team: Option<NamedId>,
    /// The Enterprise Grid org, if any.
    #[serde(default)]
    pub enterprise: Option<NamedId>,
    /// Whether the app was installed org-wide.
    #[serde(default)]
    pub is_enterprise_install: bool,
    /// The installing user (code exchange).
    #[serde(default)]
    pub authed_user: Option<AuthedUser>,
    /// The incoming webhook, if the scope was granted.
    #[serde(default)]
    pub incoming_webhook: Option<IncomingWebhook>,
    /// Seconds until `access_token` expires (token rotation on).
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The single-use refresh token of `access_token` (token rotation on).
    #[serde(default, deserialize_with = "opt_token")]
    pub refresh_token: Option<Token>,
    /// Every other field, as it came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A token with what comes with it: scopes, expiry and the refresh token (rotation on).
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// The token.
    pub token: Token,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it expires (Unix seconds); `None` when it does not (rotation off).
    pub expires_at: Option<u64>,
    /// Its single-use refresh token (rotation on).
    pub refresh_token: Option<Token>,
}

impl Grant {
    /// Whether the token should be refreshed at `now` (Unix seconds): it has a refresh token and
    /// expires within `margin_secs` (or has expired). A token without expiry never needs it.
    pub fn needs_refresh(&self, now: u64, margin_secs: u64) -> bool {
        self.refresh_token.is_some()
            && self.expires_at.is_some_and(|at| now.saturating_add(margin_secs) >= at)
    }

    /// Whether the token has expired at `now` (it must not be used then).
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// The bot side of an installation.
#[derive(Clone, Debug, PartialEq)]
pub struct BotInstallation {
    /// The bot token and its scopes, expiry and refresh token.
    pub grant: Grant,
    /// The bot user's id.
    pub user_id: UserId,
    /// The bot's id (`B…`): not in `oauth.v2.access`; `auth.test` gives it.
    pub bot_id: Option<BotId>,
}

/// The installing user's side of an installation.
#[derive(Clone, Debug, PartialEq)]
pub struct UserInstallation {
    /// The installing user.
    pub user_id: UserId,
    /// Their user token, when user scopes were asked for.
    pub grant: Option<Grant>,
}

/// What an app keeps of one install: one workspace's (or, org-wide, one org's) tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct Installation {
    /// The app.
    pub app_id: Option<String>,
    /// The Enterprise Grid org, if any.
    pub enterprise_id: Option<EnterpriseId>,
    /// The org's name.
    pub enterprise_name: Option<String>,
    /// The workspace; `None` for an org-wide install.
    pub team_id: Option<TeamId>,
    /// The workspace's name.
    pub team_name: Option<String>,
    /// Installed org-wide (one installation serves every workspace of the org).
    pub is_enterprise_install: bool,
    /// The bot token and ids, when bot scopes were asked for.
    pub bot: Option<BotInstallation>,
    /// The installing user, with their token when user scopes were asked for.
    pub user: Option<UserInstallation>,
    /// The incoming webhook.
    pub incoming_webhook: Option<IncomingWebhook>,
    /// When it was installed (Unix seconds).
    pub installed_at: u64,
}

/// Why an `oauth.v2.access` answer cannot become an [`Installation`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstallationError {
    /// Neither a team nor (org-wide) an enterprise.
    NoTeam,
    /// Neither a bot token nor a user token.
    NoToken,
    /// A stored installation that does not read back.
    Stored(String),
}

impl fmt::Display for InstallationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoTeam => f.write_str("oauth.v2.access named neither a team nor an enterprise"),
            Self::NoToken => f.write_str("oauth.v2.access gave neither a bot nor a user token"),
            Self::Stored(why) => write!(f, "a stored installation does not read back: {why}"),
        }
    }
}

impl std::error::Error for InstallationError {}

fn scopes(s: Option<&str>) -> Vec<String> {
    s.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

impl Installation {
    /// The installation a code exchange gave, installed at `now` (Unix seconds).
    pub fn from_access(answer: OAuthV2Access, now: u64) -> Result<Self, InstallationError> {
        let enterprise = answer.enterprise;
        let team = if answer.is_enterprise_install { None } else { answer.team };
        if team.is_none() && enterprise.is_none() {
            return Err(InstallationError::NoTeam);
        }
        let bot = match (answer.access_token, answer.bot_user_id) {
            (Some(token), Some(user_id)) if answer.token_type.as_deref() != Some("user") => {
                Some(BotInstallation {
                    grant: Grant {
                        token,
                        scopes: scopes(answer.scope.as_deref()),
                        expires_at: answer.expires_in.map(|s| now.saturating_add(s)),
                        refresh_token: answer.refresh_token,
                    },
                    user_id,
                    bot_id: None,
                })
            }
            _ => None,
        };
        let user = answer.authed_user.map(|u| UserInstallation {
            user_id: u.id,
            grant: u.access_token.map(|token| Grant {
                token,
                scopes: scopes(u.scope.as_deref()),
                expires_at: u.expires_in.map(|s| now.saturating_add(s)),
                refresh_token: u.refresh_token,
            }),
        });
        if bot.is_none() && user.as_ref().is_none_or(|u| u.grant.is_none()) {
            return Err(InstallationError::NoToken);
        }
        Ok(Self {
            app_id: answer.app_id,
            enterprise_id: enterprise.as_ref().map(|e| EnterpriseId::new(e.id.clone())),
            enterprise_name: enterprise.and_then(|e| e.name),
            team_id: team.as_ref().map(|t| TeamId::new(t.id.clone())),
            team_name: team.and_then(|t| t.name),
            is_enterprise_install: answer.is_enterprise_install,
            bot,
            user,
            incoming_webhook: answer.incoming_webhook,
            installed_at: now,
        })
    }

    /// Applies a refresh answer received at `now`: replaces the bot or the user token (as
    /// `token_type` says), its expiry and its refresh token. Returns whether a token was
    /// replaced (`false`: the answer named no token this installation has).
    pub fn apply_refresh(&mut self, answer: OAuthV2Access, now: u64) -> bool {
        let Some(token) = answer.access_token else { return false };
        let grant = match answer.token_type.as_deref() {
            Some("user") => self.user.as_mut().and_then(|u| u.grant.as_mut()),
            _ => self.bot.as_mut().map(|b| &mut b.grant),
        };
        let Some(grant) = grant else { return false };
        grant.token = token;
        grant.expires_at = answer.expires_in.map(|s| now.saturating_add(s));
        if answer.refresh_token.is_some() {
            grant.refresh_token = answer.refresh_token;
        }
        if answer.scope.is_some() {
            grant.scopes = scopes(answer.scope.as_deref());
        }
        true
    }

    /// The soonest moment (Unix seconds) one of its rotating tokens should be refreshed, with
    /// `margin_secs` of head start; `None` when no token rotates.
    pub fn next_refresh_at(&self, margin_secs: u64) -> Option<u64> {
        let bot = self.bot.as_ref().map(|b| &b.grant);
        let user = self.user.as_ref().and_then(|u| u.grant.as_ref());
        [bot, user]
            .into_iter()
            .flatten()
            .filter(|g| g.refresh_token.is_some())
            .filter_map(|g| g.expires_at)
            .map(|at| at.saturating_sub(margin_secs))
            .min()
    }

    /// The user id of the installing user, if any.
    pub fn user_id(&self) -> Option<&UserId> {
        self.user.as_ref().map(|u| &u.user_id)
    }
}

mod stored;
