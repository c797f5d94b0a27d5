//! The session driver's test client (`slack_rtm_session::connect` against the emulator over
//! loopback) and the helpers the driver's tests share.

use slack_rtm_codec::types::Event;
use slack_rtm_codec::{ConnectConfig, DynHttpTransport, Token};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use slack_rtm_hyper::HyperTransport;
use slack_rtm_session::rtm::{KeepaliveConfig, ReconnectPolicy, SendRate, Timeouts};
use slack_rtm_session::{
    DriverConfig, SessionConfig, SessionEvent, SessionEventStream, SessionHandle, connect,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long a test waits for anything.
pub const WAIT: Duration = Duration::from_secs(10);
/// One millisecond.
pub const MS: Duration = Duration::from_millis(1);

/// The hyper transport, plain HTTP allowed, trusting `tls` if given.
pub fn transport(tls: Option<Arc<rustls::ClientConfig>>) -> Arc<dyn DynHttpTransport> {
    let mut b = HyperTransport::builder().allow_http(true);
    if let Some(t) = tls {
        b = b.tls_config(t);
    }
    Arc::new(b.build().expect("transport"))
}

/// A driver config for the emulator's API.
pub fn driver_config(
    api_url: &str,
    config: SessionConfig,
    token: String,
    transport: Arc<dyn DynHttpTransport>,
) -> DriverConfig {
    let mut dc = DriverConfig::new(config, Token::new(token), transport);
    dc.connect = ConnectConfig::with_api_base(api_url, true).expect("api base");
    dc
}

/// The fast configuration the loopback tests share, so that faults are detected and repaired
/// in milliseconds: backoff 20 → 200 ms without the 0.5 s floor, a fixed jitter seed,
/// keepalive 150/250 ms, 2 s connect and `hello` deadlines.
pub fn fast_session_config(jitter_seed: u64) -> SessionConfig {
    let mut c = SessionConfig::default();
    let mut r = ReconnectPolicy::new(20 * MS, 200 * MS);
    r.min_delay = Duration::ZERO;
    r.jitter_seed = Some(jitter_seed);
    c.reconnect = r;
    c.keepalive = KeepaliveConfig::new(150 * MS, 250 * MS);
    c.timeouts = Timeouts::new(Duration::from_secs(2), Duration::from_secs(2));
    c
}

/// The driver tests' configuration: [`fast_session_config`], healthy after 1 s, 50 messages
/// a millisecond, a 5 s ack deadline.
pub fn session_config(_emu: &Emulator) -> SessionConfig {
    let mut c = fast_session_config(11);
    c.reconnect.healthy_after = Duration::from_secs(1);
    c.send_rate = SendRate::new(MS, 50);
    c.sending.ack_timeout = Duration::from_secs(5);
    c
}

/// A session started through the driver, and the events it handed over.
pub struct Client {
    /// The session's handle.
    pub handle: SessionHandle,
    /// Its events.
    pub events: SessionEventStream,
    /// Every event seen so far.
    pub log: Vec<SessionEvent>,
}

impl Client {
    pub fn start(emu: &Emulator, config: SessionConfig, tweak: impl FnOnce(&mut DriverConfig)) -> Self {
        let mut dc = driver_config(&emu.api_url(), config, emu.token(), transport(None));
        tweak(&mut dc);
        let (handle, events) = connect(dc).expect("driver starts");
        Self { handle, events, log: Vec::new() }
    }

    /// Waits for an event matching `pred`, logging everything on the way.
    pub async fn until(&mut self, what: &str, mut pred: impl FnMut(&SessionEvent) -> bool) -> SessionEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) => {
                    self.log.push(e.clone());
                    if pred(&e) {
                        return e;
                    }
                }
                Ok(None) => panic!("stream ended waiting for {what}; log: {:#?}", self.log),
                Err(_) => panic!("timed out waiting for {what}; log: {:#?}", self.log),
            }
        }
    }

    pub async fn connected(&mut self) -> SessionEvent {
        self.until("Connected", |e| matches!(e, SessionEvent::Connected { .. })).await
    }

    /// Reads everything available for `d`.
    pub async fn drain_for(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            self.log.push(e);
        }
    }

    /// Reads until the stream ends.
    pub async fn drain_to_end(&mut self) {
        loop {
            match tokio::time::timeout(WAIT, self.events.recv()).await {
                Ok(Some(e)) => self.log.push(e),
                Ok(None) => return,
                Err(_) => panic!("the event stream did not end; log: {:#?}", self.log),
            }
        }
    }

    pub fn message_texts(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Rtm(Event::Message(m)) => m.text.clone(),
                _ => None,
            })
            .collect()
    }

    pub fn count(&self, pred: impl Fn(&SessionEvent) -> bool) -> usize {
        self.log.iter().filter(|e| pred(e)).count()
    }
}

pub use slack_rtm_test_support::{emulator, eventually};

/// The emulator without its send-rate limit.
pub fn no_rate_limit() -> EmulatorConfig {
    EmulatorConfig::default().send_rate(None)
}

/// Every string of `expected` is in `list` exactly once.
pub fn each_once(list: &[String], expected: impl IntoIterator<Item = String>) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in list {
        *counts.entry(t.as_str()).or_default() += 1;
    }
    for e in expected {
        assert_eq!(
            counts.get(e.as_str()).copied().unwrap_or(0),
            1,
            "{e:?} must appear exactly once in {list:?}"
        );
    }
}
