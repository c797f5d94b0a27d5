//! Pure protocol types for Slack's Real Time Messaging (RTM) API and Socket Mode.
//!
//! This crate has no IO and depends only on `serde` and `serde_json`, so a service that only
//! stores or forwards RTM events can use it without pulling in a runtime.
//!
//! - [`ids`]: typed identifiers ([`UserId`], [`ChannelId`], [`Ts`], ...).
//! - [`Token`]: a secret whose `Debug`/`Display` never show it.
//! - [`connect`]: the `rtm.connect` arguments ([`ConnectOptions`]) and answer ([`Connected`]).
//! - [`error`]: every documented `rtm.connect` error and warning code ([`ApiError`],
//!   [`ApiWarning`]).
//! - [`event`]: the events a server sends on the socket ([`Event`]), decoded by
//!   [`Event::from_json`], which never fails on valid JSON of any shape; [`EventFrame`] keeps a
//!   frame with its already-found type, to route it first and decode it later in one pass.
//!   Lossless: every typed event keeps the fields it does not model ([`event::Extra`]), so
//!   re-encoding gives back the JSON it came from.
//! - [`blocks`]: Block Kit, typed, with Slack's limits checked before a call.
//! - [`client`]: the messages a client sends ([`ClientMessage`]) with their limits.
//! - [`socket_mode`]: Socket Mode's frames ([`socket_mode::SocketFrame`]), envelopes and their
//!   payloads, and the ack; [`AppToken`] is the app-level token it needs.
//! - [`web`]: arguments and answers of the Web API calls a real-time bot makes
//!   (`chat.postMessage`, `conversations.history`, `views.open`, …).
//!
//! ```
//! use slack_rtm_types::Event;
//!
//! let ev = Event::from_json(r#"{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.000001"}"#)
//!     .expect("valid JSON");
//! match ev {
//!     Event::Message(m) => assert_eq!(m.text.as_deref(), Some("hi")),
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod app_token;
pub mod blocks;
pub mod client;
pub mod connect;
pub mod error;
// `#[macro_use]`: `wire_enum!` (defined there) is also used by `socket_mode`.
#[macro_use]
pub mod event;
mod events_head;
pub mod ids;
pub mod oauth;
mod raw;
mod raw_head;
mod scan;
mod scan_envelope;
pub mod socket_mode;
mod token;
pub mod web;

pub use app_token::{AppToken, AppTokenError};
pub use client::{ClientMessage, ClientMessageError, OutgoingMessage};
pub use connect::{ConnectOptions, Connected, SelfInfo, TeamInfo};
pub use error::{ApiError, ApiWarning};
pub use event::{Event, EventFrame};
pub use events_head::EventsApiHead;
pub use ids::{BotId, ChannelId, EnterpriseId, TeamId, Ts, UserId};
pub use raw::RawJson;
pub use scan::{find_string_special, json_depth_over};
pub use token::{Token, TokenKind};
