//! One envelope handed to the application: its id, type, event id, payload, and (in manual ack
//! mode) its ack handle.

use slack_rtm_session::driver::SocketModeHandle;
use slack_rtm_session::socket_mode::{Delivered, DeliveryAckError, EnvelopeId};
use slack_rtm_types::RawJson;
use slack_rtm_types::socket_mode::{Envelope, EnvelopeType, Payload, SocketFrame};
use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

/// An envelope handed to the application — exactly once per `event_id` within the process.
///
/// The envelope is decoded lazily, on the application's task, the first time a field beyond
/// its id and type is asked for.
pub struct Delivery {
    inner: Delivered,
    /// Manual ack mode: where the ack goes. `None` in auto mode (already acked).
    acker: Option<SocketModeHandle>,
    decoded: OnceLock<Option<Box<Envelope>>>,
    event_type: OnceLock<Option<String>>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("envelope_id", &self.envelope_id())
            .field("envelope_type", &self.envelope_type())
            .field("event_id", &self.event_id())
            .field("acked", &self.inner.acked)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    pub(crate) fn new(inner: Delivered, acker: Option<SocketModeHandle>) -> Self {
        let acker = if inner.acked { None } else { acker };
        Self { inner, acker, decoded: OnceLock::new(), event_type: OnceLock::new() }
    }

    /// The envelope's id (what the ack names).
    #[inline]
    pub fn envelope_id(&self) -> &str {
        self.inner.frame.envelope_id()
    }

    /// `"events_api"`, `"slash_commands"`, `"interactive"`, or another type kept as it came.
    #[inline]
    pub fn envelope_type(&self) -> &str {
        self.inner.frame.envelope_type()
    }

    /// The event's id (`Ev…`), for `events_api` envelopes: the same on every redelivery.
    pub fn event_id(&self) -> Option<&str> {
        self.inner.event_id.as_deref()
    }

    /// Whether the session already acked it (auto ack mode).
    pub fn is_acked(&self) -> bool {
        self.inner.acked
    }

    /// Whether the ack may carry a response payload ([`Delivery::ack_with`]).
    pub fn accepts_response_payload(&self) -> bool {
        match self.inner.frame.parts() {
            Some(p) => p.accepts_response_payload,
            None => self.envelope().is_some_and(|e| e.accepts_response_payload),
        }
    }

    /// 0 for a first delivery; 1, 2, 3 for Slack's redeliveries of an event this process never
    /// handed over (those it did are not handed over again).
    pub fn retry_attempt(&self) -> u32 {
        match self.inner.frame.parts() {
            Some(p) => p.retry_attempt,
            None => self.envelope().map_or(0, |e| e.retry_attempt),
        }
    }

    /// The envelope, decoded (`None` only if the frame is not valid JSON).
    pub fn envelope(&self) -> Option<&Envelope> {
        self.decoded
            .get_or_init(|| match self.inner.frame.decode() {
                Ok(SocketFrame::Envelope(e)) => Some(e),
                _ => None,
            })
            .as_deref()
    }

    /// The typed payload: an Events API callback, a slash command, an interaction, or
    /// [`Payload::Unknown`] (kept verbatim).
    pub fn payload(&self) -> Payload {
        match self.envelope() {
            Some(e) => e.decode_payload(),
            // Not valid JSON: an envelope without a payload decodes to `Unknown` (`null`).
            None => Envelope {
                envelope_id: self.envelope_id().to_owned(),
                envelope_type: EnvelopeType::from_wire(self.envelope_type()),
                accepts_response_payload: false,
                retry_attempt: 0,
                retry_reason: None,
                payload: None,
            }
            .decode_payload(),
        }
    }

    /// The inner event's type (`events_api`), the interaction's type (`interactive`), or `None`.
    pub fn event_type(&self) -> Option<&str> {
        // An event's type was read by the session with its `event_id`: no decode.
        if let Some(t) = &self.inner.event_type {
            return Some(t);
        }
        self.event_type
            .get_or_init(|| match self.payload() {
                Payload::EventsApi(cb) => Some(cb.event.event_type().to_owned()),
                Payload::Interactive(i) => Some(i.interactive_type().to_owned()),
                _ => None,
            })
            .as_deref()
    }

    /// The whole envelope as it arrived.
    pub fn as_str(&self) -> &str {
        self.inner.frame.as_str()
    }

    /// The whole envelope as JSON, for printing (`Null` only if the frame is not valid JSON).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::from_str(self.as_str()).unwrap_or(serde_json::Value::Null)
    }

    /// Manual ack mode: acks the envelope on the socket it came from. Resolves once the ack
    /// is written, or with why not ([`DeliveryAckError::Unsent`] when that socket is gone). In auto
    /// mode the session already acked it: `Ok(())` at once.
    pub fn ack(mut self) -> impl Future<Output = Result<(), DeliveryAckError>> + Send + 'static {
        // In place: no allocation for the id.
        let id = EnvelopeId::new(self.envelope_id());
        let acker = self.acker.take();
        async move {
            match acker {
                Some(h) => h.ack(id, None).await,
                None => Ok(()),
            }
        }
    }

    /// [`Delivery::ack_detached`] through a borrow (the ack's handle is taken: dropping the
    /// delivery afterwards releases nothing).
    pub(crate) fn ack_detached_now(&mut self) -> Result<(), DeliveryAckError> {
        match (self.acker.take(), self.inner.seq) {
            // In delivery order this only moves a count on (see the session's handle).
            // The id is read only if the ack takes the queue.
            (Some(h), Some(seq)) => h.ack_detached_in_order_with(seq, || EnvelopeId::new(self.envelope_id())),
            (Some(h), None) => h.ack_detached(self.envelope_id(), None),
            (None, _) => Ok(()),
        }
    }

    /// Manual ack mode: queues the ack and returns at once, without waiting for it to be
    /// written (the session writes it on its next turn; a failure — the socket gone — is
    /// logged, and Slack redelivers what was not acked). For handling an envelope after its
    /// ack without a round trip to the session per envelope. In auto mode: `Ok(())` at once.
    // Inlined: the caller's `Delivery` is then not copied into the call.
    #[inline]
    pub fn ack_detached(mut self) -> Result<(), DeliveryAckError> {
        self.ack_detached_now()
    }

    /// Manual ack mode: acks with a response payload (a slash command's reply, a view
    /// submission's `response_action`, …). An ack of 20 KB or more is refused before it is
    /// sent. In auto mode the envelope was already acked: [`DeliveryAckError::AlreadyAcked`].
    pub fn ack_with(
        mut self,
        payload: serde_json::Value,
    ) -> impl Future<Output = Result<(), DeliveryAckError>> + Send + 'static {
        let id = EnvelopeId::new(self.envelope_id());
        let acker = self.acker.take();
        async move {
            let h = acker.ok_or(DeliveryAckError::AlreadyAcked)?;
            h.ack(id, Some(ack_payload(&payload)?)).await
        }
    }

    /// Manual mode: gives the envelope up without acking it (the handler failed, the store was
    /// down). Slack delivers the event again, and the session hands that redelivery over (until
    /// then, a redelivery of an event the application still holds is held back). Dropping a
    /// `Delivery` without acking it does the same. Nothing happens in auto mode.
    pub fn release(self) {
        drop(self);
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(h) = self.acker.take() {
            h.release(self.inner.frame.envelope_id());
        }
    }
}

/// A response payload as an ack carries it.
pub(crate) fn ack_payload(payload: &serde_json::Value) -> Result<RawJson, DeliveryAckError> {
    RawJson::from_value(payload)
        .map_err(|e| DeliveryAckError::Invalid(slack_rtm_codec::AckEncodeError::Unencodable(e.to_string())))
}
