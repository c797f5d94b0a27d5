//! The seam between an [`App`](super::App) and whatever receives Slack's requests.
//!
//! A *receiver* gets requests from Slack — a Socket Mode socket, an HTTP Request URL, a fleet
//! worker reading Redis — and hands each one to [`Dispatcher::dispatch`](super::Dispatcher::dispatch)
//! as an [`AppRequest`] with an [`Acknowledger`]: the one way back to Slack for the ack.
//! Everything else (matching listeners, acking events before their listener runs, the ack
//! deadline, middleware, concurrency, panics) is the dispatcher's, the same for every receiver.
//!
//! | receiver | `kind` | ack | response payload in the ack |
//! |---|---|---|---|
//! | Socket Mode ([`App::run_socket_mode`](super::App::run_socket_mode)) | the envelope's `type` | the envelope's ack frame (manual ack mode) | yes (Slack reads it where the envelope `accepts_response_payload`) |
//! | HTTP Request URL | from the path or the body (`command=` form, `payload=` form, JSON) | the HTTP response | yes (the response body) |
//! | fleet worker | the entry's envelope type | already acked by the gateway: a no-op | no: `respond` is the way |
//!
//! A receiver calls [`Acknowledger::ack`] only through the dispatcher, which calls it exactly
//! once per request: with `None` (an empty ack: HTTP 200 with an empty body) or with a JSON
//! body (a slash command's reply, a view's `response_action`, an options list).

use crate::socket_mode::EnvelopeId;
use slack_rtm_codec::BoxError;
use slack_rtm_types::RawJson;
use std::future::Future;
use std::pin::Pin;

/// What a request carries, as Socket Mode names its envelope types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// An Events API `event_callback` (`events_api`).
    EventsApi,
    /// A slash command (`slash_commands`).
    SlashCommands,
    /// An interaction: block actions, shortcuts, view submissions, options (`interactive`).
    Interactive,
    /// Anything else, kept as it came (acked and handed to the fallback).
    Other(String),
}

impl RequestKind {
    /// The kind for a Socket Mode envelope `type` (`events_api`, `slash_commands`, `interactive`).
    #[inline]
    pub fn from_wire(s: &str) -> RequestKind {
        match s {
            "events_api" => RequestKind::EventsApi,
            "slash_commands" => RequestKind::SlashCommands,
            "interactive" => RequestKind::Interactive,
            other => RequestKind::Other(other.to_owned()),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            RequestKind::EventsApi => "events_api",
            RequestKind::SlashCommands => "slash_commands",
            RequestKind::Interactive => "interactive",
            RequestKind::Other(s) => s,
        }
    }
}

/// One request from Slack, as a receiver hands it to the app.
///
/// Build it with [`AppRequest::new`] and the `with_…` methods. The payload is the JSON Slack
/// sent: the `event_callback` object for [`RequestKind::EventsApi`], the command's fields as
/// a JSON object of strings for [`RequestKind::SlashCommands`] (an HTTP receiver turns the
/// form into one), the decoded `payload=` field for [`RequestKind::Interactive`].
#[derive(Clone, Debug)]
pub struct AppRequest {
    /// What the payload is.
    pub kind: RequestKind,
    /// The payload, verbatim.
    pub payload: RawJson,
    /// The Socket Mode envelope id, if it came in one (kept in place: no allocation).
    pub envelope_id: Option<EnvelopeId>,
    /// 0 for a first delivery; Slack's retry number otherwise (`retry_attempt` in Socket Mode,
    /// `X-Slack-Retry-Num` over HTTP).
    pub retry_attempt: u32,
    /// Why Slack retried (`retry_reason`, `X-Slack-Retry-Reason`: `timeout`, `http_error`, …).
    pub retry_reason: Option<String>,
    /// Whether the receiver can carry a response payload in the ack. When it cannot (a fleet
    /// worker), a listener's `ack_with` fails with
    /// [`AckError::NoResponsePayload`](super::AckError::NoResponsePayload) and the ack is sent empty.
    pub accepts_response_payload: bool,
    /// The inner event's `type`, when the receiver already knows it (the Socket Mode session
    /// reads it with the `event_id`): spares the dispatcher a read of the payload.
    pub(crate) event_type: Option<String>,
}

impl AppRequest {
    /// A first delivery of `payload`, whose ack may carry a response payload.
    pub fn new(kind: RequestKind, payload: RawJson) -> AppRequest {
        AppRequest {
            kind,
            payload,
            envelope_id: None,
            retry_attempt: 0,
            retry_reason: None,
            accepts_response_payload: true,
            event_type: None,
        }
    }

    /// With the Socket Mode envelope id.
    pub fn with_envelope_id(mut self, id: impl Into<EnvelopeId>) -> AppRequest {
        self.envelope_id = Some(id.into());
        self
    }

    /// With Slack's retry number and reason (an empty reason counts as none).
    pub fn with_retry(mut self, attempt: u32, reason: Option<String>) -> AppRequest {
        self.retry_attempt = attempt;
        self.retry_reason = reason.filter(|r| !r.is_empty());
        self
    }

    /// Whether the ack can carry a response payload.
    pub fn with_response_payload(mut self, accepts: bool) -> AppRequest {
        self.accepts_response_payload = accepts;
        self
    }

    /// With the inner event's type the receiver already read.
    pub(crate) fn with_event_type(mut self, event_type: Option<String>) -> AppRequest {
        self.event_type = event_type;
        self
    }
}

/// The future an [`Acknowledger`] returns.
pub type AckFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'static>>;

/// Sends one request's ack back to Slack. The dispatcher calls [`Acknowledger::ack`] exactly
/// once per request (even when a listener panics or never acks).
///
/// Closures `FnOnce(Option<serde_json::Value>) -> AckFuture` implement it.
pub trait Acknowledger: Send + 'static {
    /// Sends the ack: empty (`None`) or with a response payload. Resolves once it is sent, or
    /// with why not (the socket it came on is gone, the HTTP client hung up).
    fn ack(self: Box<Self>, body: Option<serde_json::Value>) -> AckFuture;

    /// An empty ack that completes without waiting, for acknowledgers that can send (or queue)
    /// one so — a Socket Mode session's queued ack: `Some` with its result, and the dispatcher
    /// then drops the acknowledger without calling [`Acknowledger::ack`] (the ack was this
    /// call). `None` (the default): [`Acknowledger::ack`] is called as usual. Spares the boxed
    /// future of an ack that is done at once.
    fn ack_empty_now(&mut self) -> Option<Result<(), BoxError>> {
        None
    }

    /// [`Acknowledger::ack_empty_now`] as the dispatcher calls it, with the request's envelope
    /// id: an acknowledger of this crate that sends an event's ack then needs no id of its own
    /// (the Socket Mode pump's: a copy of the id per envelope spared), and it takes the
    /// acknowledger, `Ok` with the ack's result, or gives it back (`Err`) for
    /// [`Acknowledger::ack`] (so that one that has nothing left to drop once sent is not
    /// dropped through a call). Not for other crates (its last parameter cannot be named
    /// outside this one); the default is `ack_empty_now`.
    #[doc(hidden)]
    fn ack_empty_now_of(
        mut self,
        envelope_id: Option<&EnvelopeId>,
        sealed: DispatcherOnly,
    ) -> Result<Result<(), BoxError>, Self>
    where
        Self: Sized,
    {
        let _ = (envelope_id, sealed);
        match self.ack_empty_now() {
            Some(sent) => Ok(sent),
            None => Err(self),
        }
    }
}

/// What only this crate can hand to [`Acknowledger::ack_empty_now_of`] (so that no other crate
/// calls or overrides it).
mod sealed {
    /// The token.
    #[derive(Clone, Copy, Debug)]
    pub struct DispatcherOnly(pub(crate) ());
}
pub(crate) use sealed::DispatcherOnly;

/// A boxed acknowledger is one: what a receiver that picks its acknowledger at run time hands
/// to [`Dispatcher::dispatch`](super::Dispatcher::dispatch).
impl Acknowledger for Box<dyn Acknowledger> {
    fn ack(self: Box<Self>, body: Option<serde_json::Value>) -> AckFuture {
        (*self).ack(body)
    }

    fn ack_empty_now(&mut self) -> Option<Result<(), BoxError>> {
        (**self).ack_empty_now()
    }
}

impl<F> Acknowledger for F
where
    F: FnOnce(Option<serde_json::Value>) -> AckFuture + Send + 'static,
{
    fn ack(self: Box<Self>, body: Option<serde_json::Value>) -> AckFuture {
        (*self)(body)
    }
}

/// An acknowledger for a request that needs none (already acked elsewhere, e.g. by a fleet
/// gateway): every ack succeeds at once.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAck;

impl Acknowledger for NoAck {
    fn ack(self: Box<Self>, _body: Option<serde_json::Value>) -> AckFuture {
        Box::pin(async { Ok(()) })
    }
}
