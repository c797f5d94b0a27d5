//! Sans-IO codec for Slack's Real Time Messaging API and Socket Mode.
//!
//! Everything about the wire that needs no network and no runtime:
//!
//! - [`ConnectConfig::build_request`]: the `rtm.connect` call as an [`http::Request`], token only
//!   in `Authorization: Bearer`.
//! - [`ConnectConfig::parse_response`]: the answer, as a [`ConnectResponse`] or a typed
//!   [`ApiCallError`] (API error, 429 with `Retry-After`, 5xx, HTML page, missing field, unsafe
//!   socket URL), always carrying Slack's `x-slack-req-id`. The same error type for
//!   `apps.connections.open` and every Web API method.
//! - [`decode_event`] / [`encode_client_message`]: RTM text frames; [`decode_event_frame`]
//!   decodes a frame already scanned for its type ([`EventFrame`]) without scanning again.
//! - Socket Mode: [`OpenConfig`] builds `apps.connections.open` (app token only in
//!   `Authorization: Bearer`) and parses its answer into an [`OpenResponse`] or an
//!   [`ApiCallError`] classified like rtm.connect's; [`decode_socket_frame`] decodes a frame,
//!   [`EnvelopeFrame`] gives an envelope's id and type before any decode (the ack must not
//!   wait), [`encode_ack`] refuses an ack of 20 KB or more.
//! - [`web`]: every other Web API method — request building, answer parsing, the retry rules
//!   (reads vs writes) and Slack's rate-limit tiers, all sans-IO.
//! - [`http_mode`]: Slack's Request URLs — the `v0` request signature and the receiver's
//!   rules (verify, then classify), sans-IO.
//! - [`HttpTransport`]: the one trait an HTTP client implements to be used by every layer above;
//!   closures implement it, so another runtime plugs in with a few lines.
//!
//! ```
//! use slack_rtm_codec::{ConnectConfig, Token};
//! use std::time::Instant;
//!
//! let config = ConnectConfig::default();
//! let request = config.build_request(&Token::new("xoxb-not-a-real-token")).unwrap();
//! assert_eq!(request.uri().path(), "/api/rtm.connect");
//!
//! // ... send it with any HTTP client, then:
//! let response = http::Response::builder()
//!     .status(200)
//!     .header("content-type", "application/json")
//!     .body(br#"{"ok":true,"self":{"id":"U1","name":"bot"},
//!               "team":{"id":"T1","name":"Team","domain":"team"},"url":"wss://example.invalid/ws"}"#.to_vec())
//!     .unwrap();
//! let connected = config.parse_response(&response, Instant::now()).unwrap();
//! assert_eq!(connected.connected.team.domain, "team");
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod advice;
mod api_error;
mod encode;
mod frame;
pub mod http_mode;
pub mod oauth;
mod reply;
mod request;
mod response;
mod socket_mode;
mod stream;
mod transport;
pub mod web;

pub use advice::ErrorDetail;
pub use api_error::{ApiCallError, ApiFailure, ErrorKind};
pub use encode::check_client_message;
pub use frame::{
    DecodeError, MAX_JSON_DEPTH, SESSION_EVENT_TYPES, decode_event, decode_event_bytes, decode_event_frame,
    decode_message_view, encode_client_message, is_session_event_type, needs_machine,
};
pub use reply::decode_plain_reply;
pub use request::{ApiBase, BuildError, ConnectConfig, DEFAULT_API_BASE, HttpMethod, USER_AGENT};
pub use response::{ConnectResponse, DEFAULT_RETRY_AFTER, MAX_RESPONSE_BYTES, REQ_ID_HEADER};
pub use socket_mode::{
    APPS_CONNECTIONS_OPEN, AckEncodeError, OpenConfig, OpenResponse, decode_envelope_frame,
    decode_socket_frame, decode_socket_frame_bytes, encode_ack, encode_ack_of, encode_ack_of_into,
};
pub use stream::{BodySource, LengthMismatch, StreamingBody};
pub use transport::{
    BoxError, BoxResponseFuture, DynHttpTransport, HttpTransport, Reach, TransportFailure, connect_once,
    open_once,
};

pub use slack_rtm_types as types;
pub use slack_rtm_types::socket_mode::{EnvelopeAck, EnvelopeFrame, SocketFrame};
pub use slack_rtm_types::{AppToken, ClientMessage, ConnectOptions, Connected, Event, EventFrame, Token};

/// `docs/architecture.md`, whose Rust example is compiled as a doc test so the document stays
/// true.
#[doc = include_str!("../../../docs/architecture.md")]
#[cfg(doctest)]
pub struct DocsArchitecture;
