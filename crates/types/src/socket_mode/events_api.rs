//! The `events_api` payload: the Events API `event_callback` wrapper and the events only the
//! Events API sends. Events whose shape RTM shares (`message`, `reaction_added`,
//! `member_joined_channel`, ...) decode with the RTM model ([`Event`]).

use super::assistant::{AppContextChanged, AssistantThreadContextChanged, AssistantThreadStarted};
use crate::event::Tagged;
use crate::scan::{Scan, top_level_strings};
use crate::{ChannelId, EnterpriseId, Event, RawJson, TeamId, Ts, UserId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One entry of `authorizations`: an installation the event is visible to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    /// The organisation, for an Enterprise Grid install.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<EnterpriseId>,
    /// The workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    /// The user (the bot user for a bot install).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Whether it is the app's bot.
    #[serde(default)]
    pub is_bot: bool,
    /// Whether the app is installed on the whole organisation.
    #[serde(default)]
    pub is_enterprise_install: bool,
}

/// The `event_callback` wrapper of an `events_api` envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventCallback {
    /// The workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    /// The organisation, for Enterprise Grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<EnterpriseId>,
    /// The app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_app_id: Option<String>,
    /// `event_callback` (other values are kept).
    #[serde(rename = "type", default)]
    pub callback_type: String,
    /// The event's id (`Ev…`): the same on every redelivery, so the key to deduplicate on.
    #[serde(default)]
    pub event_id: String,
    /// When the event happened (Unix seconds).
    #[serde(default)]
    pub event_time: i64,
    /// The installations the event is visible to.
    #[serde(default)]
    pub authorizations: Vec<Authorization>,
    /// Whether the event happened in a channel shared with another organisation.
    #[serde(default)]
    pub is_ext_shared_channel: bool,
    /// An opaque id of the event's context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_context: Option<String>,
    /// The event itself.
    pub event: ApiEvent,
}

/// The inner event of an `events_api` payload.
///
/// Types RTM also sends decode with the RTM model, into [`ApiEvent::Rtm`]; so does anything
/// unknown ([`Event::Unknown`], kept verbatim). The Events-API-only types apps read most have
/// their own variants; one of those with an unexpected shape is an [`Event::Unknown`] too.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ApiEvent {
    /// An event with the RTM shape (`message` — with `channel_type` —, `reaction_added`,
    /// `member_joined_channel`, ...), or an unknown one.
    Rtm(Event),
    /// `app_mention`: someone mentioned the app.
    AppMention(Box<AppMention>),
    /// `app_home_opened`: a user opened the app's Home.
    AppHomeOpened(Box<AppHomeOpened>),
    /// `app_uninstalled`: the app was removed from the workspace.
    AppUninstalled(AppUninstalled),
    /// `tokens_revoked`: some of the app's tokens were revoked.
    TokensRevoked(TokensRevoked),
    /// `link_shared`: a message has a link of a domain the app unfurls.
    LinkShared(Box<LinkShared>),
    /// `assistant_thread_started`: a user opened an assistant thread.
    AssistantThreadStarted(Box<AssistantThreadStarted>),
    /// `assistant_thread_context_changed`: the user viewed another channel meanwhile.
    AssistantThreadContextChanged(Box<AssistantThreadContextChanged>),
    /// `app_context_changed` (agent view): what the user views changed.
    AppContextChanged(Box<AppContextChanged>),
}

impl ApiEvent {
    /// Decodes an inner event (valid JSON): never fails.
    pub fn from_raw(raw: &RawJson) -> ApiEvent {
        let text = raw.as_str();
        let kind = match top_level_strings(text.as_bytes(), [b"type"], b"") {
            Scan::Found { values: [kind], .. } => kind,
            Scan::Unsure => None,
        };
        let typed = match kind {
            Some("app_mention") => raw.parse().map(|e| ApiEvent::AppMention(Box::new(e))),
            Some("app_home_opened") => raw.parse().map(|e| ApiEvent::AppHomeOpened(Box::new(e))),
            Some("app_uninstalled") => raw.parse().map(ApiEvent::AppUninstalled),
            Some("tokens_revoked") => raw.parse().map(ApiEvent::TokensRevoked),
            Some("link_shared") => raw.parse().map(|e| ApiEvent::LinkShared(Box::new(e))),
            Some("assistant_thread_started") => {
                raw.parse().map(|e| ApiEvent::AssistantThreadStarted(Box::new(e)))
            }
            Some("assistant_thread_context_changed") => {
                raw.parse().map(|e| ApiEvent::AssistantThreadContextChanged(Box::new(e)))
            }
            Some("app_context_changed") => raw.parse().map(|e| ApiEvent::AppContextChanged(Box::new(e))),
            _ => {
                // RawJson is valid JSON nested less deeply than serde's limit: always decodes.
                let ev = Event::from_json(text).unwrap_or_else(|e| Event::Unknown {
                    event_type: None,
                    raw: raw.clone(),
                    shape_error: Some(e.to_string()),
                });
                return ApiEvent::Rtm(ev);
            }
        };
        typed.unwrap_or_else(|e| {
            ApiEvent::Rtm(Event::Unknown {
                event_type: kind.map(str::to_owned),
                raw: raw.clone(),
                shape_error: Some(e.to_string()),
            })
        })
    }

    /// The event's `type`.
    pub fn event_type(&self) -> &str {
        match self {
            ApiEvent::Rtm(e) => e.event_type(),
            ApiEvent::AppMention(_) => "app_mention",
            ApiEvent::AppHomeOpened(_) => "app_home_opened",
            ApiEvent::AppUninstalled(_) => "app_uninstalled",
            ApiEvent::TokensRevoked(_) => "tokens_revoked",
            ApiEvent::LinkShared(_) => "link_shared",
            ApiEvent::AssistantThreadStarted(_) => "assistant_thread_started",
            ApiEvent::AssistantThreadContextChanged(_) => "assistant_thread_context_changed",
            ApiEvent::AppContextChanged(_) => "app_context_changed",
        }
    }
}

impl<'de> Deserialize<'de> for ApiEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ApiEvent::from_raw(&RawJson::deserialize(d)?))
    }
}

impl Serialize for ApiEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ApiEvent::Rtm(e) => e.serialize(s),
            ApiEvent::AppMention(e) => Tagged { kind: "app_mention", inner: e }.serialize(s),
            ApiEvent::AppHomeOpened(e) => Tagged { kind: "app_home_opened", inner: e }.serialize(s),
            ApiEvent::AppUninstalled(e) => Tagged { kind: "app_uninstalled", inner: e }.serialize(s),
            ApiEvent::TokensRevoked(e) => Tagged { kind: "tokens_revoked", inner: e }.serialize(s),
            ApiEvent::LinkShared(e) => Tagged { kind: "link_shared", inner: e }.serialize(s),
            ApiEvent::AssistantThreadStarted(e) => {
                Tagged { kind: "assistant_thread_started", inner: e }.serialize(s)
            }
            ApiEvent::AssistantThreadContextChanged(e) => {
                Tagged { kind: "assistant_thread_context_changed", inner: e }.serialize(s)
            }
            ApiEvent::AppContextChanged(e) => Tagged { kind: "app_context_changed", inner: e }.serialize(s),
        }
    }
}

/// `app_mention`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppMention {
    /// Who mentioned the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    /// The message text, mention included (`<@U…>`).
    #[serde(default)]
    pub text: String,
    /// The message's timestamp.
    pub ts: Ts,
    /// The conversation.
    pub channel: ChannelId,
    /// The thread, for a mention in a thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<Ts>,
    /// When the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<Ts>,
    /// The author's workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    /// The id the author's client gave the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// The message's blocks, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<RawJson>,
}

/// `app_home_opened`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppHomeOpened {
    /// Who opened it.
    pub user: UserId,
    /// The app's direct-message channel with the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelId>,
    /// `home` or `messages`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tab: Option<String>,
    /// When the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<Ts>,
    /// The Home view as last published, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<RawJson>,
}

impl AppHomeOpened {
    /// Whether the user opened the Messages tab (where an agent's conversation lives).
    pub fn is_messages_tab(&self) -> bool {
        self.tab.as_deref() == Some("messages")
    }
}

/// `app_uninstalled`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppUninstalled {
    /// When the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<Ts>,
}

/// The tokens of `tokens_revoked`, by kind (user ids).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedTokens {
    /// Users whose OAuth (user) tokens were revoked.
    #[serde(default)]
    pub oauth: Vec<UserId>,
    /// Bot users whose bot tokens were revoked.
    #[serde(default)]
    pub bot: Vec<UserId>,
}

/// `tokens_revoked`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensRevoked {
    /// Which tokens.
    #[serde(default)]
    pub tokens: RevokedTokens,
    /// When the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<Ts>,
}

/// A link of `link_shared`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedLink {
    /// The domain the app registered.
    #[serde(default)]
    pub domain: String,
    /// The URL.
    pub url: String,
}

/// `link_shared`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkShared {
    /// The conversation (`COMPOSER` while the message is being written).
    pub channel: ChannelId,
    /// Who posted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    /// The message (or a composer id).
    pub message_ts: Ts,
    /// The thread, for a message in a thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<Ts>,
    /// The links to unfurl.
    #[serde(default)]
    pub links: Vec<SharedLink>,
    /// The unfurl's id (for `chat.unfurl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfurl_id: Option<String>,
    /// `conversations_history` or `composer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// When the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<Ts>,
}
