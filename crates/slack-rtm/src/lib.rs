//! # slack-rtm
//!
//! A fast, reliable client for Slack's real-time APIs — Socket Mode, the classic Real Time
//! Messaging API, the Web API — and an app layer on top: register listeners on an [`App`],
//! run it, and slack-rtm does the plumbing (acks within 3 s, `response_url`s, ignoring your
//! own messages, reconnects, redeliveries, rate limits).
//!
//! ## A complete app
//!
//! ```
//! use slack_rtm::app::{App, MessageResponse};
//! use slack_rtm::SocketModeClient;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! #   let emu = slack_rtm_emulator::Emulator::start(Default::default()).await?;
//! #   let (app_token, bot_token) = (emu.app_token(), emu.token());
//!     // let (app_token, bot_token) = (std::env::var("SLACK_APP_TOKEN")?, std::env::var("SLACK_BOT_TOKEN")?);
//!     let mut app = App::new();
//!     app.command("/echo", |cmd, ack, _ctx| async move {
//!         ack.ack_with(MessageResponse::text(cmd.text)).await?; // the reply, in the ack
//!         Ok(())
//!     });
//!     app.message("hello", |_msg, ctx| async move {
//!         ctx.say("hi there").await?; // in the message's channel (and thread)
//!         Ok(())
//!     });
//!     app.action("approve", |action, ack, ctx| async move {
//!         ack.ack().await?;
//!         ctx.respond(MessageResponse::replace_original(format!("Approved by <@{}>", action.user.id))).await?;
//!         Ok(())
//!     });
//!     let builder = SocketModeClient::builder(app_token).web_token(bot_token);
//! #   let builder = builder.api_url(&emu.api_url()).allow_insecure(true);
//!     let running = app.start_socket_mode(builder).await?;
//! #   let alice = emu.user(&emu.second_user().user);
//! #   let cmd = alice.run_command(&emu.general_channel(), "/echo", "hi");
//! #   let ack = emu.wait_for_ack(cmd.seq, std::time::Duration::from_secs(10)).await?;
//! #   assert_eq!(ack.payload, Some(serde_json::json!({"text": "hi"})));
//!     let ctrl_c = async { tokio::signal::ctrl_c().await.unwrap_or_default() };
//! #   let ctrl_c = std::future::ready(()); // the doc test stops at once
//!     running.run_until(ctrl_c, std::time::Duration::from_secs(5)).await; // graceful
//!     Ok(())
//! }
//! ```
//!
//! Listeners take events by type, messages by pattern, slash commands, block actions,
//! shortcuts, view submissions and options requests; each gets a [`Context`](app::Context)
//! (`say`, `respond`, the [`WebClient`], the ids) and, for what Slack answers in the ack, an
//! [`Ack`](app::Ack). Middleware, concurrency, graceful shutdown: see [`app`] and
//! `docs/app.md`; testing an app against the bundled emulator: `docs/testing.md`.
//!
//! ## An RTM bot
//!
//! The classic RTM API, for classic apps and user tokens: one call gives you a
//! live session — typed events in, acknowledged messages out — that reconnects by itself,
//! keeps the connection alive, respects Slack's rate limits, and never loses or double-posts a
//! message without telling you.
//!
//! ```
//! use slack_rtm::Client;
//! use slack_rtm::rtm::{Event, SessionEvent};
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
//! An application that reads only a few fields of each event, or skips most events, reads them
//! with [`Events::next_lazy`] instead: each server event comes as a
//! [`LazyEvent`](rtm::LazyEvent) holding the frame Slack sent and its type, a message's common
//! fields are borrowed from the frame ([`LazyEvent::message`](rtm::LazyEvent::message)), and the
//! typed [`Event`](rtm::Event) is decoded only if asked for
//! ([`LazyEvent::decode`](rtm::LazyEvent::decode)).
//!
//! ## What the session does for you
//!
//! - **Connecting**: calls `rtm.connect` (token only in the `Authorization` header), opens the
//!   single-use URL within its 30 s life, waits for `hello`.
//! - **Keepalive**: an application-level ping after 10 s of silence; a connection that does
//!   not answer within 5 s more is replaced (at most 15 s after its last frame).
//! - **Reconnecting** on `goodbye`, `team_migration_started`, errors, drops and dead
//!   keepalives, with exponential backoff and full jitter, honouring `Retry-After`. `goodbye`
//!   reconnects make-before-break, and events seen on both sockets are delivered once. A
//!   [`SessionEvent::Gap`](rtm::SessionEvent::Gap) tells you when events may have been missed.
//! - **Fatal errors stop it**: `invalid_auth`, `account_inactive`, `not_allowed_token_type`, …
//!   end the session with [`SessionEvent::Stopped`](rtm::SessionEvent::Stopped) instead of looping.
//! - **Sending**: every message resolves to its ack ([`Posted`](rtm::Posted)) or a typed [`SendError`](rtm::SendError).
//!   Messages not yet written when a connection drops go out after the next `hello`, exactly
//!   once; a message whose connection died after writing it is reported
//!   [`SendError::Unconfirmed`](rtm::SendError::Unconfirmed) — never silently lost, never posted twice.
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
//! [`Delivery`](socket_mode::Delivery) (an Events API event, a slash command, an interaction) and lifecycle items.
//! This app answers a slash command in its ack and an `app_mention` through the Web API. It
//! handles **each envelope in a task of its own**: Slack wants every ack within 3 s, and a
//! handler that waits (a Web API call held by a rate limit, a slow service) would otherwise
//! hold up the acks of the envelopes queued behind it — Slack then delivers them again.
//!
//! ```
//! use slack_rtm::socket_mode::{ApiEvent, Payload};
//! use slack_rtm::socket_mode::{AckMode, Delivery, SocketModeItem};
//! use slack_rtm::{SocketModeClient, WebClient};
//!
//! type BoxError = Box<dyn std::error::Error + Send + Sync>;
//!
//! async fn handle(delivery: Delivery, web: WebClient) -> Result<(), BoxError> {
//!     match delivery.payload() {
//!         Payload::SlashCommand(cmd) => {
//!             let reply = serde_json::json!({ "text": format!("Sunny in {}", cmd.text) });
//!             delivery.ack_with(reply).await?;
//!         }
//!         Payload::EventsApi(callback) => {
//!             delivery.ack().await?; // first: Slack redelivers after 3 s without it
//!             if let ApiEvent::AppMention(m) = callback.event {
//!                 web.post_message(m.channel, "hello!").in_thread(m.ts).await?;
//!             }
//!         }
//!         _ => delivery.ack().await?,
//!     }
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), BoxError> {
//! #   let emu = slack_rtm_emulator::Emulator::start(Default::default()).await?;
//! #   let (app_token, bot_token) = (emu.app_token(), emu.token());
//!     // let (app_token, bot_token) = (std::env::var("SLACK_APP_TOKEN")?, std::env::var("SLACK_BOT_TOKEN")?);
//!     let (client, mut items) = SocketModeClient::builder(app_token)
//! #       .api_url(&emu.api_url()).allow_insecure(true)
//!         .web_token(bot_token) // for client.web()
//!         .ack_mode(AckMode::Manual) // so a slash command can be answered in its ack
//!         .connect()
//!         .await?;
//!     let web = client.web().expect("a web token was given").clone(); // cheap: shared limiter
//! #   let (user, channel) = (emu.second_user().user, emu.general_channel());
//! #   emu.send_slash_command(&user, &channel, "/weather", "Paris");
//! #   let ts = emu.post_message(&channel, &user, "hi bot").unwrap();
//! #   emu.send_api_event(serde_json::json!({"type": "app_mention", "user": user, "text": "hi bot", "channel": channel, "ts": ts}));
//!     let mut tasks = tokio::task::JoinSet::new();
//! #   let mut seen = 0;
//!     while let Some(item) = items.next().await {
//!         let SocketModeItem::Envelope(delivery) = item else { continue };
//!         // One task per envelope: the next one is read (and can be acked) at once.
//!         tasks.spawn(handle(delivery, web.clone()));
//!         while let Some(done) = tasks.try_join_next() {
//!             if let Err(e) = done? {
//!                 eprintln!("handler failed: {e}");
//!             }
//!         }
//! #       seen += 1; if seen == 2 { break; }
//!     }
//! #   while let Some(done) = tasks.join_next().await { done??; }
//!     client.shutdown().await;
//! #   assert!(emu.acks().iter().any(|a| a.payload == Some(serde_json::json!({"text": "Sunny in Paris"}))));
//!     Ok(())
//! }
//! ```
//!
//! In the default [`AckMode::Auto`](socket_mode::AckMode::Auto) the session acks each envelope before you see it, so a slow
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
//! ([`ApiFailure::OutcomeUnknown`](web::ApiFailure::OutcomeUnknown)). After a [`SessionEvent::Gap`](rtm::SessionEvent::Gap), [`GapRefill`](rtm::GapRefill) fetches
//! the messages the socket missed. See `docs/web-api.md`.
//!
//! ## Who can use RTM
//!
//! Classic Slack apps (bot tokens with the plain `bot` scope) and user tokens with the
//! `client` scope. Apps with granular permissions get `not_allowed_token_type` (a fatal
//! [`ApiError`](types::ApiError)): they must use Socket Mode. No new classic app can be created; the end of the
//! existing ones is paused (Slack's migration guide: they keep working for the foreseeable
//! future).
//!
//! ## Features
//!
//! - `hyper` (default): the built-in HTTP transport ([`HyperTransport`](transport::HyperTransport)) and the TLS
//!   configuration it shares with the socket.
//! - `aws-lc-rs` (default): the crypto provider of every TLS connection — the Web API calls,
//!   the sockets, the emulator's TLS mode. It prefers the post-quantum hybrid key exchange
//!   X25519MLKEM768 (falling back to classical groups with servers that lack it). Building it
//!   needs a C compiler (no CMake on x86_64 and aarch64 Linux).
//! - `ring`: the ring provider instead: classical key exchange only, a smaller build. Switch
//!   with `default-features = false, features = ["ring", "webpki-roots"]`; aws-lc-rs is then
//!   not in the dependency graph. With both features on, aws-lc-rs is used (so a dependency
//!   that enables `ring` never turns post-quantum off). With neither, the transport uses the
//!   process-wide provider the application installed
//!   ([`rustls::crypto::CryptoProvider::install_default`]) or fails to build with a
//!   configuration error; a [`ClientBuilder::tls_config`] of your own needs neither.
//! - `webpki-roots` (default): trust Mozilla's root certificates (compiled in).
//! - `native-roots`: trust the operating system's certificates instead, for the API calls and
//!   the socket alike: `default-features = false, features = ["aws-lc-rs", "native-roots"]`
//!   keeps webpki-roots out of the graph. With both on, the native roots are used.
//!
//! The provider is always passed to rustls explicitly, never taken from the process default,
//! so having both in the graph never panics.
//! - `emulator`: re-exports the `slack_rtm::emulator` module, a local Slack for your tests (its TLS mode uses the
//!   provider chosen above).
//!
//! ## Layers
//!
//! This crate is a thin facade. The root holds the two clients, their builders and item
//! streams, [`App`], [`WebClient`] and the errors ([`Error`], [`ErrorKind`], [`ApiCallError`]:
//! one error for any failed Slack API call; [`StopReason`]: why either session stopped, one
//! type for both). The rest lives in modules: [`rtm`] (the RTM
//! session, its events and settings, and its runtime-free state machine in [`rtm::machine`]),
//! [`socket_mode`], [`web`], [`app`], [`transport`] (the HTTP transport trait, the built-in
//! transport, the socket dialer), [`types`] (the protocol types alone, serde only) and
//! [`codec`] (sans-IO). `docs/migration.md` lists where each earlier root name went.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod app;
mod builder;
mod client;
#[cfg(feature = "hyper")]
mod dial;
mod error;
mod gap;
mod net;
pub mod rtm;
pub mod socket_mode;
pub mod transport;
pub mod web;

pub use app::App;
pub use builder::ClientBuilder;
pub use client::{Client, Events};
pub use error::{Error, ErrorKind};
pub use slack_rtm_session::common::StopReason;
pub use socket_mode::{SocketModeClient, SocketModeClientBuilder, SocketModeItems};
pub use web::{ApiCallError, WebClient};

/// The sans-IO codec: requests, answers, frames, signatures, retry rules.
pub use slack_rtm_codec as codec;
/// The protocol types alone (serde only): events, ids, tokens, Block Kit, error codes.
pub use slack_rtm_types as types;

/// A local Slack for tests (feature `emulator`): see [`emulator::Emulator`].
#[cfg(feature = "emulator")]
pub use slack_rtm_emulator as emulator;

/// `docs/app.md`, whose Rust examples are compiled as doc tests.
#[doc = include_str!("../../../docs/app.md")]
#[cfg(doctest)]
pub struct DocsApp;

/// `docs/testing.md`, whose Rust examples are compiled (and run) as doc tests.
#[doc = include_str!("../../../docs/testing.md")]
#[cfg(doctest)]
pub struct DocsTesting;

/// `docs/web-api.md`, whose Rust examples are compiled as doc tests so the document stays
/// true.
#[doc = include_str!("../../../docs/web-api.md")]
#[cfg(doctest)]
pub struct DocsWebApi;

/// `docs/ai.md`, whose Rust examples are compiled as doc tests so the document stays true.
#[doc = include_str!("../../../docs/ai.md")]
#[cfg(doctest)]
pub struct DocsAi;
