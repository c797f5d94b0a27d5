//! Machine tests on a virtual clock (the harness is [`super::testing`]): every `Instant` is
//! `t0 + something`, nothing sleeps. One file per concern, like the machine itself.

mod connect;
mod goodbye;
mod keepalive;
mod outbox;
mod prop;
mod shutdown;
mod timer;

use super::testing::{
    RtmHarness as H, ack, closes, completions, connect_response as response, count_call_connect, events,
    opened, reconnecting, rtm_texts, sends, sends_of,
};
use super::*;
use slack_rtm_codec::EventFrame;
use slack_rtm_codec::types::client::Ping;
use slack_rtm_codec::types::{ApiError, Event};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

/// The default configuration with a fixed jitter seed.
fn config() -> SessionConfig {
    let mut c = SessionConfig::default();
    c.reconnect.jitter_seed = Some(7);
    c
}

/// A frame as a driver scans it.
fn scanned(text: &str) -> EventFrame {
    EventFrame::copy_from(text).expect("a frame with a readable type")
}

/// A raw text frame on `conn`.
fn raw(conn: ConnId, frame: EventFrame) -> RtmInput {
    RtmInput::Frame { conn, frame: RtmIncoming::Event(frame) }
}

fn fast_rate() -> SendRate {
    SendRate { interval: MS, burst: 1000, ..SendRate::default() }
}

/// A frame read from the socket is moved as an [`RtmInput`] several times on its way to the
/// machine (the reader's batch, the inbox, the loop): the rare large variants
/// (`ConnectResult`, an `rtm.connect` answer of a few hundred bytes, and `SocketClosed`'s
/// `Reason`) are boxed so that every frame does not pay for their size.
#[test]
fn an_input_is_no_larger_than_a_frame_read() {
    let input = std::mem::size_of::<RtmInput>();
    let answer = std::mem::size_of::<Result<slack_rtm_codec::ConnectResponse, ConnectFailure>>();
    // 48 bytes now (a frame read: its connection and what was read); 104 with a socket's close
    // reason unboxed, 296 with the connect answer unboxed.
    let frame = std::mem::size_of::<crate::rtm::RtmIncoming>() + std::mem::size_of::<crate::rtm::ConnId>();
    assert!(
        input <= frame && input < answer,
        "RtmInput is {input} bytes, a frame read {frame}, a connect answer {answer}"
    );
}

/// Every message sent moves an [`RtmOutput`] (its `Send`, then its `Completed`) several times
/// between the machine and the driver: the session's own events, rare, are boxed so that those
/// do not pay for the size of a [`SessionEvent`] (200 bytes).
#[test]
fn an_output_is_not_as_large_as_an_event() {
    let output = std::mem::size_of::<RtmOutput>();
    let event = std::mem::size_of::<SessionEvent>();
    let completed = std::mem::size_of::<Result<crate::rtm::RtmAck, crate::rtm::SendError>>();
    // 64 bytes now (a completion: its request id and its outcome); 200 with the event unboxed.
    assert!(output <= completed + 16 && output < event, "RtmOutput is {output} bytes, an event {event}");
}
