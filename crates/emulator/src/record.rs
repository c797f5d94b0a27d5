//! What the emulator observed: `rtm.connect` calls, connections, client frames, posted
//! messages. Every record is bounded (see [`crate::EmulatorConfig::record_limit`]).

use bytes::Bytes;
use slack_rtm_types::{ChannelId, ConnectOptions, Ts, UserId};
use std::collections::VecDeque;
use std::fmt;
use std::time::Instant;

/// A connection id, unique within one emulator (1, 2, 3, … in connection order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

/// One call of `rtm.connect`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConnectCall {
    /// When it arrived.
    pub at: Instant,
    /// The HTTP method (`GET`, `POST`, …).
    pub method: String,
    /// The arguments (query string, then body), in order. The value of `token` is replaced by
    /// `"<redacted>"`.
    pub args: Vec<(String, String)>,
    /// Whether a `token` argument was in the URL's query string.
    pub token_in_url: bool,
    /// Whether the token came in an `Authorization: Bearer` header.
    pub bearer: bool,
    /// The HTTP status answered.
    pub status: u16,
    /// The error code answered (`None` on success or for a non-JSON fault answer).
    pub error: Option<String>,
    /// The warnings answered.
    pub warnings: Vec<String>,
    /// The user the socket URL was issued for, on success.
    pub user: Option<UserId>,
}

impl ConnectCall {
    /// Whether a socket URL was issued.
    pub fn ok(&self) -> bool {
        self.user.is_some()
    }
}

/// Why a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent a close frame (its code, if any).
    ClientClosed(Option<u16>),
    /// The client's side ended without a close frame (EOF, reset, protocol error).
    ClientGone(String),
    /// The server closed with this close code (goodbye grace, scripted close, team migration).
    ServerClosed(u16),
    /// The server dropped the TCP connection without a close frame.
    Dropped,
    /// The client sent a frame over 16 KB.
    FrameTooLarge(usize),
    /// The client kept sending above the send-rate limit.
    RateLimited,
    /// The client did not read fast enough; its queue filled up.
    SlowConsumer,
    /// Writing to the client failed.
    WriteFailed(String),
    /// The emulator shut down.
    Shutdown,
}

/// A connection, open or closed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConnectionRecord {
    /// Its id.
    pub id: ConnectionId,
    /// The user it authenticates as.
    pub user: UserId,
    /// The options given to the `rtm.connect` call that issued its URL.
    pub options: ConnectOptions,
    /// When the socket opened.
    pub opened_at: Instant,
    /// When it closed (`None` while open).
    pub closed_at: Option<Instant>,
    /// Why it closed.
    pub close_reason: Option<CloseReason>,
    /// WebSocket pong frames received from the client.
    pub ws_pongs: u64,
}

impl ConnectionRecord {
    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// The kind of a frame a client sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameKind {
    /// A text frame.
    Text,
    /// A binary frame.
    Binary,
}

/// A data frame a client sent.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReceivedFrame {
    /// The connection.
    pub conn: ConnectionId,
    /// When it was read.
    pub at: Instant,
    /// Text or binary.
    pub kind: FrameKind,
    /// The payload (over 16 KB frames are not kept: the connection is closed instead).
    pub payload: Bytes,
}

impl ReceivedFrame {
    /// A record of a frame read into `payload`: its own copy, because a frame read from a
    /// socket is a view into the connection's read buffer, and a record holding that view
    /// would keep the whole buffer alive (kilobytes for a 60-byte ack) for as long as the
    /// record is kept.
    pub(crate) fn new(conn: ConnectionId, kind: FrameKind, payload: &Bytes) -> Self {
        Self { conn, at: Instant::now(), kind, payload: Bytes::copy_from_slice(payload) }
    }

    /// The payload as text, for text frames.
    pub fn text(&self) -> Option<&str> {
        match self.kind {
            FrameKind::Text => std::str::from_utf8(&self.payload).ok(),
            FrameKind::Binary => None,
        }
    }

    /// The payload parsed as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.payload).ok()
    }

    /// The frame's `type`, if it is a JSON object with a string `type`.
    pub fn message_type(&self) -> Option<String> {
        self.json()?.get("type")?.as_str().map(str::to_owned)
    }
}

/// A message a client posted over the socket (acknowledged with `ok: true`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostedMessage {
    /// The connection it came from.
    pub conn: ConnectionId,
    /// The author.
    pub user: UserId,
    /// The channel.
    pub channel: ChannelId,
    /// The timestamp it got.
    pub ts: Ts,
    /// The text as sent by the client.
    pub text: String,
    /// The text as posted (link-formatted, escaped).
    pub formatted_text: String,
    /// The client's message `id` (its JSON, e.g. `"7"`), if it had one.
    pub client_id: Option<String>,
    /// The thread, for replies.
    pub thread_ts: Option<Ts>,
}

/// A bounded FIFO record that keeps counting what it drops.
#[derive(Debug)]
pub(crate) struct Ring<T> {
    items: VecDeque<T>,
    cap: usize,
    total: u64,
}

impl<T: Clone> Ring<T> {
    pub fn new(cap: usize) -> Self {
        Self { items: VecDeque::new(), cap: cap.max(1), total: 0 }
    }

    pub fn push(&mut self, item: T) {
        if self.items.len() == self.cap {
            self.items.pop_front();
        }
        self.items.push_back(item);
        self.total += 1;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.items.iter()
    }

    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut T> {
        self.items.iter_mut()
    }

    /// The item `i` places after the oldest one kept.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.items.get(i)
    }

    /// The item `i` places after the oldest one kept.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.items.get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_frame_does_not_keep_the_read_buffer() {
        let mut read = bytes::BytesMut::from(&[b'x'; 64 * 1024][..]);
        let frame = read.split_to(60).freeze();
        let record = ReceivedFrame::new(ConnectionId(1), FrameKind::Text, &frame);
        drop(frame);
        assert_eq!(record.payload.len(), 60);
        // Nothing but `read` refers to the buffer any more.
        assert!(read.freeze().is_unique());
    }
}
