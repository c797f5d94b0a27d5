//! A test kit for the Socket Mode machine (feature `testing`, and this crate's own tests): the
//! `apps.connections.open` answer fixture, a session on a virtual clock ([`SocketModeHarness`]), and one
//! invariant checker ([`SocketModeInvariants`]) shared by the property test and the `socket_mode` fuzz
//! target — the same shape as the RTM machine's
//! [`rtm::testing`](crate::rtm::testing).
//!
//! Not part of the stable API: it exists so tests and fuzz targets share one harness instead of
//! each writing their own.

mod harness;
mod invariants;

pub use harness::{SocketModeHarness, calls, closes, delivered, events, sent};
pub use invariants::SocketModeInvariants;

use slack_rtm_codec::OpenResponse;
use std::time::Instant;

/// A successful `apps.connections.open` answer obtained at `at`, with socket URL `url`.
pub fn open_response(url: &str, at: Instant) -> OpenResponse {
    OpenResponse { url: url.into(), warnings: vec![], req_id: None, obtained_at: at }
}
