//! A test kit for the machine (feature `testing`, and this crate's own tests): the
//! `rtm.connect` answer fixture, a session on a virtual clock with helpers to read its outputs,
//! and one invariant checker shared by the property test and the `machine` fuzz target.
//!
//! Not part of the stable API: it exists so tests, benchmarks and fuzz targets share one
//! harness instead of each writing their own.

mod harness;
mod invariants;

pub use harness::{
    RtmHarness, closes, completions, count_call_connect, events, opened, reconnecting, rtm_texts, sends,
    sends_of,
};
pub use invariants::RtmInvariants;

use slack_rtm_codec::ConnectResponse;
use slack_rtm_codec::types::{Connected, SelfInfo, TeamInfo};
use std::time::Instant;

/// A successful `rtm.connect` answer obtained at `at`: user `U1` ("bot") in team `T1`, socket
/// URL `url`.
pub fn connect_response(url: &str, at: Instant) -> ConnectResponse {
    ConnectResponse {
        connected: Connected {
            self_: SelfInfo::new("U1", "bot"),
            team: TeamInfo::new("T1", "Team", "team"),
            url: url.into(),
        },
        warnings: vec![],
        messages: vec![],
        req_id: None,
        obtained_at: at,
    }
}

/// A reply acknowledging wire id `id` with timestamp `ts`.
pub fn ack(id: u64, ts: &str) -> String {
    format!(r#"{{"ok":true,"reply_to":{id},"ts":"{ts}","text":"t"}}"#)
}
