//! The WebSocket under every session, whatever its protocol: opening it ([`handshake`]), the
//! per-connection reader ([`reader`]) over capped reads ([`capped`]), writing and closing
//! ([`close`]). The reader turns what it reads into a machine's inputs through
//! [`SocketInput`](crate::common::SocketInput), its one seam with a protocol.

mod capped;
mod close;
mod halves;
mod handshake;
mod reader;
mod writebuf;

pub(crate) use close::{BoxFuture, close_socket, write_and_flush};
pub(crate) use handshake::websocket_tls;
pub(crate) use reader::run_connection;

use super::dial::Dialer;
use crate::common::ConnId;
use capped::CappedRead;
use fastwebsockets::{WebSocketRead, WebSocketWrite};
use halves::{ReadHalf, WriteHalf};
use rustls::ClientConfig;
use std::sync::Arc;
use writebuf::WriteBuf;

/// The write half of an open socket, owned by the driver loop: buffered, so the frames of one
/// loop turn go out in one write at its flush (every write path flushes); the buffer holds
/// memory only while a busy session uses it ([`writebuf`]).
pub(crate) type Writer = WebSocketWrite<WriteBuf<WriteHalf>>;
type Reader = WebSocketRead<CappedRead<ReadHalf>>;

/// What a connection's reader reports to the loop.
#[allow(clippy::large_enum_variant)] // moved, not boxed: no allocation per event
pub(crate) enum FromSocket<I> {
    /// The handshake is done: here is the write half.
    Opened(ConnId, Box<Writer>),
    /// Something for the machine.
    Input(I),
    /// Several frames' inputs, in order (frames that were already buffered are handed over
    /// together: one channel operation and one loop turn per batch, not per frame).
    Inputs(Vec<I>),
    /// A control frame the protocol obliges us to send (pong, close echo).
    Control(ConnId, ControlFrame),
}

/// A control frame to write on behalf of the reader.
pub(crate) enum ControlFrame {
    /// Answer a WebSocket ping with this payload.
    Pong(Vec<u8>),
    /// Echo the peer's close.
    CloseEcho(Vec<u8>),
}

/// How a connection is opened: the dialer under it, the TLS config for `wss://`, the size cap.
#[derive(Clone)]
pub(crate) struct OpenConfig {
    pub(crate) dialer: Arc<dyn Dialer>,
    pub(crate) tls: Option<Arc<ClientConfig>>,
    pub(crate) max_message: usize,
}
