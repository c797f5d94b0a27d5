//! Scripting and faults: what the handle can make the emulator do.

use crate::record::ConnectionId;
use bytes::Bytes;
use slack_rtm_types::{ApiError, UserId};
use std::time::Duration;

/// Which connections a scripted action applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// Every open connection.
    All,
    /// One connection.
    Conn(ConnectionId),
    /// Every open connection of a user.
    User(UserId),
}

impl From<ConnectionId> for Target {
    fn from(id: ConnectionId) -> Self {
        Target::Conn(id)
    }
}

impl From<UserId> for Target {
    fn from(user: UserId) -> Self {
        Target::User(user)
    }
}

/// A frame sent verbatim, e.g. to test a client's handling of bad input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawFrame {
    /// A text frame (the bytes are sent as they are, valid UTF-8 or not).
    Text(Bytes),
    /// A binary frame.
    Binary(Bytes),
    /// A WebSocket ping frame (payload at most 125 bytes).
    Ping(Bytes),
    /// A close frame with a code and reason; the connection then ends.
    Close(u16, String),
    /// A text frame whose header announces all of these bytes but of which only the first
    /// half is written; then the TCP connection is dropped without a close frame (a connection
    /// cut in the middle of a frame).
    CutMidFrame(Bytes),
    /// One text message split into frames of at most `chunk` bytes (a first text frame, then
    /// continuation frames, the last with FIN): exercises a client's reassembly and its limit
    /// on a reassembled message's size.
    Fragmented {
        /// The whole message.
        payload: Bytes,
        /// Largest fragment (at least 1).
        chunk: usize,
    },
}

impl RawFrame {
    /// A text frame of this string.
    pub fn text(s: impl Into<String>) -> Self {
        RawFrame::Text(Bytes::from(s.into()))
    }

    /// Malformed JSON in a text frame.
    pub fn malformed_json() -> Self {
        RawFrame::Text(Bytes::from_static(br#"{"type":"message","text":"unterminated"#))
    }

    /// A text frame whose payload is not valid UTF-8 (a protocol violation).
    pub fn invalid_utf8() -> Self {
        RawFrame::Text(Bytes::from_static(b"{\"type\":\"message\",\"text\":\"\xff\xfe\"}"))
    }

    /// A binary frame (RTM never sends them).
    pub fn binary() -> Self {
        RawFrame::Binary(Bytes::from_static(b"\x00\x01binary\xff"))
    }

    /// A valid JSON `message` event whose frame is `bytes` long (at least 100): for testing a
    /// client's frame-size limit.
    pub fn oversized(bytes: usize) -> Self {
        let head = r#"{"type":"message","channel":"C0EMU00001","user":"U0EMU00001","ts":"1.000001","text":""#;
        let tail = r#""}"#;
        let fill = bytes.saturating_sub(head.len() + tail.len()).max(1);
        let mut s = String::with_capacity(head.len() + fill + tail.len());
        s.push_str(head);
        s.extend(std::iter::repeat_n('x', fill));
        s.push_str(tail);
        RawFrame::Text(Bytes::from(s))
    }
}

/// Tampering with replies (acks, error replies and pongs: every frame with `reply_to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyFault {
    /// Replies flow normally (clears any fault; withheld replies stay withheld until
    /// [`crate::Emulator::release_withheld`]).
    None,
    /// Keep the next `n` replies back until [`crate::Emulator::release_withheld`] (or forever).
    Withhold(u32),
    /// Delay every reply by this much, until cleared.
    Delay(Duration),
    /// Collect the next `n` replies and send them in reverse order.
    Reverse(u32),
}

/// How to answer one of the next `rtm.connect` calls instead of normally.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// HTTP 200 `{"ok":false,"error":"<code>"}`.
    Api(ApiError),
    /// This HTTP status with a JSON `{"ok":false,"error":"fatal_error"}` body.
    Status(u16),
    /// This HTTP status with an HTML page (as a load balancer would answer).
    Html(u16),
    /// HTTP 200 claiming a full JSON body, of which only the first half is sent before the
    /// connection is cut.
    Truncated,
    /// HTTP 429 `{"ok":false,"error":"ratelimited"}` with `Retry-After` (whole seconds).
    RateLimited {
        /// The `Retry-After` value.
        retry_after: Duration,
    },
    /// A successful answer whose socket URL is already expired.
    ExpiredUrl,
}

/// Commands to a connection's task.
#[derive(Debug)]
pub(crate) enum Cmd {
    /// An event (text frame) that waits for `hello` and respects stalls.
    Event(Bytes),
    /// A raw frame, sent at once.
    Raw(RawFrame),
    /// Send `hello` now (delayed hello).
    Hello,
    /// `goodbye`, then close after the configured grace.
    Goodbye,
    /// `team_migration_started`, then close.
    TeamMigration,
    /// Close with a close frame.
    Close(u16, String),
    /// Close the TCP connection without a close frame.
    Drop,
    /// Stop or resume reading and answering.
    Stall(bool),
    /// Change the reply fault.
    ReplyFault(ReplyFault),
    /// Send the withheld replies, in order.
    ReleaseWithheld,
    /// A reply whose delay elapsed.
    DelayedReply(Bytes),
    /// Blast this many events.
    #[cfg(feature = "blast")]
    Blast(u64),
    /// The emulator shuts down.
    Shutdown,
}
