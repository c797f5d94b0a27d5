//! # slack-rtm
//!
//! A fast, reliable client for Slack's Real Time Messaging (RTM) API: one call gives you a
//! live session — typed events in, acknowledged messages out — that reconnects by itself,
//! keeps the connection alive, respects Slack's rate limits, and never loses or double-posts a
//! message without telling you.
//!
//! ## A complete bot
//!
//! ```
//! use slack_rtm::{Client, Event, SessionEvent};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! #   let emu = slack_rtm_emulator::Emulator::start(Default::default()).await?;
//! #   let token = emu.token();
//!     // let token = std::env::var("SLACK_TOKEN")?;
//!     let (client, mut events) = Client::builder(token)
//! #       .api_url(&emu.api_url()).allow_insecure(true)
//!         .connect()
//!         .await?;
//!     let me = client.self_info().map(|s| s.id);
//! #   emu.post_message(&emu.general_channel(), &emu.second_user().user, "ping");
//!     while let Some(event) = events.next().await {
//!         if let SessionEvent::Rtm(Event::Message(msg)) = event {
//!             if msg.user.is_none() || msg.user == me || msg.bot_id.is_some() || msg.subtype.is_some() {
//!                 continue; // skip bots, ourselves, edits and joins
//!             }
//!             let (Some(channel), Some(ts)) = (msg.channel, msg.ts) else { continue };
//!             let text = format!("you said: {}", msg.text.unwrap_or_default());
//!             let posted = client.send_message(channel, text).in_thread(ts).await?;
//!             println!("replied, ts {:?}", posted.ts);
//! #           break;
//!         }
//!     }
//!     client.shutdown().await;
//!     Ok(())
//! }
//! ```
//!
//! ## What the session does for you
//!
//! - **Connecting**: calls `rtm.connect` (token only in the `Authorization` header), opens the
//!   single-use URL within its 30 s life, waits for `hello`.
//! - **Keepalive**: an application-level ping after 5 s of silence; a connection that stays
//!   silent is replaced.
//! - **Reconnecting** on `goodbye`, `team_migration_started`, errors, drops and dead
//!   keepalives, with exponential backoff and full jitter, honouring `Retry-After`. `goodbye`
//!   reconnects make-before-break, and events seen on both sockets are delivered once. A
//!   [`SessionEvent::Gap`] tells you when events may have been missed.
//! - **Fatal errors stop it**: `invalid_auth`, `account_inactive`, `not_allowed_token_type`, …
//!   end the session with [`SessionEvent::Stopped`] instead of looping.
//! - **Sending**: every message resolves to its ack ([`Posted`]) or a typed [`SendError`].
//!   Messages not yet written when a connection drops go out after the next `hello`, exactly
//!   once; a message whose connection died after writing it is reported
//!   [`SendError::Unconfirmed`] — never silently lost, never posted twice.
//! - **Flow control**: 1 message/s sustained with a small burst (Slack's limit); a "slow
//!   down" reply slows it further; `typing` at most once per 3 s per channel; a bounded queue.
//! - **Presence**: [`Client::subscribe_presence`] is re-sent after every reconnect; both
//!   `presence_change` forms arrive as one type.
//!
//! See `docs/delivery.md` in the repository for the exact guarantees.
//!
//! ## Socket Mode
//!
//! Apps created today get their events through Socket Mode: an app-level token (`xapp-…`),
//! several sockets kept open, every envelope acked within 3 s and handed to you once.
//! [`SocketModeClient::builder`] starts a session; [`SocketModeItems`] yields each
//! [`Delivery`] (an Events API event, a slash command, an interaction) and lifecycle items.
//! This app answers a slash command in its ack and an `app_mention` through the Web API:
//!
//! ```
//! use slack_rtm::socket_mode::{ApiEvent, Payload};
//! use slack_rtm::{AckMode, SocketModeClient, SocketModeItem};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! #   let emu = slack_rtm_emulator::Emulator::start(Default::default()).await?;
//! #   let (app_token, bot_token) = (emu.app_token(), emu.token());
//!     // let (app_token, bot_token) = (std::env::var("SLACK_APP_TOKEN")?, std::env::var("SLACK_BOT_TOKEN")?);
//!     let (client, mut items) = SocketModeClient::builder(app_token)
//! #       .api_url(&emu.api_url()).allow_insecure(true)
//!         .web_token(bot_token) // for client.web()
//!         .ack_mode(AckMode::Manual) // so a slash command can be answered in its ack
//!         .connect()
//!         .await?;
//! #   let (user, channel) = (emu.second_user().user, emu.general_channel());
//! #   emu.slash_command(&user, &channel, "/weather", "Paris");
//! #   let ts = emu.post_message(&channel, &user, "hi bot").unwrap();
//! #   emu.send_api_event(serde_json::json!({"type": "app_mention", "user": user, "text": "hi bot", "channel": channel, "ts": ts}));
//!     while let Some(item) = items.next().await {
//!         let SocketModeItem::Envelope(delivery) = item else { continue };
//!         match delivery.payload() {
//!             Payload::SlashCommand(cmd) => {
//!                 let reply = serde_json::json!({ "text": format!("Sunny in {}", cmd.text) });
//!                 delivery.ack_with(reply).await?;
//!             }
//!             Payload::EventsApi(callback) => {
//!                 delivery.ack().await?; // first: Slack redelivers after 3 s without it
//!                 if let ApiEvent::AppMention(m) = callback.event {
//!                     let web = client.web().expect("a web token was given");
//!                     web.post_message(m.channel, "hello!").in_thread(m.ts).await?;
//! #                   break;
//!                 }
//!             }
//!             _ => delivery.ack().await?,
//!         }
//!     }
//!     client.shutdown().await;
//! #   assert!(emu.acks().iter().any(|a| a.payload == Some(serde_json::json!({"text": "Sunny in Paris"}))));
//!     Ok(())
//! }
//! ```
//!
//! In the default [`AckMode::Auto`] the session acks each envelope before you see it, so a slow
//! handler never causes a redelivery. Redeliveries of an event already handed over (same
//! `event_id`, any socket) are acked and not handed over again. See `docs/socket-mode.md`.
//!
//! ## The Web API
//!
//! RTM's socket carries plain text; rich messages, reactions, history and modals go through
//! the Web API. [`Client::web`] gives a [`WebClient`] over the session's own transport, proxy
//! and TLS settings ([`ClientBuilder::build_web`] makes one without a session): any method
//! with [`WebClient::call`], typed helpers such as [`WebClient::post_message`], pages of
//! history, Slack's rate limits waited out, reads retried, writes never sent twice
//! ([`WebCallError::OutcomeUnknown`]). After a [`SessionEvent::Gap`], [`GapRefill`] fetches
//! the messages the socket missed. See `docs/web-api.md`.
//!
//! ## Who can use RTM
//!
//! Classic Slack apps (bot tokens with the plain `bot` scope) and user tokens with the
//! `client` scope. Apps with granular permissions get `not_allowed_token_type` (a fatal
//! [`ApiError`]): they must use Socket Mode.
//!
//! ## Features
//!
//! - `hyper` (default): the built-in HTTP transport ([`HyperTransport`]) and the TLS
//!   configuration shared with the socket, with webpki roots.
//! - `ring` (default): the `ring` crypto provider for both.
//! - `aws-lc-rs`: use the aws-lc-rs crypto provider instead of ring, for the API calls and the
//!   socket alike. With default features off, ring is then not in the dependency graph at all
//!   (the session crate never picks a provider: it uses the TLS configuration given to it).
//! - `native-roots`: trust the operating system's certificates instead of webpki roots, for
//!   the API calls and the socket alike.
//! - `emulator`: re-exports [`emulator`], a local Slack for your tests.
//!
//! ## Layers
//!
//! This crate is a thin facade. The types alone are in [`types`] (serde only); the sans-IO
//! codec in [`codec`]; the session's runtime-free state machine in [`machine`], for driving it
//! from another runtime or WebSocket library.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod app;
mod builder;
mod client;
#[cfg(feature = "hyper")]
mod dial;
mod error;
mod gap;
pub mod socket_mode;
pub mod web;

pub use app::App;
pub use builder::ClientBuilder;
pub use client::{Client, DEFAULT_SHUTDOWN_GRACE, Events, Posted, SendMessage};
pub use error::{Error, ErrorKind};
pub use gap::{GapRefill, Refill};
pub use socket_mode::{
    AckError, AckMode, Delivery, SocketModeClient, SocketModeClientBuilder, SocketModeItem, SocketModeItems,
};
pub use web::{
    ChatStream, ChatStreamBuilder, Pages, PostMessageCall, StreamConfig, StreamError, StreamReport,
    WebCallError, WebClient, WebResponse,
};

pub use slack_rtm_codec as codec;
pub use slack_rtm_codec::{
    BoxError, ConnectConfig, ConnectError, ConnectResponse, DynHttpTransport, HttpTransport,
};
pub use slack_rtm_session::driver::{BoxedIo, DialFuture, Dialer, DirectDialer, SocketIo, Status};
pub use slack_rtm_session::machine;
pub use slack_rtm_session::machine::{
    Ack, Fatal, KeepaliveConfig, Reason, ReconnectPolicy, SendError, SendRate, SessionConfig, SessionEvent,
    State, Warning,
};
pub use slack_rtm_types as types;
pub use slack_rtm_types::event;
pub use slack_rtm_types::{
    ApiError, ApiWarning, BotId, ChannelId, ClientMessage, ConnectOptions, EnterpriseId, Event,
    OutgoingMessage, RawJson, SelfInfo, TeamId, TeamInfo, Token, Ts, UserId,
};

/// The `http` crate, for writing a custom [`HttpTransport`].
pub use http;

#[cfg(feature = "hyper")]
pub use slack_rtm_hyper::HyperTransport;

/// A local Slack for tests (feature `emulator`): see [`emulator::Emulator`].
#[cfg(feature = "emulator")]
pub use slack_rtm_emulator as emulator;

/// `docs/web-api.md`, whose Rust examples are compiled as doc tests so the document stays
/// true.
#[doc = include_str!("../../../docs/web-api.md")]
#[cfg(doctest)]
pub struct DocsWebApi;

/// `docs/ai.md`, whose Rust examples are compiled as doc tests so the document stays true.
#[doc = include_str!("../../../docs/ai.md")]
#[cfg(doctest)]
pub struct DocsAi;
