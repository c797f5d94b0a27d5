//! The gateway: holds a share of the app's Socket Mode sockets, appends every envelope to the
//! stream and acks it only once Redis confirmed the append (or that the event was appended
//! already). If Redis fails, is slow or the stream is full, the envelope is not acked: Slack
//! delivers it again, to this gateway or another.

use crate::FleetConfig;
use crate::entry::EntryView;
use crate::error::FleetError;
use crate::stream::{AppendOutcome, EventStream};
use slack_rtm::SocketModeClient;
use slack_rtm::StopReason;
use slack_rtm::socket_mode::AckMode;
use slack_rtm::socket_mode::{Delivery, SocketModeClientBuilder};
use slack_rtm::socket_mode::{SocketModeItem, SocketModeItems};
use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// What a gateway did so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayCounts {
    /// Envelopes handed over by the session.
    pub received: u64,
    /// Appended to the stream.
    pub appended: u64,
    /// Already claimed by the fleet (a redelivery): acked, not appended again.
    pub duplicates: u64,
    /// Refused because the stream was full (not acked: Slack redelivers).
    pub refused_full: u64,
    /// Not appended because Redis failed or was too slow (not acked: Slack redelivers).
    pub redis_failures: u64,
    /// Acks handed to the session (it writes them on its next turn).
    pub acked: u64,
    /// Acks that could not be handed to the session (it had stopped; Slack redelivers, and
    /// the redelivery is acked as a duplicate).
    pub ack_failures: u64,
    /// Sockets serving now.
    pub sockets: u64,
}

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    appended: AtomicU64,
    duplicates: AtomicU64,
    refused_full: AtomicU64,
    redis_failures: AtomicU64,
    acked: AtomicU64,
    ack_failures: AtomicU64,
    sockets: AtomicU64,
    last_fault: Mutex<Option<String>>,
}

impl Counters {
    fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    fn fault(&self, what: String) {
        tracing::warn!(fault = %what, "envelope not acked: Slack will deliver it again");
        if let Ok(mut f) = self.last_fault.lock() {
            *f = Some(what);
        }
    }
}

/// Builds a [`Gateway`].
#[must_use = "a builder does nothing until `.start().await`"]
pub struct GatewayBuilder {
    socket: SocketModeClientBuilder,
    fleet: FleetConfig,
    max_in_flight: usize,
    append_budget: Duration,
}

impl std::fmt::Debug for GatewayBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayBuilder")
            .field("socket", &self.socket)
            .field("fleet", &self.fleet)
            .field("max_in_flight", &self.max_in_flight)
            .field("append_budget", &self.append_budget)
            .finish()
    }
}

impl GatewayBuilder {
    /// Most envelopes being appended at once (default 256); past it the gateway stops reading
    /// the session, whose bounded queue then holds the sockets back. The envelopes waiting
    /// together are appended in one script call, up to 64 or this limit.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// How long after receipt an append may take before the envelope is given up (not
    /// acked). Default 2.5 s: under Slack's 3 s ack deadline.
    pub fn append_budget(mut self, budget: Duration) -> Self {
        self.append_budget = budget;
        self
    }

    /// Checks Redis (a `PING`), then opens the sockets and starts appending.
    pub async fn start(self) -> Result<Gateway, FleetError> {
        let stream = EventStream::new(&self.fleet)?;
        stream.ping().await?;
        let (client, mut items) = self.socket.ack_mode(AckMode::Manual).connect().await?;
        let counts = Arc::new(Counters::default());
        let (budget, gate) = (self.append_budget, Arc::new(Semaphore::new(self.max_in_flight)));
        // A batch takes a permit per envelope: never more than there are.
        let most = APPEND_BATCH.min(self.max_in_flight);
        let task = {
            let counts = counts.clone();
            tokio::spawn(async move {
                let mut batch = Vec::with_capacity(most);
                while let Some(item) = items.next().await {
                    // This item and those already waiting, up to a batch: appended in one
                    // script call.
                    let mut next = Some(item);
                    let received = Instant::now();
                    while let Some(item) = next.take() {
                        match item {
                            SocketModeItem::Envelope(d) => {
                                Counters::bump(&counts.received);
                                batch.push(d);
                            }
                            SocketModeItem::Connected { sockets }
                            | SocketModeItem::Disconnected { sockets, .. } => {
                                counts.sockets.store(sockets as u64, Ordering::Relaxed);
                            }
                            SocketModeItem::Stopped { reason } => {
                                relay_later(&mut batch, received, budget, &gate, &stream, &counts).await;
                                return Some(reason);
                            }
                            other => tracing::debug!(item = ?other, "session"),
                        }
                        if batch.len() < most {
                            next = ready_now(&mut items).await;
                        }
                    }
                    if !relay_later(&mut batch, received, budget, &gate, &stream, &counts).await {
                        break;
                    }
                }
                None
            })
        };
        Ok(Gateway { client, counts, task })
    }
}

/// Most envelopes appended in one script call.
const APPEND_BATCH: usize = 64;

/// The next item if the session has one ready now, without waiting.
async fn ready_now(items: &mut SocketModeItems) -> Option<SocketModeItem> {
    std::future::poll_fn(|cx| {
        // `next` is cancel-safe: dropping it while pending loses nothing.
        let next = std::pin::pin!(items.next());
        Poll::Ready(match next.poll(cx) {
            Poll::Ready(item) => item,
            Poll::Pending => None,
        })
    })
    .await
}

/// Takes the batch's permits and appends it on a task of its own (so the next batch is read
/// meanwhile); `false` if the gateway is closing.
async fn relay_later(
    batch: &mut Vec<Delivery>,
    received: Instant,
    budget: Duration,
    gate: &Arc<Semaphore>,
    stream: &EventStream,
    counts: &Arc<Counters>,
) -> bool {
    if batch.is_empty() {
        return true;
    }
    let Ok(permit) = gate.clone().acquire_many_owned(batch.len() as u32).await else { return false };
    let (batch, stream, counts) = (std::mem::take(batch), stream.clone(), counts.clone());
    tokio::spawn(async move {
        relay(batch, received, budget, &stream, &counts).await;
        drop(permit);
    });
    true
}

/// Appends a batch of envelopes, then acks each one Redis has.
async fn relay(
    batch: Vec<Delivery>,
    received: Instant,
    budget: Duration,
    stream: &EventStream,
    counts: &Counters,
) {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |t| t.as_millis() as u64);
    let left = budget.saturating_sub(received.elapsed());
    let outcomes = {
        // Borrowed from the envelopes' text: the bodies are not copied before the command.
        let entries: Vec<EntryView<'_>> = batch.iter().map(|d| entry_of(d, now_ms)).collect();
        match tokio::time::timeout(left, stream.append_views(&entries)).await {
            Ok(r) => r,
            Err(_) => Err(FleetError::Timeout(budget)),
        }
    };
    let outcomes = match outcomes {
        Ok(o) => o,
        Err(e) => {
            counts.redis_failures.fetch_add(batch.len() as u64, Ordering::Relaxed);
            counts.fault(e.to_string());
            return;
        }
    };
    for (d, outcome) in batch.into_iter().zip(outcomes) {
        match outcome {
            AppendOutcome::Appended { .. } => Counters::bump(&counts.appended),
            AppendOutcome::Duplicate => Counters::bump(&counts.duplicates),
            AppendOutcome::Full { backlog } => {
                Counters::bump(&counts.refused_full);
                counts.fault(format!("the stream is full ({backlog} entries not handled yet)"));
                continue;
            }
        }
        // Queued to the session, which writes the acks of the batch together; if the socket
        // is gone by then, Slack redelivers and the redelivery is acked as a duplicate.
        match d.ack_detached() {
            Ok(()) => Counters::bump(&counts.acked),
            Err(e) => {
                Counters::bump(&counts.ack_failures);
                tracing::debug!(error = %e, "ack not queued: Slack redelivers, and the redelivery is a duplicate");
            }
        }
    }
}

/// The entry for a delivery. An Events API envelope's fields (its event id, the inner event's
/// type, the retry count) were read by the session's scan of the frame, exactly as serde would
/// read them (or by serde, when the scan could not be sure): taken from the delivery, with no
/// second pass over the text. Other envelopes: their text read by one light pass; the scanned
/// ids if that fails.
fn entry_of(d: &Delivery, now_ms: u64) -> EntryView<'_> {
    if d.envelope_type() == "events_api" && d.event_id().is_some() {
        return scanned(d, now_ms, d.event_type(), d.retry_attempt());
    }
    EntryView::parse(d.as_str(), now_ms).unwrap_or_else(|| scanned(d, now_ms, None, 0))
}

/// The entry from what the session read of the envelope.
fn scanned<'a>(
    d: &'a Delivery,
    now_ms: u64,
    event_type: Option<&'a str>,
    retry_attempt: u32,
) -> EntryView<'a> {
    EntryView {
        event_id: d.event_id().map(Cow::Borrowed),
        envelope_id: Cow::Borrowed(d.envelope_id()),
        envelope_type: Cow::Borrowed(d.envelope_type()),
        event_type: event_type.map(Cow::Borrowed),
        retry_attempt,
        received_ms: now_ms,
        body: d.as_str(),
    }
}

/// A running gateway.
#[derive(Debug)]
pub struct Gateway {
    client: SocketModeClient,
    counts: Arc<Counters>,
    task: JoinHandle<Option<StopReason>>,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counters").finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway for the Socket Mode app `socket` (its ack mode is set to manual: the gateway
    /// acks), appending to `fleet`'s stream. Give it its share of the app's 10 sockets with
    /// [`SocketModeClientBuilder::connections`].
    pub fn builder(socket: SocketModeClientBuilder, fleet: FleetConfig) -> GatewayBuilder {
        GatewayBuilder { socket, fleet, max_in_flight: 256, append_budget: Duration::from_millis(2500) }
    }

    /// What it did so far.
    pub fn counts(&self) -> GatewayCounts {
        let c = &self.counts;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        GatewayCounts {
            received: get(&c.received),
            appended: get(&c.appended),
            duplicates: get(&c.duplicates),
            refused_full: get(&c.refused_full),
            redis_failures: get(&c.redis_failures),
            acked: get(&c.acked),
            ack_failures: get(&c.ack_failures),
            sockets: get(&c.sockets),
        }
    }

    /// The last reason an envelope was not acked (Redis down, too slow, stream full).
    pub fn last_fault(&self) -> Option<String> {
        self.counts.last_fault.lock().ok().and_then(|f| f.clone())
    }

    /// The Socket Mode client (its state, status, Web API client).
    pub fn client(&self) -> &SocketModeClient {
        &self.client
    }

    /// Stops taking envelopes, lets the appends under way finish and ack, closes the sockets.
    pub async fn shutdown(&self) {
        self.client.shutdown().await;
    }

    /// Waits until the session stopped; why (`None` if the gateway task ended otherwise).
    pub async fn wait(self) -> Option<StopReason> {
        self.task.await.ok().flatten()
    }
}
