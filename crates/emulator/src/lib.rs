//! A local Slack for testing RTM clients: `rtm.connect`, `auth.test` and the RTM socket, with
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
//! - The socket at `/websocket/<ticket>`: `hello`, `message` acks with unique increasing `ts`
//!   and link-formatted text, fan-out to the other connections, error replies `-1` (send-rate
//!   token bucket), `0` (unknown channel), `2` (no text), `ping`/`pong`, `typing` →
//!   `user_typing`, `presence_sub` / `presence_query` → `presence_change` (single or batched
//!   form), a close when a client frame is over 16 KB, WebSocket pings at an optional interval.
//! - Faults from the handle: injected events and raw frames, `goodbye`,
//!   `team_migration_started`, dropped TCP, stalls, withheld / delayed / reordered replies,
//!   rejected `rtm.connect` calls, delayed or missing `hello`.
//! - A blast mode for benchmarks (pre-encoded `message` events written as fast as the socket
//!   allows).
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
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
mod blast;
mod blast_shapes;
mod config;
mod faults;
mod record;
mod socket;
mod tls;
mod workspace;

pub use config::{EmulatorConfig, HelloMode, RateLimit, SendRate};
pub use faults::{RawFrame, Rejection, ReplyFault, Target};
pub use record::{CloseReason, ConnId, ConnectCall, ConnectionInfo, FrameKind, PostedMessage, ReceivedFrame};
pub use slack_rtm_types::event::Presence;
pub use workspace::{ChannelInfo, Credentials, TokenFlavor, UserInfo, format_message_text};

use bytes::Bytes;
use faults::Cmd;
use record::Ring;
use slack_rtm_types::{ChannelId, ConnectOptions, Event, TeamInfo, Ts, UserId};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use workspace::{TsClock, UserSet, Workspace};

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
    /// A `wait_for_*` call timed out.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        timeout: Duration,
    },
}

/// What a successful `rtm.connect` issued, checked when the socket URL is used.
#[derive(Clone, Debug)]
pub(crate) struct Admission {
    pub user: UserId,
    pub options: ConnectOptions,
    pub hello: HelloMode,
}

#[derive(Debug)]
pub(crate) struct Ticket {
    pub user: UserId,
    pub options: ConnectOptions,
    pub expires: Instant,
}

pub(crate) struct ConnEntry {
    tx: mpsc::Sender<Cmd>,
    overflow: Arc<Notify>,
    user: UserId,
    options: ConnectOptions,
    subs: UserSet,
}

pub(crate) struct State {
    pub ws: Workspace,
    pub tickets: HashMap<String, Ticket>,
    conns: HashMap<ConnId, ConnEntry>,
    conn_infos: Ring<ConnectionInfo>,
    pub calls: Ring<ConnectCall>,
    frames: Ring<ReceivedFrame>,
    messages: Ring<PostedMessage>,
    pub rejections: VecDeque<Rejection>,
    pub rate_window: VecDeque<Instant>,
    hello: HelloMode,
    next_conn: u64,
    pub tokens_in_urls: usize,
    expired_attempts: u64,
    pub auth_tests: u64,
}

/// Everything the tasks share.
pub(crate) struct Shared {
    pub config: EmulatorConfig,
    pub addr: SocketAddr,
    pub tls: Option<tls::TlsMaterial>,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    pub clock: TsClock,
    pub blast: Option<blast::Blast>,
    tasks: Mutex<JoinSet<()>>,
    shutdown: watch::Sender<bool>,
    bot: Credentials,
    second: Credentials,
    general: ChannelId,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the records inconsistent in a way that
        // matters to a test server: keep going with the data.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes every `wait_for_*`.
    pub fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Spawns a task that dies with the emulator. Finished tasks are reaped here so the set
    /// stays small.
    pub fn spawn<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        while tasks.try_join_next().is_some() {}
        if *self.shutdown.borrow() {
            return;
        }
        tasks.spawn(fut);
    }

    /// Consumes a socket ticket: `Some` if it was issued, unused and not expired.
    pub fn take_ticket(&self, ticket: &str) -> Option<Admission> {
        let mut st = self.lock();
        let now = Instant::now();
        let admitted = match st.tickets.remove(ticket) {
            Some(t) if t.expires > now => {
                Some(Admission { user: t.user, options: t.options, hello: st.hello })
            }
            _ => None,
        };
        if admitted.is_none() {
            st.expired_attempts += 1;
        }
        drop(st);
        self.notify();
        admitted
    }

    /// Issues a socket ticket, forgetting expired ones.
    pub fn issue_ticket(&self, user: UserId, options: ConnectOptions, lifetime: Duration) -> String {
        let ticket = workspace::random_alnum(40);
        let now = Instant::now();
        let mut st = self.lock();
        st.tickets.retain(|_, t| t.expires > now);
        st.tickets.insert(ticket.clone(), Ticket { user, options, expires: now + lifetime });
        ticket
    }

    pub fn socket_url(&self, ticket: &str) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}/websocket/{ticket}", self.addr)
    }

    fn register(&self, a: &Admission, tx: mpsc::Sender<Cmd>, overflow: Arc<Notify>) -> ConnId {
        let mut st = self.lock();
        st.next_conn += 1;
        let id = ConnId(st.next_conn);
        st.conns.insert(
            id,
            ConnEntry { tx, overflow, user: a.user.clone(), options: a.options, subs: UserSet::new() },
        );
        st.conn_infos.push(ConnectionInfo {
            id,
            user: a.user.clone(),
            options: a.options,
            opened_at: Instant::now(),
            closed_at: None,
            close_reason: None,
            ws_pongs: 0,
        });
        drop(st);
        self.notify();
        id
    }

    fn unregister(&self, id: ConnId, reason: CloseReason) {
        let mut st = self.lock();
        st.conns.remove(&id);
        if let Some(info) = st.conn_infos.iter_mut().rev().find(|c| c.id == id)
            && info.closed_at.is_none()
        {
            info.closed_at = Some(Instant::now());
            info.close_reason = Some(reason);
        }
        drop(st);
        self.notify();
    }

    fn update_conn(&self, id: ConnId, f: impl FnOnce(&mut ConnectionInfo)) {
        let mut st = self.lock();
        if let Some(info) = st.conn_infos.iter_mut().rev().find(|c| c.id == id) {
            f(info);
        }
        drop(st);
        self.notify();
    }

    fn record_frame(&self, conn: ConnId, kind: FrameKind, payload: &Bytes) {
        if !self.config.record_frames {
            return;
        }
        let frame = ReceivedFrame { conn, at: Instant::now(), kind, payload: payload.clone() };
        self.lock().frames.push(frame);
        self.notify();
    }

    fn is_member(&self, channel: &str, user: &UserId) -> bool {
        self.lock().ws.is_member(channel, user)
    }

    /// Posts a message: checks, takes a `ts`, fans the event out, records it.
    #[allow(clippy::too_many_arguments)]
    fn post_message(
        &self,
        conn: ConnId,
        user: &UserId,
        channel: &str,
        text: &str,
        formatted: &str,
        thread_ts: Option<&str>,
        client_id: Option<&str>,
    ) -> Result<String, socket::PostError> {
        let mut st = self.lock();
        if !st.ws.is_member(channel, user) {
            return Err(socket::PostError::Channel);
        }
        if text.is_empty() {
            return Err(socket::PostError::Text);
        }
        let ts = self.clock.next();
        let event = socket::MessageEventOut {
            kind: "message",
            channel,
            user: user.as_str(),
            text: formatted,
            ts: &ts,
            thread_ts,
            team: st.ws.team.id.as_str(),
            event_ts: &ts,
        };
        if let Ok(v) = serde_json::to_vec(&event) {
            fan_out_locked(&st, channel, Some(conn), &Bytes::from(v));
        }
        st.messages.push(PostedMessage {
            conn,
            user: user.clone(),
            channel: ChannelId::new(channel),
            ts: Ts::new(ts.clone()),
            text: text.to_owned(),
            formatted_text: formatted.to_owned(),
            client_id: client_id.map(str::to_owned),
            thread_ts: thread_ts.map(Ts::new),
        });
        drop(st);
        self.notify();
        Ok(ts)
    }

    fn fan_out(&self, channel: &str, except: Option<ConnId>, frame: Bytes) -> usize {
        fan_out_locked(&self.lock(), channel, except, &frame)
    }

    /// Replaces a connection's presence subscriptions; returns the presence of the newly added
    /// (known) users.
    fn presence_subscribe(&self, conn: ConnId, ids: Vec<String>) -> Vec<(UserId, Presence)> {
        let mut guard = self.lock();
        let st = &mut *guard;
        let Some(entry) = st.conns.get_mut(&conn) else { return Vec::new() };
        let mut added = Vec::new();
        let mut subs = UserSet::with_capacity(ids.len());
        for id in ids {
            let id = UserId::new(id);
            if let Some(u) = st.ws.user(&id) {
                if !entry.subs.contains(&id) && !subs.contains(&id) {
                    added.push((id.clone(), u.presence.clone()));
                }
                subs.insert(id);
            }
        }
        entry.subs = subs;
        added
    }

    fn presence_of(&self, ids: &[String]) -> Vec<(UserId, Presence)> {
        let st = self.lock();
        ids.iter()
            .filter_map(|id| st.ws.users.iter().find(|u| u.id.as_str() == id))
            .map(|u| (u.id.clone(), u.presence.clone()))
            .collect()
    }

    /// Sends a command to every targeted connection; returns how many accepted it.
    fn command(&self, target: &Target, mut make: impl FnMut() -> Cmd) -> usize {
        let st = self.lock();
        let mut n = 0;
        for (id, entry) in &st.conns {
            let hit = match target {
                Target::All => true,
                Target::Conn(c) => c == id,
                Target::User(u) => &entry.user == u,
            };
            if !hit {
                continue;
            }
            match entry.tx.try_send(make()) {
                Ok(()) => n += 1,
                // The client does not keep up: disconnect it rather than lose what it is sent.
                Err(mpsc::error::TrySendError::Full(_)) => entry.overflow.notify_one(),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        n
    }
}

fn fan_out_locked(st: &State, channel: &str, except: Option<ConnId>, frame: &Bytes) -> usize {
    let mut n = 0;
    for (id, entry) in &st.conns {
        if Some(*id) == except || !st.ws.is_member(channel, &entry.user) {
            continue;
        }
        match entry.tx.try_send(Cmd::Event(frame.clone())) {
            Ok(()) => n += 1,
            Err(mpsc::error::TrySendError::Full(_)) => entry.overflow.notify_one(),
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
    n
}

/// `presence_change` frames for these users, in the single or the batched form (batched: one
/// frame per presence value, listing its users).
pub(crate) fn presence_events(report: &[(UserId, Presence)], batched: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if batched {
        let mut groups: Vec<(&Presence, Vec<&str>)> = Vec::new();
        for (user, presence) in report {
            match groups.iter_mut().find(|(p, _)| *p == presence) {
                Some((_, users)) => users.push(user.as_str()),
                None => groups.push((presence, vec![user.as_str()])),
            }
        }
        for (presence, users) in groups {
            let v =
                serde_json::json!({"type": "presence_change", "users": users, "presence": presence.as_str()});
            out.push(v.to_string().into_bytes());
        }
    } else {
        for (user, presence) in report {
            let v = serde_json::json!({"type": "presence_change", "user": user.as_str(), "presence": presence.as_str()});
            out.push(v.to_string().into_bytes());
        }
    }
    out
}

/// A running emulator. Dropping it stops the server and closes every connection (abruptly);
/// [`Emulator::shutdown`] closes connections with a close frame first.
///
/// All methods take `&self`: share it with `Arc` if several tasks script it.
pub struct Emulator {
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
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
        let blast = Some(blast::Blast::new(
            ws.team.id.as_str(),
            general.as_str(),
            second.user.as_str(),
            blast::BlastShape::of(&config),
        ));
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
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            config,
            addr,
            tls,
            state: Mutex::new(state),
            changed: watch::channel(0).0,
            clock: TsClock::default(),
            blast,
            tasks: Mutex::new(JoinSet::new()),
            shutdown,
            bot,
            second,
            general,
        });
        let accept = tokio::spawn(api::accept_loop(shared.clone(), listener, shutdown_rx));
        tracing::info!(%addr, tls = shared.tls.is_some(), "slack-rtm emulator listening");
        Ok(Emulator { shared, accept: Some(accept) })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The server's base URL, e.g. `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> String {
        let scheme = if self.shared.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/", self.shared.addr)
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
    pub fn channels(&self) -> Vec<ChannelInfo> {
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
            .post_message(ConnId(0), user, channel.as_str(), text, &formatted, None, None)
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

    /// A rustls client config (ring provider, no ALPN) trusting only this emulator's certificate,
    /// when TLS is on.
    pub fn tls_client_config(&self) -> Option<rustls::ClientConfig> {
        self.shared.tls.as_ref().and_then(|t| t.client_config().ok())
    }

    // ---- Observation ----

    /// Every connection (open and closed, oldest first; bounded by `record_limit`).
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        self.shared.lock().conn_infos.to_vec()
    }

    /// The ids of the open connections, in connection order.
    pub fn open_connections(&self) -> Vec<ConnId> {
        let mut ids: Vec<ConnId> = self.shared.lock().conns.keys().copied().collect();
        ids.sort();
        ids
    }

    /// How many connections were ever admitted (a URL that was expired or reused does not count).
    pub fn connection_count(&self) -> u64 {
        self.shared.lock().next_conn
    }

    /// Socket upgrades refused because their URL was unknown, reused or expired.
    pub fn expired_socket_attempts(&self) -> u64 {
        self.shared.lock().expired_attempts
    }

    /// The recorded `rtm.connect` calls (oldest first; bounded).
    pub fn rtm_connect_calls(&self) -> Vec<ConnectCall> {
        self.shared.lock().calls.to_vec()
    }

    /// How many times `rtm.connect` was called.
    pub fn rtm_connect_call_count(&self) -> u64 {
        self.shared.lock().calls.total()
    }

    /// How many times `auth.test` was called.
    pub fn auth_test_calls(&self) -> u64 {
        self.shared.lock().auth_tests
    }

    /// How many requests carried a token in the URL's query string (tokens belong in the
    /// `Authorization` header).
    pub fn tokens_seen_in_urls(&self) -> usize {
        self.shared.lock().tokens_in_urls
    }

    /// Every data frame clients sent (oldest first; bounded; empty when `record_frames` is off).
    pub fn received_frames(&self) -> Vec<ReceivedFrame> {
        self.shared.lock().frames.to_vec()
    }

    /// The data frames one connection sent.
    pub fn received_frames_of(&self, conn: ConnId) -> Vec<ReceivedFrame> {
        self.shared.lock().frames.iter().filter(|f| f.conn == conn).cloned().collect()
    }

    /// Every message posted over the socket (and by [`Emulator::post_message`], with
    /// connection id 0), oldest first; bounded.
    pub fn posted_messages(&self) -> Vec<PostedMessage> {
        self.shared.lock().messages.to_vec()
    }

    /// Waits until `cond` holds, re-checking on every change.
    async fn wait_until(
        &self,
        what: impl Fn() -> String,
        timeout: Duration,
        cond: impl Fn(&State) -> bool,
    ) -> Result<(), EmulatorError> {
        let mut rx = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if cond(&self.shared.lock()) {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    if cond(&self.shared.lock()) {
                        return Ok(());
                    }
                    return Err(EmulatorError::Timeout { what: what(), timeout });
                }
            }
        }
    }

    /// Waits until at least `n` connections were ever admitted.
    pub async fn wait_for_connections(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} connections"), timeout, |st| st.next_conn >= n).await
    }

    /// Waits until exactly `n` connections are open (e.g. 0 to see a client go away).
    pub async fn wait_for_open_connections(&self, n: usize, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} open connections"), timeout, |st| st.conns.len() == n).await
    }

    /// Waits until at least `n` messages were posted.
    pub async fn wait_for_posted_messages(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} posted messages"), timeout, |st| st.messages.total() >= n).await
    }

    /// Waits until clients sent at least `n` data frames in total.
    pub async fn wait_for_frames(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} client frames"), timeout, |st| st.frames.total() >= n).await
    }

    /// Waits until `rtm.connect` was called at least `n` times.
    pub async fn wait_for_connect_calls(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} rtm.connect calls"), timeout, |st| st.calls.total() >= n).await
    }

    // ---- Scripting and faults ----
    //
    // Each returns how many open connections the action was queued for.

    /// Sends an event (serialized with `slack_rtm_types`) to the targets. Events wait for a
    /// delayed `hello` and for the end of a stall.
    pub fn send_event(&self, target: impl Into<Target>, event: &Event) -> usize {
        match serde_json::to_vec(event) {
            Ok(v) => self.send_event_text(target, v),
            Err(e) => {
                tracing::warn!(error = %e, "cannot serialize the event to inject");
                0
            }
        }
    }

    /// Sends a JSON text as an event (not checked) to the targets, like [`Emulator::send_event`].
    pub fn send_event_text(&self, target: impl Into<Target>, text: impl Into<Bytes>) -> usize {
        let bytes: Bytes = text.into();
        self.shared.command(&target.into(), || Cmd::Event(bytes.clone()))
    }

    /// Sends a raw frame right away (malformed JSON, invalid UTF-8, binary, oversized, ping,
    /// close: see [`RawFrame`]).
    pub fn send_raw(&self, target: impl Into<Target>, frame: RawFrame) -> usize {
        self.shared.command(&target.into(), || Cmd::Raw(frame.clone()))
    }

    /// Sends `{"type":"goodbye"}`; the server closes (code 1001) after
    /// [`EmulatorConfig::goodbye_grace`] unless the client closes first.
    pub fn goodbye(&self, target: impl Into<Target>) -> usize {
        self.shared.command(&target.into(), || Cmd::Goodbye)
    }

    /// Sends `{"type":"team_migration_started"}` then closes (code 1001).
    pub fn team_migration(&self, target: impl Into<Target>) -> usize {
        self.shared.command(&target.into(), || Cmd::TeamMigration)
    }

    /// Closes with a close frame.
    pub fn close(&self, target: impl Into<Target>, code: u16, reason: &str) -> usize {
        self.shared.command(&target.into(), || Cmd::Close(code, reason.to_owned()))
    }

    /// Drops the TCP connection without a close frame.
    pub fn drop_connection(&self, target: impl Into<Target>) -> usize {
        self.shared.command(&target.into(), || Cmd::Drop)
    }

    /// Stalls (`true`: stop reading, answering and sending — WebSocket pings included — as a
    /// hung server would) or resumes.
    pub fn stall(&self, target: impl Into<Target>, stalled: bool) -> usize {
        self.shared.command(&target.into(), || Cmd::Stall(stalled))
    }

    /// Tampers with replies (acks, error replies, pongs); see [`ReplyFault`].
    pub fn set_reply_fault(&self, target: impl Into<Target>, fault: ReplyFault) -> usize {
        self.shared.command(&target.into(), || Cmd::ReplyFault(fault))
    }

    /// Sends the replies held back by [`ReplyFault::Withhold`], in order.
    pub fn release_withheld(&self, target: impl Into<Target>) -> usize {
        self.shared.command(&target.into(), || Cmd::ReleaseWithheld)
    }

    /// Writes `n` pre-encoded `message` events (from `alice` in the general channel) as fast as
    /// the socket allows, after `hello`.
    pub fn blast(&self, target: impl Into<Target>, n: u64) -> usize {
        self.shared.command(&target.into(), || Cmd::Blast(n))
    }

    /// Answers the next `n` `rtm.connect` calls with `rejection` instead of normally (queued
    /// after any rejections already scripted).
    pub fn reject_next_connects(&self, n: usize, rejection: Rejection) {
        let mut st = self.shared.lock();
        st.rejections.extend(std::iter::repeat_n(rejection, n));
    }

    /// Forgets scripted rejections not used yet.
    pub fn clear_rejections(&self) {
        self.shared.lock().rejections.clear();
    }

    /// Sets when new connections get `hello`.
    pub fn set_hello(&self, mode: HelloMode) {
        self.shared.lock().hello = mode;
    }

    /// Stops accepting, closes every connection with a close frame (code 1001) and waits
    /// (at most about two seconds) for the tasks to end.
    pub async fn shutdown(mut self) {
        self.shared.command(&Target::All, || Cmd::Shutdown);
        let _ = self.wait_for_open_connections(0, Duration::from_secs(2)).await;
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
        let open: Vec<ConnId> = st.conns.keys().copied().collect();
        st.conns.clear();
        let now = Instant::now();
        for info in st.conn_infos.iter_mut() {
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
