//! The ack of one request: sent exactly once — by the listener, by the app at the deadline,
//! or by the app when the listener ends (or panics) without acking.

use super::receiver::Acknowledger;
use super::responses::AckResponse;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a listener's ack was not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// This request was already acked (by this listener, another one, or a middleware).
    #[error("already acked")]
    AlreadyAcked,
    /// The listener did not ack within the deadline, so the app acked it empty; this ack came
    /// too late and was not sent.
    #[error("too late: the app acked the request empty after {0:?}")]
    TooLate(Duration),
    /// The receiver cannot carry a response payload (a fleet worker, an envelope that does not
    /// accept one): the request was acked empty instead. Use `respond` for a reply.
    #[error("this receiver cannot carry a response payload in the ack; it was acked empty (use respond)")]
    NoResponsePayload,
    /// The response could not be encoded as JSON.
    #[error("the ack's response could not be encoded: {0}")]
    Unencodable(#[source] serde_json::Error),
    /// The receiver failed to send it (the socket it came on is gone, the HTTP client hung up).
    #[error("the ack could not be sent: {0}")]
    Failed(#[source] slack_rtm_codec::BoxError),
}

enum State {
    Pending(Box<dyn Acknowledger>),
    Acked,
    AutoAcked(Duration),
}

/// The shared ack slot of one request.
pub(crate) struct AckCell {
    state: Mutex<State>,
    accepts_payload: bool,
}

impl fmt::Debug for AckCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AckCell").field("acked", &self.is_acked()).finish()
    }
}

impl AckCell {
    pub(crate) fn new(acker: Box<dyn Acknowledger>, accepts_payload: bool) -> Arc<AckCell> {
        Arc::new(AckCell { state: Mutex::new(State::Pending(acker)), accepts_payload })
    }

    fn take(&self, on_taken: State) -> Result<Box<dyn Acknowledger>, AckError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match std::mem::replace(&mut *state, on_taken) {
            State::Pending(a) => Ok(a),
            State::Acked => {
                *state = State::Acked;
                Err(AckError::AlreadyAcked)
            }
            State::AutoAcked(after) => {
                *state = State::AutoAcked(after);
                Err(AckError::TooLate(after))
            }
        }
    }

    /// A slot already acked (an event's: acked before its middleware and listeners run).
    pub(crate) fn acked() -> Arc<AckCell> {
        Arc::new(AckCell { state: Mutex::new(State::Acked), accepts_payload: false })
    }

    pub(crate) fn is_acked(&self) -> bool {
        !matches!(*self.state.lock().unwrap_or_else(|p| p.into_inner()), State::Pending(_))
    }

    /// Sends the ack (once).
    pub(crate) async fn send(&self, body: Option<serde_json::Value>) -> Result<(), AckError> {
        let refused = body.is_some() && !self.accepts_payload;
        let acker = self.take(State::Acked)?;
        let body = if refused { None } else { body };
        acker.ack(body).await.map_err(AckError::Failed)?;
        if refused { Err(AckError::NoResponsePayload) } else { Ok(()) }
    }

    /// The app acks empty on the listener's behalf: `Some` if it was still owed.
    pub(crate) async fn send_for_listener(&self, after: Option<Duration>) -> Option<Result<(), AckError>> {
        let marker = after.map_or(State::Acked, State::AutoAcked);
        let acker = self.take(marker).ok()?;
        Some(acker.ack(None).await.map_err(AckError::Failed))
    }
}

/// A listener's ack handle: call [`Ack::ack`] or [`Ack::ack_with`] once. `R` is what this kind
/// of request may answer in its ack: a [`MessageResponse`](super::MessageResponse) (slash
/// commands), a [`ViewResponse`](super::ViewResponse) (view submissions), an
/// [`OptionsResponse`](super::OptionsResponse) (options); `()` for the kinds that answer
/// nothing in the ack (block actions, shortcuts, view closed).
///
/// Not acked within the app's deadline (3 s minus [`App::ack_margin`](super::App::ack_margin)),
/// the request is acked empty by the app and a warning names the listener; a later ack returns
/// [`AckError::TooLate`]. A listener that returns without acking is acked empty then. The
/// listener may go on working after its ack: no "lazy listener" is needed.
pub struct Ack<R = ()> {
    cell: Arc<AckCell>,
    _kind: PhantomData<fn(R)>,
}

impl<R> Clone for Ack<R> {
    fn clone(&self) -> Self {
        Ack { cell: self.cell.clone(), _kind: PhantomData }
    }
}

impl<R> fmt::Debug for Ack<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ack").field("acked", &self.cell.is_acked()).finish()
    }
}

impl<R> Ack<R> {
    pub(crate) fn new(cell: Arc<AckCell>) -> Self {
        Ack { cell, _kind: PhantomData }
    }

    /// Acks with nothing.
    pub async fn ack(&self) -> Result<(), AckError> {
        self.cell.send(None).await
    }

    /// Acks with any JSON (for answers this version does not type).
    pub async fn ack_json(&self, body: serde_json::Value) -> Result<(), AckError> {
        self.cell.send(Some(body)).await
    }

    /// Whether the request was acked (by anyone).
    pub fn is_acked(&self) -> bool {
        self.cell.is_acked()
    }
}

impl<R: AckResponse> Ack<R> {
    /// Acks with a response.
    pub async fn ack_with(&self, response: impl Into<R>) -> Result<(), AckError> {
        let body = serde_json::to_value(response.into()).map_err(AckError::Unencodable)?;
        self.cell.send(Some(body)).await
    }
}
