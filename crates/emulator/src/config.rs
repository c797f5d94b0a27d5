//! [`EmulatorConfig`] and its parts.

use slack_rtm_types::{EnterpriseId, TeamId, TeamInfo};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The client send-rate limit of the socket: a token bucket per connection.
///
/// Each `message` takes one token; tokens refill at `per_second` up to `burst`. A message
/// without a token is answered with error `-1` ("slow down"); after `disconnect_after`
/// refused messages in a row the connection is closed (code 1008).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SendRateLimit {
    /// Sustained messages per second.
    pub per_second: f64,
    /// Messages that may be sent at once after a quiet period.
    pub burst: u32,
    /// Refused messages in a row before the connection is closed.
    pub disconnect_after: u32,
}

impl SendRateLimit {
    /// A limit of `per_second` sustained with a `burst`, disconnecting after 10 refusals in a row.
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self { per_second, burst: burst.max(1), disconnect_after: 10 }
    }

    /// Sets how many refused messages in a row close the connection.
    pub fn disconnect_after(mut self, refusals: u32) -> Self {
        self.disconnect_after = refusals.max(1);
        self
    }
}

impl Default for SendRateLimit {
    /// One message per second sustained, bursts of 30, disconnect after 10 refusals in a row.
    fn default() -> Self {
        Self::new(1.0, 30)
    }
}

/// The `rtm.connect` rate limit: at most `max_calls` successful-or-not calls in any `window`;
/// more get HTTP 429 `{"ok":false,"error":"ratelimited"}` with `Retry-After` (whole seconds
/// until a call leaves the window, at least 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Calls allowed per window.
    pub max_calls: u32,
    /// The sliding window.
    pub window: Duration,
}

impl RateLimit {
    /// At most `max_calls` per `window`.
    pub fn new(max_calls: u32, window: Duration) -> Self {
        Self { max_calls: max_calls.max(1), window }
    }
}

/// When a new connection gets its `hello`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelloMode {
    /// Right after the upgrade.
    #[default]
    Immediate,
    /// After a delay; events for the connection wait until `hello` is sent.
    Delay(Duration),
    /// Never (events are still delivered).
    Never,
}

/// How Socket Mode envelopes are spread over an app's open sockets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dispatch {
    /// In turn, by socket id.
    #[default]
    RoundRobin,
    /// A random open socket each time.
    Random,
}

/// The Socket Mode side: sockets per app, ack deadline, redelivery, socket lifetime.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SocketModeServerConfig {
    /// Sockets one app may hold; one more gets `disconnect` `too_many_websockets` and is
    /// closed. Default 10 (Slack's limit).
    pub max_sockets: usize,
    /// How envelopes are spread over the open sockets. Default round robin.
    pub dispatch: Dispatch,
    /// An `events_api` envelope not acked within this is redelivered. Default 3 s (Slack's).
    pub ack_timeout: Duration,
    /// The wait before each redelivery after an ack deadline passed; its length is the number
    /// of retries. Default `[0 s, 60 s, 300 s]` (Slack's: at once, after 1 min, after 5 min).
    pub retry_delays: Vec<Duration>,
    /// A socket's life before `disconnect` `refresh_requested` (preceded by `warning`).
    /// Default `None` (Slack's are hours).
    pub socket_lifetime: Option<Duration>,
    /// A socket's life when its URL carries `debug_reconnects=true`. Default 360 s (Slack's).
    pub debug_reconnects_lifetime: Duration,
    /// How long before `refresh_requested` the `warning` is sent. Default 10 s.
    pub warning_lead: Duration,
    /// After `refresh_requested`, close the socket this long later if the client has not.
    /// Default 10 s.
    pub refresh_grace: Duration,
    /// Interval of WebSocket pings to every Socket Mode socket (Slack pings its sockets).
    /// Default 10 s; `None` for none.
    pub ping_interval: Option<Duration>,
    /// Envelope blast for benchmarks: every socket gets this many pre-encoded `events_api`
    /// envelopes after `hello`, with their ack latencies reported
    /// ([`crate::Emulator::envelope_blast_reports`]). Default `None`.
    #[cfg(feature = "blast")]
    pub blast: Option<u64>,
    /// The envelope blast's rate per socket, in envelopes per second. Default `None`: as fast
    /// as the socket takes them.
    #[cfg(feature = "blast")]
    pub blast_rate: Option<u64>,
    /// The envelope blast sends Slack-shaped envelopes (`type` first, Slack's `message`
    /// shapes, 1–2.6 KB), one per write, instead of the plain ones 64 at a time. Default
    /// `false`.
    #[cfg(feature = "blast")]
    pub blast_slack_shapes: bool,
}

impl SocketModeServerConfig {
    /// Sets the sockets allowed per app (at least 1).
    pub fn max_sockets(mut self, n: usize) -> Self {
        self.max_sockets = n.max(1);
        self
    }

    /// Sets how envelopes are spread over the sockets.
    pub fn dispatch(mut self, dispatch: Dispatch) -> Self {
        self.dispatch = dispatch;
        self
    }

    /// Sets the ack deadline of `events_api` envelopes.
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// Sets the waits before each redelivery (and so the number of retries).
    pub fn retry_delays(mut self, delays: Vec<Duration>) -> Self {
        self.retry_delays = delays;
        self
    }

    /// Sets the life of every socket (`warning` then `refresh_requested` at its end).
    pub fn socket_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.socket_lifetime = lifetime;
        self
    }

    /// Sets the life of a socket opened with `debug_reconnects=true`.
    pub fn debug_reconnects_lifetime(mut self, lifetime: Duration) -> Self {
        self.debug_reconnects_lifetime = lifetime;
        self
    }

    /// Sets how long `warning` comes before `refresh_requested`.
    pub fn warning_lead(mut self, lead: Duration) -> Self {
        self.warning_lead = lead;
        self
    }

    /// Sets how long after `refresh_requested` the server closes the socket.
    pub fn refresh_grace(mut self, grace: Duration) -> Self {
        self.refresh_grace = grace;
        self
    }

    /// Sets the interval of server pings (`None`: none).
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Sets the envelope blast: `n` envelopes to every socket after `hello` (`None`: none).
    #[cfg(feature = "blast")]
    pub fn blast(mut self, n: Option<u64>) -> Self {
        self.blast = n;
        self
    }

    /// Sets the envelope blast's rate per socket (`None`: as fast as the socket takes them).
    #[cfg(feature = "blast")]
    pub fn blast_rate(mut self, per_second: Option<u64>) -> Self {
        self.blast_rate = per_second;
        self
    }

    /// Makes the envelope blast Slack-shaped and one envelope per write
    /// ([`SocketModeServerConfig::blast_slack_shapes`]).
    #[cfg(feature = "blast")]
    pub fn blast_slack_shapes(mut self, on: bool) -> Self {
        self.blast_slack_shapes = on;
        self
    }

    /// Whether the blast writes one Slack-shaped envelope per write.
    #[cfg(feature = "blast")]
    pub(crate) fn one_per_write(&self) -> bool {
        self.blast_slack_shapes
    }
}

impl Default for SocketModeServerConfig {
    fn default() -> Self {
        Self {
            max_sockets: 10,
            dispatch: Dispatch::RoundRobin,
            ack_timeout: Duration::from_secs(3),
            retry_delays: vec![Duration::ZERO, Duration::from_secs(60), Duration::from_secs(300)],
            socket_lifetime: None,
            debug_reconnects_lifetime: Duration::from_secs(360),
            warning_lead: Duration::from_secs(10),
            refresh_grace: Duration::from_secs(10),
            ping_interval: Some(Duration::from_secs(10)),
            #[cfg(feature = "blast")]
            blast: None,
            #[cfg(feature = "blast")]
            blast_rate: None,
            #[cfg(feature = "blast")]
            blast_slack_shapes: false,
        }
    }
}

/// How the emulator is set up. Start from [`EmulatorConfig::default`] and use the setters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// Where to listen. Default `127.0.0.1:0` (a free port, reported by
    /// [`crate::Emulator::local_addr`]).
    pub addr: SocketAddr,
    /// Serve HTTPS / `wss://` with a self-signed certificate made at start. Default off.
    pub tls: bool,
    /// Offer HTTP/2 (ALPN `h2` with TLS, prior knowledge without). Default on; the socket
    /// always uses HTTP/1.1.
    pub http2: bool,
    /// The workspace: id, name, domain and optional Enterprise Grid fields.
    pub team: TeamInfo,
    /// The name of the default bot user (whose token is [`crate::Emulator::token`]).
    pub bot_name: String,
    /// Names of the channels created at start (the first is the "general" channel).
    pub channels: Vec<String>,
    /// How long a socket URL stays valid. Default 30 s.
    pub url_lifetime: Duration,
    /// Interval of WebSocket ping frames to every connection. Default `None` (no pings).
    pub ws_ping_interval: Option<Duration>,
    /// The socket send-rate limit. Default [`SendRateLimit::default`]; `None` disables it.
    pub send_rate: Option<SendRateLimit>,
    /// The `rtm.connect` rate limit. Default `None`.
    pub connect_rate_limit: Option<RateLimit>,
    /// Minimum interval between two forwarded `typing` of one connection in one channel.
    /// Default 3 s.
    pub typing_interval: Duration,
    /// When `hello` is sent. Default [`HelloMode::Immediate`].
    pub hello: HelloMode,
    /// Blast mode: after `hello`, every connection gets this many pre-encoded `message` events
    /// written as fast as the socket allows. Default `None`.
    #[cfg(feature = "blast")]
    pub blast: Option<u64>,
    /// Blast events with their keys sorted (`type` after `blocks` and `text`) instead of in
    /// Slack's order (`type` second): the worst case for a client that scans for `type`.
    /// Default `false`.
    #[cfg(feature = "blast")]
    pub blast_type_last: bool,
    /// Blast events shaped like the `message` events Slack really sends (file uploads, link
    /// unfurls, edits, thread replies and parents, bot messages; 450 bytes to 2 KB) instead of
    /// one plain template. Takes precedence over `blast_type_last`. Default `false`.
    #[cfg(feature = "blast")]
    pub blast_slack_shapes: bool,
    /// Write the blast one frame per system call, as a real server does (one frame per
    /// wake-up), instead of hundreds of frames per write. Default `false`.
    #[cfg(feature = "blast")]
    pub blast_frame_per_write: bool,
    /// After [`crate::Emulator::goodbye`], close the connection this long after the `goodbye`
    /// if the client has not. Default 5 s; `None` keeps it open.
    pub goodbye_grace: Option<Duration>,
    /// How long to wait for a request body before answering `request_timeout`. Default 10 s.
    pub body_timeout: Duration,
    /// Keep a copy of every frame clients send ([`crate::Emulator::received_frames`]).
    /// Default on; turn off for benchmarks.
    pub record_frames: bool,
    /// Most entries kept in each record (calls, frames, messages, closed connections); older
    /// ones are dropped (counters keep counting). Default 100 000.
    pub record_limit: usize,
    /// Frames queued for one connection before it counts as a slow consumer and is
    /// disconnected. Default 8192.
    pub queue_capacity: usize,
    /// Longest time one write to a client may take before the client counts as a slow
    /// consumer and is disconnected. Default 30 s.
    pub write_timeout: Duration,
    /// The Socket Mode side. Default [`SocketModeServerConfig::default`].
    pub socket_mode: SocketModeServerConfig,
    /// Lifetimes and limits of `trigger_id`s and `response_url`s. Default
    /// [`crate::InteractionConfig::default`] (Slack's rules).
    pub interactions: crate::InteractionConfig,
    /// How deliveries to a Request URL are made (timeout, retries, signing secret). Default
    /// [`crate::HttpDeliveryConfig::default`] (Slack's rules).
    pub http_delivery: crate::HttpDeliveryConfig,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            tls: false,
            http2: true,
            team: TeamInfo::new(TeamId::new("T0EMU00001"), "Emulated Workspace", "emulated"),
            bot_name: "emubot".to_owned(),
            channels: vec!["general".to_owned(), "random".to_owned()],
            url_lifetime: Duration::from_secs(30),
            ws_ping_interval: None,
            send_rate: Some(SendRateLimit::default()),
            connect_rate_limit: None,
            typing_interval: Duration::from_secs(3),
            hello: HelloMode::Immediate,
            #[cfg(feature = "blast")]
            blast: None,
            #[cfg(feature = "blast")]
            blast_type_last: false,
            #[cfg(feature = "blast")]
            blast_slack_shapes: false,
            #[cfg(feature = "blast")]
            blast_frame_per_write: false,
            goodbye_grace: Some(Duration::from_secs(5)),
            body_timeout: Duration::from_secs(10),
            record_frames: true,
            record_limit: 100_000,
            queue_capacity: 8192,
            write_timeout: Duration::from_secs(30),
            socket_mode: SocketModeServerConfig::default(),
            interactions: crate::InteractionConfig::default(),
            http_delivery: crate::HttpDeliveryConfig::default(),
        }
    }
}

impl EmulatorConfig {
    /// Sets how deliveries to a Request URL are made.
    pub fn http_delivery(mut self, http_delivery: crate::HttpDeliveryConfig) -> Self {
        self.http_delivery = http_delivery;
        self
    }

    /// Sets the lifetimes and limits of `trigger_id`s and `response_url`s.
    pub fn interactions(mut self, interactions: crate::InteractionConfig) -> Self {
        self.interactions = interactions;
        self
    }

    /// Sets the Socket Mode side.
    pub fn socket_mode(mut self, socket_mode: SocketModeServerConfig) -> Self {
        self.socket_mode = socket_mode;
        self
    }

    /// Listens on `addr` (port 0 picks a free port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Listens on 127.0.0.1 at `port`.
    pub fn port(mut self, port: u16) -> Self {
        self.addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        self
    }

    /// Serves HTTPS / `wss://` with a self-signed certificate.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Offers HTTP/2 or not.
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// Sets the workspace's id, name and domain.
    pub fn team(mut self, id: &str, name: &str, domain: &str) -> Self {
        self.team.id = TeamId::new(id);
        self.team.name = name.to_owned();
        self.team.domain = domain.to_owned();
        self
    }

    /// Makes the workspace part of an Enterprise Grid organisation.
    pub fn enterprise(mut self, id: &str, name: &str) -> Self {
        self.team.enterprise_id = Some(EnterpriseId::new(id));
        self.team.enterprise_name = Some(name.to_owned());
        self
    }

    /// Names the default bot user.
    pub fn bot_name(mut self, name: &str) -> Self {
        self.bot_name = name.to_owned();
        self
    }

    /// Sets how long socket URLs stay valid.
    pub fn url_lifetime(mut self, lifetime: Duration) -> Self {
        self.url_lifetime = lifetime;
        self
    }

    /// Sends WebSocket ping frames at this interval (`None`: never).
    pub fn ws_ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ws_ping_interval = interval;
        self
    }

    /// Sets the socket send-rate limit (`None`: unlimited).
    pub fn send_rate(mut self, rate: Option<SendRateLimit>) -> Self {
        self.send_rate = rate;
        self
    }

    /// Sets the `rtm.connect` rate limit (`None`: unlimited).
    pub fn connect_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.connect_rate_limit = limit;
        self
    }

    /// Sets the minimum interval between forwarded `typing` indicators.
    pub fn typing_interval(mut self, interval: Duration) -> Self {
        self.typing_interval = interval;
        self
    }

    /// Sets when `hello` is sent.
    pub fn hello(mut self, mode: HelloMode) -> Self {
        self.hello = mode;
        self
    }

    /// Blast mode: `n` events to every connection after `hello` (`None`: off).
    #[cfg(feature = "blast")]
    pub fn blast(mut self, n: Option<u64>) -> Self {
        self.blast = n;
        self
    }

    /// Blast events with sorted keys (`type` late) instead of Slack's order.
    #[cfg(feature = "blast")]
    pub fn blast_type_last(mut self, type_last: bool) -> Self {
        self.blast_type_last = type_last;
        self
    }

    /// Blast events shaped like real Slack messages instead of one plain template.
    #[cfg(feature = "blast")]
    pub fn blast_slack_shapes(mut self, slack_shapes: bool) -> Self {
        self.blast_slack_shapes = slack_shapes;
        self
    }

    /// Write the blast one frame per system call (as a real server does) instead of hundreds
    /// of frames per write.
    #[cfg(feature = "blast")]
    pub fn blast_frame_per_write(mut self, on: bool) -> Self {
        self.blast_frame_per_write = on;
        self
    }

    /// Sets the grace period after `goodbye` before the server closes.
    pub fn goodbye_grace(mut self, grace: Option<Duration>) -> Self {
        self.goodbye_grace = grace;
        self
    }

    /// Sets how long to wait for a request body.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Records client frames or not.
    pub fn record_frames(mut self, on: bool) -> Self {
        self.record_frames = on;
        self
    }

    /// Sets how many entries each record keeps.
    pub fn record_limit(mut self, limit: usize) -> Self {
        self.record_limit = limit.max(1);
        self
    }

    /// Sets the per-connection outgoing queue capacity.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(16);
        self
    }

    /// Sets the longest time one write to a client may take.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// A configuration for benchmarks: no send-rate limit, no frame recording.
    #[cfg(feature = "blast")]
    pub fn for_benchmarks(self) -> Self {
        self.send_rate(None).record_frames(false)
    }
}
