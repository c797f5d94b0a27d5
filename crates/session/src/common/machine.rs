//! What every session machine is to its driver: [`Machine`] (feed it, drain it, wake it) and
//! [`SocketInput`] (the inputs a driver makes from what a socket did). The tokio driver runs
//! one generic loop over these two traits; a custom driver can be generic over them too.

use super::types::{ConnId, Reason, SkippedFrame, State};
use std::time::{Duration, Instant};

/// A sans-IO session machine: time is passed in, outputs are drained, the next deadline is
/// asked for. Implemented by the RTM [`Session`](crate::rtm::Session) and the
/// [`SocketModeSession`](crate::socket_mode::SocketModeSession); the contract is the drive loop
/// of the [`rtm`](crate::rtm) module documentation.
pub trait Machine {
    /// What the machine is told.
    type Input: SocketInput;
    /// What the machine asks for.
    type Output;

    /// Feeds one input that happened at `now`.
    fn handle(&mut self, input: Self::Input, now: Instant);
    /// Acts on every deadline that has passed at `now`.
    fn handle_timeout(&mut self, now: Instant);
    /// The next output, if any. Drain until `None` after every call that takes input.
    fn poll_output(&mut self) -> Option<Self::Output>;
    /// When [`Machine::handle_timeout`] must be called next, if ever.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The overall state.
    fn state(&self) -> State;
    /// Starts a graceful shutdown that ends by `now + grace` (a second call can only bring it
    /// closer).
    fn shutdown(&mut self, now: Instant, grace: Duration);
}

/// The inputs a driver makes from what a socket did: the one seam between socket code shared
/// by every protocol and a protocol's machine.
pub trait SocketInput: Sized {
    /// A complete message (text or binary), classified by the machine's own `…Incoming::message`.
    fn message(conn: ConnId, text: bool, payload: &[u8]) -> Self;
    /// Proof of life without a message (a ping, a pong, a fragment).
    fn activity(conn: ConnId) -> Self;
    /// A frame that could not be turned into text (skipped; the stream is still in sync).
    fn skipped(conn: ConnId, frame: SkippedFrame) -> Self;
    /// The socket's handshake is done.
    fn opened(conn: ConnId) -> Self;
    /// The socket ended, or could not be opened.
    fn closed(conn: ConnId, reason: Reason) -> Self;
    /// The application stopped (`true`) or resumed (`false`) taking what the machine hands over.
    fn backpressure(on: bool) -> Self;
    /// The socket and reason of a [`SocketInput::closed`] input.
    fn closed_reason(&self) -> Option<(ConnId, &Reason)>;
}
