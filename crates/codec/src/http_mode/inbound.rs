//! A verified request, classified: what Slack sent to the Request URL.

use serde::Deserialize;
use slack_rtm_types::RawJson;
use slack_rtm_types::socket_mode::{Envelope, EnvelopeType};

/// What kind of delivery a verified request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InboundKind {
    /// `url_verification`: Slack checking the Request URL; answer with the challenge.
    UrlVerification,
    /// `ssl_check=1`: Slack checking a slash command URL's certificate; answer 200.
    SslCheck,
    /// `app_rate_limited`: Slack is dropping this app's events for a minute.
    AppRateLimited,
    /// `event_callback`: an Events API event (answered 200 before it is handled).
    Event,
    /// A slash command (form body); the answer's body is its ack payload.
    SlashCommand,
    /// An interaction (`payload=` form body): block actions, shortcuts, view submissions and
    /// closes, …; the answer's body is its ack payload.
    Interactive,
    /// An options load (`block_suggestion`, `payload=` form body); the answer's body is the
    /// options list.
    Options,
}

impl InboundKind {
    /// Whether the HTTP answer carries the listener's ack payload (commands, interactions,
    /// options); for the others Slack ignores the body.
    pub fn answers_with_payload(self) -> bool {
        matches!(self, Self::SlashCommand | Self::Interactive | Self::Options)
    }
}

/// `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`: this delivery is a retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retry {
    /// 1, 2, 3, … (Slack retries 3 times).
    pub num: u32,
    /// `http_timeout`, `http_error`, `connection_failed`, … (empty when the header is absent).
    pub reason: String,
}

/// A request whose signature was verified, classified.
///
/// Its payload is the same JSON a Socket Mode envelope carries for it (the `event_callback`
/// body, the slash command's fields as a JSON object of strings, the interaction's
/// `payload`), so [`Inbound::to_envelope`] turns it into the envelope an app built for Socket
/// Mode handles.
#[derive(Clone, Debug, PartialEq)]
pub struct Inbound {
    pub(crate) kind: InboundKind,
    pub(crate) payload: RawJson,
    pub(crate) challenge: Option<String>,
    pub(crate) event_id: Option<String>,
    pub(crate) type_name: Option<String>,
    pub(crate) retry: Option<Retry>,
    pub(crate) timestamp: u64,
}

impl Inbound {
    /// What it is.
    pub fn kind(&self) -> InboundKind {
        self.kind
    }

    /// The payload, verbatim JSON: the body for JSON requests, the fields of a slash command
    /// as an object of strings, the `payload` field of an interaction or options load.
    pub fn payload(&self) -> &RawJson {
        &self.payload
    }

    /// `url_verification`'s challenge, to answer with.
    pub fn challenge(&self) -> Option<&str> {
        self.challenge.as_deref()
    }

    /// An event's `event_id` (the key to deduplicate on: the same in every retry).
    pub fn event_id(&self) -> Option<&str> {
        self.event_id.as_deref()
    }

    /// The inner event's type (`app_mention`, …), an interaction's type (`block_actions`,
    /// `view_submission`, `block_suggestion`, …) or a slash command's name (`/echo`).
    pub fn type_name(&self) -> Option<&str> {
        self.type_name.as_deref()
    }

    /// The payload, taken over (no copy): for a receiver that hands it on.
    pub fn into_payload(self) -> RawJson {
        self.payload
    }

    /// The retry headers, when this delivery is a retry.
    pub fn retry(&self) -> Option<&Retry> {
        self.retry.as_ref()
    }

    /// `X-Slack-Request-Timestamp`, Unix seconds (already checked against the clock).
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The Socket Mode envelope that carries the same delivery (`envelope_id` is the caller's:
    /// HTTP deliveries have none); `None` for what Socket Mode never delivers
    /// (`url_verification`, `ssl_check`, `app_rate_limited`).
    pub fn to_envelope(&self, envelope_id: impl Into<String>) -> Option<Envelope> {
        let envelope_type = match self.kind {
            InboundKind::Event => EnvelopeType::EventsApi,
            InboundKind::SlashCommand => EnvelopeType::SlashCommands,
            InboundKind::Interactive | InboundKind::Options => EnvelopeType::Interactive,
            InboundKind::UrlVerification | InboundKind::SslCheck | InboundKind::AppRateLimited => {
                return None;
            }
        };
        Some(Envelope {
            envelope_id: envelope_id.into(),
            envelope_type,
            accepts_response_payload: self.kind.answers_with_payload(),
            retry_attempt: self.retry.as_ref().map_or(0, |r| r.num),
            retry_reason: self.retry.as_ref().map(|r| r.reason.clone()),
            payload: Some(self.payload.clone()),
        })
    }
}

/// Why a verified body could not be classified (answered 400). Never quotes the body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedBody {
    /// The body is not UTF-8.
    #[error("the body is not UTF-8")]
    NotUtf8,
    /// The JSON body does not parse as an object.
    #[error("the body is not a JSON object ({category} error at line {line}, column {column})")]
    Json {
        /// serde_json's category: `syntax`, `data`, `eof`.
        category: &'static str,
        /// Where.
        line: usize,
        /// Where.
        column: usize,
    },
    /// A JSON body of a type this receiver does not take.
    #[error("a JSON body that is not url_verification, event_callback or app_rate_limited")]
    UnsupportedType,
    /// `url_verification` without a string `challenge`.
    #[error("url_verification without a challenge")]
    NoChallenge,
    /// `event_callback` without an `event_id` or an `event` object with a `type`.
    #[error("event_callback without an event_id or a typed event")]
    IncompleteEvent,
    /// The form body does not decode.
    #[error("the form body is not application/x-www-form-urlencoded")]
    Form,
    /// A form with neither `payload`, `command` nor `ssl_check`.
    #[error("a form body with neither payload, command nor ssl_check")]
    UnknownForm,
    /// `payload` is not a JSON object with a string `type`.
    #[error("the payload field is not a JSON object with a type")]
    Payload,
    /// `X-Slack-Retry-Num` is not a number.
    #[error("X-Slack-Retry-Num is not a number")]
    RetryNum,
}

fn json_error(e: &serde_json::Error) -> MalformedBody {
    let category = match e.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "data",
        serde_json::error::Category::Eof => "eof",
    };
    MalformedBody::Json { category, line: e.line(), column: e.column() }
}

/// The classified parts, before the headers' retry and timestamp are added.
pub(crate) struct Classified {
    pub(crate) kind: InboundKind,
    pub(crate) payload: RawJson,
    pub(crate) challenge: Option<String>,
    pub(crate) event_id: Option<String>,
    pub(crate) type_name: Option<String>,
}

/// A JSON body (Events API).
pub(crate) fn classify_json(body: &[u8]) -> Result<Classified, MalformedBody> {
    let text = std::str::from_utf8(body).map_err(|_| MalformedBody::NotUtf8)?;
    // One pass, hand-written (serde_json's answer, errors included, at a fraction of its
    // cost): the routing fields, the body's validity and its verbatim copy together.
    let (head, payload) = RawJson::with_events_api_head(text).map_err(|e| json_error(&e))?;
    let mut c =
        Classified { kind: InboundKind::Event, payload, challenge: None, event_id: None, type_name: None };
    match head.kind.as_deref() {
        Some("url_verification") => {
            c.kind = InboundKind::UrlVerification;
            c.challenge = Some(head.challenge.ok_or(MalformedBody::NoChallenge)?.into_owned());
        }
        Some("app_rate_limited") => c.kind = InboundKind::AppRateLimited,
        Some("event_callback") => {
            let event_type = head.event_type.ok_or(MalformedBody::IncompleteEvent)?;
            let event_id = head.event_id.filter(|id| !id.is_empty()).ok_or(MalformedBody::IncompleteEvent)?;
            c.event_id = Some(event_id.into_owned());
            c.type_name = Some(event_type.into_owned());
        }
        _ => return Err(MalformedBody::UnsupportedType),
    }
    Ok(c)
}

#[derive(Deserialize)]
struct PayloadHead {
    #[serde(rename = "type")]
    kind: String,
}

/// A form body: an interaction or options load (`payload=`), a slash command, an `ssl_check`.
pub(crate) fn classify_form(body: &[u8]) -> Result<Classified, MalformedBody> {
    let fields: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| MalformedBody::Form)?;
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if let Some(payload) = field("payload") {
        let (head, raw) = RawJson::with_head::<PayloadHead>(payload).map_err(|_| MalformedBody::Payload)?;
        let kind =
            if head.kind == "block_suggestion" { InboundKind::Options } else { InboundKind::Interactive };
        return Ok(Classified {
            kind,
            payload: raw,
            challenge: None,
            event_id: None,
            type_name: Some(head.kind),
        });
    }
    if let Some(command) = field("command") {
        let type_name = Some(command.to_owned());
        // The same JSON object of strings Socket Mode sends (the first of repeated fields).
        let mut object = serde_json::Map::with_capacity(fields.len());
        for (k, v) in &fields {
            if !object.contains_key(k) {
                object.insert(k.clone(), serde_json::Value::String(v.clone()));
            }
        }
        let payload = RawJson::from_value(&object).map_err(|_| MalformedBody::Form)?;
        return Ok(Classified {
            kind: InboundKind::SlashCommand,
            payload,
            challenge: None,
            event_id: None,
            type_name,
        });
    }
    if field("ssl_check") == Some("1") {
        let payload = RawJson::from_json("{}").ok_or(MalformedBody::Form)?;
        return Ok(Classified {
            kind: InboundKind::SslCheck,
            payload,
            challenge: None,
            event_id: None,
            type_name: None,
        });
    }
    Err(MalformedBody::UnknownForm)
}
