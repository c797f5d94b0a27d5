//! The driver of the fault-injection suite (`tests/tests/faults.rs`): the table's types and
//! [`run`], which plays one case against the emulator over loopback and checks, for every case:
//!
//! - **no panic**, in the session's tasks or ours (a panic hook counts panics on runtime
//!   worker threads);
//! - **no message vanishes**: every send resolves (acked, a typed error, or `Unconfirmed`);
//! - **none is posted twice**, and the emulator agrees with every outcome: an acked message is
//!   in its record exactly once under the acked `ts`; a message reported "not sent"
//!   (`QueueTimeout`, `Stopped`, `Rejected`) is not in it; a "may have been posted" one
//!   (`AckTimeout`, `Unconfirmed`) is in it at most once;
//! - **the backoff is obeyed**: each `rtm.connect` call after the first is announced by one
//!   `Reconnecting` event whose delay is within the policy's ceiling (or the server's
//!   `Retry-After`), and the emulator saw the call no earlier than that delay after the
//!   previous one.

use slack_rtm::rtm::Posted;
use slack_rtm::rtm::Reason;
use slack_rtm::rtm::ReconnectPolicy;
use slack_rtm::rtm::SendError;
use slack_rtm::rtm::SendRate;
use slack_rtm::rtm::SessionConfig;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::rtm::Warning;
use slack_rtm::types::ApiError;
use slack_rtm::{Client, Events};
use slack_rtm_emulator::{Emulator, EmulatorConfig, HelloMode, RawFrame, Rejection, ReplyFault, Target};
use std::collections::HashMap;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);
const MS: Duration = Duration::from_millis(1);

// ---------------------------------------------------------------------------------------------
// The table's types
// ---------------------------------------------------------------------------------------------

/// What the emulator does to the session.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// A text frame cut in the middle, then the TCP connection dropped.
    CutMidFrame,
    /// The TCP connection dropped without a close frame, between frames.
    DropWithoutClose,
    /// The server stops reading, answering and writing (a hung server; writes pile up).
    StopReading,
    /// The server keeps reading but answers nothing: no acks, no pongs.
    StopAnswering,
    /// `goodbye` in the middle of a burst of sends.
    Goodbye,
    /// `team_migration_started`, then a close.
    TeamMigration,
    /// The next `rtm.connect` returns a socket URL that is already expired.
    ExpiredUrl,
    /// The next `rtm.connect` calls get this answer instead of a URL.
    ConnectRejected(u32, RejectionKind),
    /// `n` good reconnects, then `rtm.connect` answers `invalid_auth`.
    InvalidAuthAfterReconnects(u32),
    /// The emulator's send-rate limit answers most messages with `-1` ("slow down").
    SlowDownStorm,
    /// The next `n` replies are withheld (released after the ack deadline).
    WithholdReplies(u32),
    /// The next `n` replies are sent in reverse order.
    ReverseReplies(u32),
    /// After a drop, the next connection never gets `hello`.
    HelloNeverComes,
}

/// `Rejection` is not `Copy`; the table names it.
#[derive(Clone, Copy, Debug)]
pub enum RejectionKind {
    /// 429 with `Retry-After: 1`.
    RateLimited1s,
    /// HTTP 500.
    Status500,
    /// An HTML error page with status 502.
    Html502,
    /// A body cut short.
    Truncated,
}

impl RejectionKind {
    fn rejection(self) -> Rejection {
        match self {
            RejectionKind::RateLimited1s => Rejection::RateLimited { retry_after: Duration::from_secs(1) },
            RejectionKind::Status500 => Rejection::Status(500),
            RejectionKind::Html502 => Rejection::Html(502),
            RejectionKind::Truncated => Rejection::Truncated,
        }
    }
}

/// The application-visible outcome the fault must produce.
#[derive(Clone, Debug)]
pub enum Expect {
    /// The connection is replaced (the reason matches) and the session is connected again.
    Reconnects(fn(&Reason) -> bool),
    /// The session keeps its connection: no `Disconnected`, no `Reconnecting`.
    StaysConnected,
    /// The session stops with this fatal API error; no further `rtm.connect` call.
    StopsWith(ApiError),
}

/// What the sends of the case must resolve to (on top of the universal invariants).
#[derive(Clone, Copy, Debug)]
pub enum Sends {
    /// Every message acked.
    AllAcked,
    /// At least this many failed with a matching error; the others are acked.
    SomeFail(usize, fn(&SendError) -> bool),
    /// Any mix of outcomes allowed by the universal invariants.
    Any,
}

/// An extra invariant, checked against the emulator's record and the event log.
pub type Check = fn(&Emulator, &Log) -> Result<(), String>;

/// One row of the table.
pub struct Case {
    /// The case's name, also its test's name.
    pub name: &'static str,
    /// What the emulator does.
    pub fault: Fault,
    /// What the application must see.
    pub expect: Expect,
    /// What the sends must resolve to.
    pub sends: Sends,
    /// The case's own invariant.
    pub check: Check,
    /// Messages sent during the case (paced by the session's send rate).
    pub messages: usize,
    /// The fault is injected once the emulator has posted this many of them.
    pub inject_after: u64,
    /// The emulator's configuration.
    pub emulator: fn() -> EmulatorConfig,
    /// A change to the driver's fast session configuration.
    pub session: fn(&mut SessionConfig),
}

// ---------------------------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------------------------

/// Panics on runtime worker threads (the session's tasks and our senders), process-wide.
static WORKER_PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_worker_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name().is_some_and(|n| n.starts_with("tokio-runtime-worker")) {
                WORKER_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

/// Every event the application saw, with when it saw it.
#[derive(Default)]
pub struct Log {
    /// The events, in order.
    pub events: Vec<(Instant, SessionEvent)>,
    /// The stream ended.
    pub ended: bool,
}

impl Log {
    /// How many events match `pred`.
    pub fn count(&self, pred: impl Fn(&SessionEvent) -> bool) -> usize {
        self.events.iter().filter(|(_, e)| pred(e)).count()
    }
}

struct Harness {
    emu: Emulator,
    client: Client,
    events: Events,
    log: Log,
    policy: ReconnectPolicy,
}

impl Harness {
    /// Reads events until one matches `pred` (or fails the test after `WAIT`).
    async fn until(&mut self, what: &str, pred: impl Fn(&SessionEvent) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.next()).await {
                Ok(Some(e)) => {
                    let hit = pred(&e);
                    self.log.events.push((Instant::now(), e));
                    if hit {
                        return;
                    }
                }
                Ok(None) => {
                    self.log.ended = true;
                    panic!("the event stream ended waiting for {what}; log: {:#?}", self.log.events)
                }
                Err(_) => panic!("timed out waiting for {what}; log: {:#?}", self.log.events),
            }
        }
    }

    async fn reconnected(&mut self) {
        self.until("Connected (reconnect)", |e| matches!(e, SessionEvent::Connected { reconnect: true, .. }))
            .await;
    }

    /// Reads whatever is ready without waiting.
    fn drain_ready(&mut self) {
        while let Some(e) = self.events.next_ready() {
            self.log.events.push((Instant::now(), e));
        }
    }

    async fn drain_to_end(&mut self) {
        while !self.log.ended {
            match tokio::time::timeout(WAIT, self.events.next()).await {
                Ok(Some(e)) => self.log.events.push((Instant::now(), e)),
                Ok(None) => self.log.ended = true,
                Err(_) => panic!("the event stream did not end; log: {:#?}", self.log.events),
            }
        }
    }
}

/// The shared fast configuration, paced so that faults land in the middle of the traffic.
fn base_session_config() -> SessionConfig {
    let mut c = crate::session::fast_session_config(7);
    c.reconnect.healthy_after = Duration::from_secs(5);
    // One message every 3 ms: a burst of 30 takes ~90 ms, so faults land in the middle of it.
    c.send_rate = SendRate::new(3 * MS, 1);
    c.sending.ack_timeout = Duration::from_secs(5);
    c.sending.queue_timeout = Duration::from_secs(10);
    c
}

/// Plays `case` and checks it (panics on a failure).
pub async fn run(case: Case) {
    count_worker_panics();
    let name = case.name;
    let emu = Emulator::start((case.emulator)()).await.expect("emulator starts");
    let mut config = base_session_config();
    (case.session)(&mut config);
    let policy = config.reconnect;
    let (client, events) = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .session_config(config)
        .connect_timeout(Some(WAIT))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{name}: first connection: {e}"));
    let mut h = Harness { emu, client, events, log: Log::default(), policy };
    h.drain_ready();

    // Faults that must be armed before the traffic.
    match case.fault {
        Fault::WithholdReplies(n) => {
            h.emu.set_reply_fault(Target::All, ReplyFault::Withhold(n));
        }
        Fault::ReverseReplies(n) => {
            h.emu.set_reply_fault(Target::All, ReplyFault::Reverse(n));
        }
        _ => {}
    }

    // The traffic: every message is submitted now and paced by the session.
    let channel = h.emu.general_channel();
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..case.messages {
        let client = h.client.clone();
        let ch = channel.clone();
        let text = format!("{name} #{i}");
        sends.spawn(async move {
            let r = client.send_message(ch, text.clone()).await;
            (text, r)
        });
    }
    if case.inject_after > 0 {
        h.emu.wait_for_posted_messages(case.inject_after, WAIT).await.expect("traffic flows");
    }

    inject(&mut h, case.fault).await;

    // The application-visible outcome.
    match &case.expect {
        Expect::Reconnects(reason) => {
            h.until("the fault's reason", |e| match e {
                SessionEvent::Reconnecting { reason: r, .. } | SessionEvent::Disconnected { reason: r } => {
                    reason(r)
                }
                _ => false,
            })
            .await;
            recover(&h, case.fault);
            h.reconnected().await;
        }
        Expect::StaysConnected => recover(&h, case.fault),
        Expect::StopsWith(error) => {
            h.until("Stopped", |e| matches!(e, SessionEvent::Stopped { .. })).await;
            match h.log.events.last() {
                Some((_, SessionEvent::Stopped { reason: f })) if f.is_error() => {
                    assert_eq!(f.api_error(), Some(error), "{name}: {f}");
                }
                other => panic!("{name}: expected a fatal stop, got {other:?}"),
            }
        }
    }

    // Every send resolves.
    let mut outcomes: Vec<(String, Result<Posted, SendError>)> = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !sends.is_empty() {
        match tokio::time::timeout_at(deadline, sends.join_next()).await {
            Ok(Some(Ok(o))) => outcomes.push(o),
            Ok(Some(Err(e))) => panic!("{name}: a sender task failed: {e}"),
            Ok(None) => break,
            Err(_) => panic!("{name}: {} sends never resolved", sends.len()),
        }
    }
    assert_eq!(outcomes.len(), case.messages);

    // Let the case settle: replies withheld are released, stalled sockets are read.
    settle(&mut h, case.fault, &case.expect).await;

    check_sends(name, &h, &outcomes, case.sends);
    check_backoff(name, &h);
    if let Err(e) = (case.check)(&h.emu, &h.log) {
        panic!("{name}: {e}\nevents: {:#?}", h.log.events);
    }
    if matches!(case.expect, Expect::StaysConnected) {
        let lost = h
            .log
            .count(|e| matches!(e, SessionEvent::Disconnected { .. } | SessionEvent::Reconnecting { .. }));
        assert_eq!(lost, 0, "{name}: the connection was replaced: {:#?}", h.log.events);
    }
    if !matches!(case.expect, Expect::StopsWith(_)) {
        let stopped = h.log.count(|e| matches!(e, SessionEvent::Stopped { .. }));
        assert_eq!(stopped, 0, "{name}: the session stopped: {:#?}", h.log.events);
        h.client.shutdown_with(Duration::from_millis(200)).await;
    }
    h.drain_to_end().await;
    assert_eq!(WORKER_PANICS.load(Ordering::SeqCst), 0, "{name}: a runtime worker panicked");
    h.emu.shutdown().await;
}

async fn inject(h: &mut Harness, fault: Fault) {
    let emu = &h.emu;
    match fault {
        Fault::CutMidFrame => {
            let frame = RawFrame::oversized(4096);
            let RawFrame::Text(bytes) = frame else { unreachable!("oversized is a text frame") };
            assert_eq!(emu.send_raw_to_connection(Target::All, RawFrame::CutMidFrame(bytes)), 1);
        }
        Fault::DropWithoutClose => assert_eq!(emu.drop_connection(Target::All), 1),
        Fault::StopReading => assert_eq!(emu.stall_connection(Target::All, true), 1),
        Fault::StopAnswering => {
            assert_eq!(emu.set_reply_fault(Target::All, ReplyFault::Withhold(u32::MAX)), 1)
        }
        Fault::Goodbye => assert_eq!(emu.goodbye(Target::All), 1),
        Fault::TeamMigration => assert_eq!(emu.team_migration(Target::All), 1),
        Fault::ExpiredUrl => {
            emu.reject_next_connects(1, Rejection::ExpiredUrl);
            assert_eq!(emu.drop_connection(Target::All), 1);
        }
        Fault::ConnectRejected(n, kind) => {
            emu.reject_next_connects(n as usize, kind.rejection());
            assert_eq!(emu.drop_connection(Target::All), 1);
        }
        Fault::InvalidAuthAfterReconnects(n) => {
            for _ in 0..n {
                assert_eq!(h.emu.drop_connection(Target::All), 1);
                h.reconnected().await;
            }
            h.emu.reject_next_connects(1, Rejection::Api(ApiError::InvalidAuth));
            assert_eq!(h.emu.drop_connection(Target::All), 1);
        }
        Fault::SlowDownStorm | Fault::WithholdReplies(_) | Fault::ReverseReplies(_) => {}
        Fault::HelloNeverComes => {
            emu.set_hello(HelloMode::Never);
            assert_eq!(emu.drop_connection(Target::All), 1);
        }
    }
}

/// Lifts the fault once its effect was seen, so the session can recover.
fn recover(h: &Harness, fault: Fault) {
    if let Fault::HelloNeverComes = fault {
        h.emu.set_hello(HelloMode::Immediate);
    }
}

/// Waits until the emulator's record is final for the case.
async fn settle(h: &mut Harness, fault: Fault, expect: &Expect) {
    match fault {
        Fault::StopReading => {
            // The server reads again: it finds the old connection closed by the client.
            h.emu.stall_connection(Target::All, false);
            h.emu.wait_for_open_connections(1, WAIT).await.expect("the stalled connection is closed");
        }
        Fault::WithholdReplies(_) => {
            h.emu.release_withheld(Target::All);
            h.until("the late replies", |e| matches!(e, SessionEvent::Warning(Warning::UnmatchedReply(_))))
                .await;
        }
        _ => {}
    }
    if !matches!(expect, Expect::StopsWith(_)) {
        h.emu.wait_for_open_connections(1, WAIT).await.expect("one connection in the end");
    } else {
        h.drain_to_end().await;
        h.emu.wait_for_open_connections(0, WAIT).await.expect("no connection in the end");
    }
    h.drain_ready();
}

/// The universal send invariants, judged by the emulator's record, then the case's own.
fn check_sends(name: &str, h: &Harness, outcomes: &[(String, Result<Posted, SendError>)], sends: Sends) {
    let posted = h.emu.posted_messages();
    let mut by_text: HashMap<&str, Vec<&slack_rtm_emulator::PostedMessage>> = HashMap::new();
    for p in &posted {
        by_text.entry(p.text.as_str()).or_default().push(p);
    }
    // Nothing posted twice, nothing posted that was not sent.
    for (text, list) in &by_text {
        assert_eq!(list.len(), 1, "{name}: {text:?} posted {} times", list.len());
        assert!(outcomes.iter().any(|(t, _)| t == text), "{name}: {text:?} posted but never sent");
    }
    let mut failed = 0;
    let mut matching = 0;
    for (text, outcome) in outcomes {
        let record = by_text.get(text.as_str()).map(Vec::as_slice).unwrap_or_default();
        match outcome {
            Ok(p) => {
                let ts = p.ts.as_ref().unwrap_or_else(|| panic!("{name}: {text:?} acked without a ts"));
                assert_eq!(record.len(), 1, "{name}: acked {text:?} is not in the record exactly once");
                assert_eq!(&record[0].ts, ts, "{name}: {text:?} acked with another message's ts");
            }
            Err(e) if e.may_have_been_posted() => {
                failed += 1;
                assert!(record.len() <= 1, "{name}: {text:?}");
            }
            Err(e) => {
                failed += 1;
                assert!(
                    matches!(e, SendError::Rejected { .. } | SendError::QueueTimeout | SendError::Stopped),
                    "{name}: {text:?}: unexpected {e:?}"
                );
                assert!(record.is_empty(), "{name}: {text:?} reported {e:?} (not sent) but was posted");
            }
        }
        if let (Sends::SomeFail(_, pred), Err(e)) = (sends, outcome)
            && pred(e)
        {
            matching += 1;
        }
    }
    let mut kinds: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (_, o) in outcomes {
        let k = match o {
            Ok(_) => "acked".to_owned(),
            Err(e) => format!("{e:?}").split([' ', '{', '(']).next().unwrap_or_default().to_owned(),
        };
        *kinds.entry(k).or_default() += 1;
    }
    eprintln!(
        "[{name}] sends {kinds:?}; posted {}; rtm.connect calls {}; connections {}",
        posted.len(),
        h.emu.rtm_connect_call_count(),
        h.emu.connection_count()
    );
    let summary = || outcomes.iter().map(|(t, o)| format!("{t}: {o:?}")).collect::<Vec<_>>().join("\n");
    match sends {
        Sends::AllAcked => assert_eq!(failed, 0, "{name}: every message must be acked:\n{}", summary()),
        Sends::SomeFail(n, _) => {
            assert!(matching >= n, "{name}: expected at least {n} matching failures:\n{}", summary());
            assert_eq!(matching, failed, "{name}: other failures:\n{}", summary());
        }
        Sends::Any => {}
    }
}

/// Each `rtm.connect` call after the first was announced by a `Reconnecting` event, its delay
/// obeys the policy, and the emulator saw the call no earlier than the delay allowed.
fn check_backoff(name: &str, h: &Harness) {
    let calls = h.emu.rtm_connect_calls();
    let delays: Vec<(u32, Duration)> = h
        .log
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            SessionEvent::Reconnecting { attempt, delay, .. } => Some((*attempt, *delay)),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls.len(),
        delays.len() + 1,
        "{name}: {} rtm.connect calls for {} announced reconnects",
        calls.len(),
        delays.len()
    );
    let p = &h.policy;
    for (i, (attempt, delay)) in delays.iter().enumerate() {
        let exp = attempt.saturating_sub(1).min(30) as i32;
        let ceiling = p.initial.mul_f64(p.multiplier.powi(exp)).min(p.max);
        // A 429's Retry-After (1 s in the table) may lift the delay above the ceiling.
        let allowed = ceiling.max(Duration::from_secs(1));
        assert!(*delay <= allowed, "{name}: attempt {attempt} waited {delay:?} > {allowed:?}");
        let gap = calls[i + 1].at.duration_since(calls[i].at);
        assert!(
            gap >= *delay,
            "{name}: call {} came {gap:?} after the previous one, before {delay:?}",
            i + 2
        );
    }
}
