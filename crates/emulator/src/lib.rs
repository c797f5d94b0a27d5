//! A local Slack for testing RTM and Socket Mode clients: `rtm.connect`, `auth.test`, the RTM
//! socket, `apps.connections.open` and the Socket Mode sockets, from one workspace, with
//! scriptable faults and a record of everything clients did.
//!
//! Start it in one line, point a client at [`Emulator::api_url`] with [`Emulator::token`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), slack_rtm_emulator::EmulatorError> {
//! use slack_rtm_emulator::{Emulator, EmulatorConfig, Target};
//! use std::time::Duration;
//!
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! println!("api: {}  token: <{} chars>", emu.api_url(), emu.token().len());
//! // ... connect a client ...
//! emu.wait_for_connections(1, Duration::from_secs(5)).await?;
//! emu.goodbye(Target::All);
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # What it emulates
//!
//! - `GET|POST /api/rtm.connect` with Slack's validation (see [HTTP API](#http-api) below),
//!   single-use socket URLs that expire (30 s by default), `x-slack-req-id` on every answer.
//! - `GET|POST /api/auth.test`.
//! - The Web API methods a bot uses next to its socket (see the `web` module's notes and
//!   `docs/web-api.md`): `chat.postMessage` (through the same posting path as a socket
//!   message, so it reaches the sockets and [`Emulator::posted_messages`]), `chat.update`,
//!   `chat.delete`, `chat.postEphemeral`, `reactions.add`/`remove`,
//!   `conversations.history`/`replies` with cursors, `conversations.info`, `users.info`,
//!   `views.open` / `views.push` (a fresh, single-use trigger only) and `views.update` (by
//!   `view_id` or `external_id`, `hash` checked), with each user's stack of modals; per-method
//!   limits ([`Emulator::set_web_rate_limit`]), scripted failures
//!   ([`Emulator::reject_next_web_calls`]) and a record ([`Emulator::web_calls`]).
//! - The socket at `/websocket/<ticket>`: `hello`, `message` acks with unique increasing `ts`
//!   and link-formatted text, fan-out to the other connections, error replies `-1` (send-rate
//!   token bucket), `0` (unknown channel), `2` (no text), `ping`/`pong`, `typing` →
//!   `user_typing`, `presence_sub` / `presence_query` → `presence_change` (single or batched
//!   form), a close when a client frame is over 16 KB, WebSocket pings at an optional interval.
//! - Faults from the handle: injected events and raw frames, `goodbye`,
//!   `team_migration_started`, dropped TCP, stalls, withheld / delayed / reordered replies,
//!   rejected `rtm.connect` calls, delayed or missing `hello`.
//! - Socket Mode ([`Emulator::app_token`]): `apps.connections.open` with its errors, single-use
//!   expiring tickets (a used or expired one is refused at the upgrade with HTTP 401), `hello`,
//!   at most [`SocketModeServerConfig::max_sockets`] sockets (one more gets `disconnect`
//!   `too_many_websockets` and a close, code 1000), envelopes spread over the open sockets,
//!   acks, redelivery of unacked `events_api` envelopes, queueing while no socket is open,
//!   `disconnect` warnings and refreshes (closed with code 1000), `link_disabled`, WebSocket
//!   pings both ways, RTM's socket faults; once the app has connected, messages posted in the
//!   workspace become `events_api` envelopes as well as RTM events.
//! - A blast mode for benchmarks (pre-encoded `message` events written as fast as the socket
//!   allows), and its Socket Mode twin (pre-encoded `events_api` envelopes, as fast as the
//!   socket allows or at a set rate, with every ack's latency measured).
//!
//! - The test kit for users' apps ([`Emulator::user`] → [`Actor`]): act as a user (say, mention
//!   the bot, run a slash command, click, select, type in an external select, run shortcuts,
//!   submit or close a modal, open the App Home), wait for the app's ack
//!   ([`Emulator::wait_for_ack`]), and read back what it did: messages
//!   ([`Emulator::message`]), `response_url` posts ([`Emulator::responses`]), ephemeral
//!   messages, modals ([`Emulator::open_views`], [`Emulator::view_errors`]). Acks are applied
//!   as Slack applies them (a view's `response_action`, a command's reply); `response_url`s
//!   work (`in_channel`, ephemeral, `replace_original`, `delete_original`, 5 uses in 30 min).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use slack_rtm_emulator::{Emulator, EmulatorConfig, ActionSurface};
//! use std::time::Duration;
//!
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! // ... start the app under test on emu.api_url() / emu.app_token() ...
//! let alice = emu.user(&emu.second_user().user);
//! let cmd = alice.run_command(&emu.general_channel(), "/echo", "hi");
//! let ack = emu.wait_for_ack(cmd.seq, Duration::from_secs(5)).await?;
//! assert_eq!(ack.payload.unwrap()["text"], "hi");
//! # Ok(()) }
//! ```
//!
//! - Delivery to a Request URL ([`Emulator::set_request_url`]): the `url_verification`
//!   handshake, signed requests (Slack's `v0` scheme, [`Emulator::signing_secret`]) in Slack's
//!   encodings, its timeout and retries with their headers, the answer applied as the ack, a
//!   record of every request ([`Emulator::http_deliveries`]) and probes for testing a
//!   receiver's refusals ([`HttpProbe`]).
//!
//! - Many workspaces and OAuth installs ([`Emulator::add_workspace`], [`Emulator::add_org`],
//!   [`Emulator::in_team`] → [`TeamScope`], [`Emulator::oauth`] → [`OAuthControl`]): Slack's
//!   authorize page at `/oauth/v2/authorize` (approved or denied by script), `oauth.v2.access`
//!   for codes and refresh tokens (token rotation with a configurable lifetime), issued tokens
//!   that expire (`token_expired`) or are revoked (`token_revoked`),
//!   [`Emulator::uninstall`] (`tokens_revoked`, `app_uninstalled`), events carrying their
//!   workspace's `team_id`, `enterprise_id` and `authorizations`, and records of every
//!   `oauth.v2.access` call and every token used ([`OAuthCall`], [`TokenUse`]).
//!
//! # HTTP API
//!
//! `rtm.connect` checks, in this order: scripted rejections ([`Emulator::reject_next_connects`]),
//! the rate limit (429 + `Retry-After`), the body (`request_timeout` when it is truncated or
//! late), `missing_post_type`, `invalid_post_type`, `invalid_charset`, `invalid_form_data`,
//! `invalid_array_arg`, `invalid_arg_name`, then the token (`not_authed`, `invalid_auth`,
//! `account_inactive`, `not_allowed_token_type`). `missing_charset` (a `text/plain` body
//! without charset) and `superfluous_charset` (a form or multipart body with one) are warnings,
//! reported in `warning` and `response_metadata.warnings`. The token is read from
//! `Authorization: Bearer`, else from a `token` argument (body or query string; a token seen in
//! a query string is counted by [`Emulator::tokens_seen_in_urls`]).
//!
//! Tokens never appear in logs, in `Debug` output, or in the records.
//!
//! # TLS
//!
//! [`EmulatorConfig::tls`] serves HTTPS and `wss://` with a self-signed certificate made at
//! start, through rustls with the crypto provider this crate's features choose: `aws-lc-rs`
//! (default), which offers the post-quantum hybrid X25519MLKEM768 as well as the classical
//! groups, so the client's provider decides what is negotiated; or `ring` (classical groups
//! only, no C toolchain for aws-lc) with `default-features = false, features = ["ring"]`.
//! With both on, aws-lc-rs is used. [`Emulator::tls_client_config`] uses the same provider.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
#[cfg(feature = "blast")]
mod blast;
#[cfg(feature = "blast")]
mod blast_pacing;
#[cfg(feature = "blast")]
mod blast_shapes;
mod config;
pub mod control;
mod faults;
mod http_delivery;
mod interact;
mod oauth;
mod observe;
mod record;
mod script;
mod shared;
mod socket;
mod socket_mode;
mod tls;
mod web;
mod wire;
mod workspace;

pub use config::{Dispatch, EmulatorConfig, HelloMode, RateLimit, SendRateLimit, SocketModeServerConfig};
pub use faults::{RawFrame, Rejection, ReplyFault, Target};
pub use http_delivery::{HttpDelivery, HttpDeliveryConfig, HttpProbe, ProbeResponse};
pub use interact::{
    ActError, ActionSurface, Actor, EphemeralMessage, InteractionConfig, ResponseEffect, ResponseRecord, Sent,
};
pub use oauth::{
    AuthorizeVisit, ClientAuth, GrantKind, IssuedTokenKind, OAuthCall, OAuthControl, OrgInfo, TeamScope,
    TokenUse, WorkspaceInfo,
};
pub use record::{
    CloseReason, ConnectCall, ConnectionId, ConnectionRecord, FrameKind, PostedMessage, ReceivedFrame,
};
pub use slack_rtm_types::event::Presence;
#[cfg(feature = "blast")]
pub use socket_mode::blast::EnvelopeBlastReport;
pub use socket_mode::{AckRecord, DeliveryAttempt, EnvelopeRecord, SocketId, SocketInfo, SocketTarget};
pub use web::{
    AssistantThreadRecord, FNV_OFFSET, MAX_STREAM_CALL_CHARS, OpenedView, ScheduledMessage, StreamLimits,
    StreamedMessage, UploadedFileRecord, WebCall, fnv1a,
};
pub use workspace::{Credentials, TokenFlavor, UserInfo, WorkspaceChannel, format_message_text};

use bytes::Bytes;
use faults::Cmd;
use record::Ring;
pub(crate) use shared::{Admission, Shared, State, presence_events};
use slack_rtm_types::{ChannelId, TeamInfo, Ts, UserId};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use workspace::{TsClock, Workspace};

/// Why the emulator could not start, or a wait gave up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The self-signed certificate or the TLS config could not be made.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A Request URL could not be used (not `http://`, or its `url_verification` failed).
    #[error("Request URL refused: {0}")]
    RequestUrl(String),
    /// A `wait_for_*` call timed out.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        timeout: Duration,
    },
}

/// A running emulator. Dropping it stops the server and closes every connection (abruptly);
/// [`Emulator::shutdown`] closes connections with a close frame first.
///
/// All methods take `&self`: share it with `Arc` if several tasks script it.
pub struct Emulator {
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    /// The app-level token issued at start.
    app_token: String,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.shared.addr)
            .field("tls", &self.shared.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts an emulator: binds [`EmulatorConfig::addr`], makes the workspace (the team, a bot
    /// user named [`EmulatorConfig::bot_name`] whose token is [`Emulator::token`], a user
    /// `alice`, the configured channels) and serves until shut down.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let tls = if config.tls { Some(tls::TlsMaterial::generate(config.http2)?) } else { None };
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr: config.addr, source })?;
        let addr =
            listener.local_addr().map_err(|source| EmulatorError::Bind { addr: config.addr, source })?;
        let mut ws = Workspace::new(config.team.clone());
        for name in &config.channels {
            ws.add_channel(name);
        }
        if ws.channels.is_empty() {
            ws.add_channel("general");
        }
        let general = ws.channels[0].id.clone();
        let bot = ws.add_user(&config.bot_name, true);
        let second = ws.add_user("alice", false);
        #[cfg(feature = "blast")]
        let blast = Some(blast::Blast::new(
            ws.team.id.as_str(),
            general.as_str(),
            second.user.as_str(),
            blast::BlastShape::of(&config),
        ));
        #[cfg(feature = "blast")]
        let sm_blast = config.socket_mode.blast.map(|_| {
            socket_mode::blast::EnvelopeBlast::new(
                ws.team.id.as_str(),
                general.as_str(),
                second.user.as_str(),
                "A0EMU00001",
                bot.user.as_str(),
                config.socket_mode.one_per_write(),
            )
        });
        let limit = config.record_limit;
        let state = State {
            ws,
            tickets: HashMap::new(),
            conns: HashMap::new(),
            conn_infos: Ring::new(limit),
            calls: Ring::new(limit),
            frames: Ring::new(limit),
            messages: Ring::new(limit),
            rejections: VecDeque::new(),
            rate_window: VecDeque::new(),
            hello: config.hello,
            next_conn: 0,
            tokens_in_urls: 0,
            expired_attempts: 0,
            auth_tests: 0,
            sm: socket_mode::state::SmState::new("A0EMU00001".to_owned(), limit),
            web: web::WebState::new(limit),
            ix: interact::state::IxState::new(limit),
            http: http_delivery::HttpState::new(&config.http_delivery, limit),
            oauth: oauth::OAuthState::new(limit),
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            config,
            addr,
            tls,
            state: Mutex::new(state),
            changed: watch::channel(0).0,
            clock: TsClock::default(),
            #[cfg(feature = "blast")]
            blast,
            #[cfg(feature = "blast")]
            sm_blast,
            tasks: Mutex::new(JoinSet::new()),
            shutdown,
            bot,
            second,
            general,
            sm_timer: tokio::sync::Notify::new(),
        });
        let app_token = shared.sm_with(|sm, _| sm.issue_app_token(true));
        shared.spawn(socket_mode::ops::timer_task(shared.clone(), shutdown_rx.clone()));
        let accept = tokio::spawn(api::accept_loop(shared.clone(), listener, shutdown_rx));
        tracing::info!(%addr, tls = shared.tls.is_some(), "slack-rtm emulator listening");
        Ok(Emulator { shared, accept: Some(accept), app_token })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The server's base URL, e.g. `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> String {
        self.shared.base_url()
    }

    /// The Web API base, e.g. `http://127.0.0.1:PORT/api/` (`https://` with TLS).
    pub fn api_url(&self) -> String {
        format!("{}api/", self.base_url())
    }

    /// A valid classic bot token (`xoxb-…`) of the default bot user.
    pub fn token(&self) -> String {
        self.shared.bot.token.clone()
    }

    /// The default bot user.
    pub fn bot_user(&self) -> UserId {
        self.shared.bot.user.clone()
    }

    /// The user `alice` made at start, with a classic user token (`xoxp-…`). Blast events are
    /// posted as her.
    pub fn second_user(&self) -> Credentials {
        self.shared.second.clone()
    }

    /// The workspace, as `rtm.connect` reports it.
    pub fn team(&self) -> TeamInfo {
        self.shared.lock().ws.team.clone()
    }

    /// The first channel (`general` by default).
    pub fn general_channel(&self) -> ChannelId {
        self.shared.general.clone()
    }

    /// Every channel.
    pub fn channels(&self) -> Vec<WorkspaceChannel> {
        self.shared.lock().ws.channels.clone()
    }

    /// Every user.
    pub fn users(&self) -> Vec<UserInfo> {
        self.shared.lock().ws.users.clone()
    }

    /// Adds a (human) user with a classic `xoxp-` token.
    pub fn add_user(&self, name: &str) -> Credentials {
        self.shared.lock().ws.add_user(name, false)
    }

    /// Adds a bot user with a classic `xoxb-` token.
    pub fn add_bot(&self, name: &str) -> Credentials {
        self.shared.lock().ws.add_user(name, true)
    }

    /// Adds another token for a user: [`TokenFlavor::Granular`] makes one that `rtm.connect`
    /// refuses with `not_allowed_token_type`. `None` if the user is unknown.
    pub fn add_token(&self, user: &UserId, flavor: TokenFlavor) -> Option<String> {
        self.shared.lock().ws.add_token(user, flavor)
    }

    /// Marks a token active or inactive (`account_inactive`); `false` if it is unknown.
    pub fn set_token_active(&self, token: &str, active: bool) -> bool {
        match self.shared.lock().ws.tokens.get_mut(token) {
            Some(t) => {
                t.active = active;
                true
            }
            None => false,
        }
    }

    /// Adds a channel (every user is a member).
    pub fn add_channel(&self, name: &str) -> ChannelId {
        self.shared.lock().ws.add_channel(name)
    }

    /// Changes a user's presence and sends `presence_change` to the connections that should
    /// see it: with `presence_sub` on (the default), those subscribed to the user; with it off,
    /// all. The form (single or batched) follows each connection's `batch_presence_aware`.
    /// Returns how many connections were sent the event; `None` if the user is unknown.
    pub fn set_presence(&self, user: &UserId, presence: Presence) -> Option<usize> {
        let mut st = self.shared.lock();
        st.ws.user_mut(user)?.presence = presence.clone();
        let report = [(user.clone(), presence)];
        let single = presence_events(&report, false);
        let batched = presence_events(&report, true);
        let mut n = 0;
        for entry in st.conns.values() {
            if entry.options.presence_sub && !entry.subs.contains(user) {
                continue;
            }
            let frames = if entry.options.batch_presence_aware { &batched } else { &single };
            for f in frames {
                if entry.tx.try_send(Cmd::Event(Bytes::from(f.clone()))).is_ok() {
                    n += 1;
                }
            }
        }
        Some(n)
    }

    /// Posts a message as `user` (as if from another client) and delivers the `message` event
    /// to every connection in the channel. Returns its `ts`, or `None` for an unknown channel or
    /// user or an empty text.
    pub fn post_message(&self, channel: &ChannelId, user: &UserId, text: &str) -> Option<Ts> {
        let formatted = format_message_text(text);
        self.shared
            .post_message(ConnectionId(0), user, channel.as_str(), text, &formatted, None, None)
            .ok()
            .map(Ts::new)
    }

    /// The self-signed certificate (DER) when TLS is on: trust it in the client.
    pub fn tls_root_cert_der(&self) -> Option<Vec<u8>> {
        self.shared.tls.as_ref().map(|t| t.cert_der.clone())
    }

    /// The self-signed certificate (PEM) when TLS is on.
    pub fn tls_root_cert_pem(&self) -> Option<String> {
        self.shared.tls.as_ref().map(|t| t.cert_pem.clone())
    }

    /// A rustls client config (no ALPN) trusting only this emulator's certificate, when TLS is
    /// on, with the emulator's own crypto provider (aws-lc-rs by default, `ring` feature).
    pub fn tls_client_config(&self) -> Option<rustls::ClientConfig> {
        self.shared.tls.as_ref().and_then(|t| t.client_config().ok())
    }
    /// Stops accepting, closes every connection with a close frame (code 1001) and waits
    /// (at most about two seconds) for the tasks to end.
    pub async fn shutdown(mut self) {
        self.shared.command(&Target::All, || Cmd::Shutdown);
        self.shared.sm_command(SocketTarget::All, || socket_mode::conn::SmCmd::Shutdown);
        let _ = self.wait_for_open_connections(0, Duration::from_secs(2)).await;
        let _ = self.wait_for_open_sockets(0, Duration::from_secs(1)).await;
        self.stop();
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
    }

    fn stop(&mut self) {
        let _ = self.shared.shutdown.send(true);
        let tasks = std::mem::take(&mut *self.shared.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        drop(tasks); // aborts every connection task
        let mut st = self.shared.lock();
        let open: Vec<ConnectionId> = st.conns.keys().copied().collect();
        st.conns.clear();
        let now = Instant::now();
        for info in st.conn_infos.iter_mut() {
            if info.closed_at.is_none() && open.contains(&info.id) {
                info.closed_at = Some(now);
                info.close_reason = Some(CloseReason::Shutdown);
            }
        }
        let open: Vec<SocketId> = st.sm.conns.keys().copied().collect();
        st.sm.conns.clear();
        for info in st.sm.infos.iter_mut() {
            if info.closed_at.is_none() && open.contains(&info.id) {
                info.closed_at = Some(now);
                info.close_reason = Some(CloseReason::Shutdown);
            }
        }
        drop(st);
        self.shared.notify();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
    }
}
