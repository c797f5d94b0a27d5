//! Workers: consume the stream in a consumer group, hand each event to the application's
//! handler, `XACK` it once the handler succeeded. Entries of a worker that died are taken over
//! by another after an idle time (`XAUTOCLAIM`); an entry whose handler keeps failing goes to
//! the dead-letter stream after [`WorkerConfig::max_attempts`] deliveries.

mod app;
mod config;
mod ops;

pub use config::WorkerConfig;

use crate::FleetConfig;
use crate::config::Keys;
use crate::entry::FleetEvent;
use crate::error::FleetError;
use ops::{Ops, Read};
use redis::aio::ConnectionManager;
use std::future::Future;
use std::time::{Duration, Instant};

/// Entries waiting for a local retry, at most (past it, a failed entry waits for a takeover).
const MAX_LOCAL_RETRIES: usize = 10_000;
/// The pause after a Redis failure before the next command.
const REDIS_PAUSE: Duration = Duration::from_millis(500);

/// What a worker did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerCounts {
    /// Handler calls that succeeded.
    pub handled: u64,
    /// Handler calls that failed.
    pub failures: u64,
    /// Entries moved to the dead-letter stream.
    pub dead_lettered: u64,
    /// Entries taken over from other consumers (`XAUTOCLAIM`) or held from before a restart.
    pub taken_over: u64,
    /// Redis commands that failed (each retried after a pause).
    pub redis_failures: u64,
}

/// One consumer of the fleet's stream.
pub struct Worker {
    conn: ConnectionManager,
    keys: Keys,
    config: WorkerConfig,
    dead_max_len: u64,
    counts: WorkerCounts,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("keys", &self.keys)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Whether `stop` has resolved (polled once, and never again once it has).
async fn resolved<F: Future<Output = ()>>(stop: std::pin::Pin<&mut F>, done: &mut bool) -> bool {
    if !*done {
        let mut stop = stop;
        *done = std::future::poll_fn(|cx| std::task::Poll::Ready(stop.as_mut().poll(cx).is_ready())).await;
    }
    *done
}

/// An entry to try again, and when.
struct Retry {
    due: Instant,
    id: String,
    attempt: u32,
}

impl Worker {
    /// A worker on `fleet`'s stream (no command is sent until [`Worker::run`]).
    pub fn new(fleet: &FleetConfig, config: WorkerConfig) -> Result<Self, FleetError> {
        let conn = crate::stream::connect(fleet, fleet.response_timeout + config.block)?;
        Ok(Self {
            conn,
            keys: fleet.keys.clone(),
            config,
            dead_max_len: fleet.dead_max_len.max(1),
            counts: WorkerCounts::default(),
        })
    }

    /// What it did so far.
    pub fn counts(&self) -> WorkerCounts {
        self.counts
    }

    /// Hands events to `handler` until `stop` resolves (the event being handled is finished
    /// and acked first; no other event is handed over after that, and those already read
    /// are given back for another worker to take over at once). A handler's `Err` means "not handled": the event is tried again
    /// later, and dead-lettered after [`WorkerConfig::max_attempts`]. Redis failures are
    /// reported (`tracing`, [`WorkerCounts::redis_failures`]) and retried, never fatal.
    pub async fn run<H, Fut, E>(&mut self, mut handler: H, stop: impl Future<Output = ()>) -> WorkerCounts
    where
        H: FnMut(FleetEvent) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        tokio::pin!(stop);
        let (mut own, mut cursor, mut next_claim) = (Some("0".to_owned()), "0-0".to_owned(), Instant::now());
        let mut retries: Vec<Retry> = Vec::new();
        let mut unacked: Vec<String> = Vec::new();
        let mut grouped = false;
        let (mut stopped, mut released) = (false, Vec::new());
        loop {
            let mut ops = Ops { conn: &mut self.conn, keys: &self.keys, config: &self.config };
            let step: Result<Vec<Read>, FleetError> = async {
                if !grouped {
                    ops.ensure_group().await?;
                    grouped = true;
                }
                let now = Instant::now();
                let due = retries.iter().position(|r| r.due <= now);
                if own.is_some() || due.is_some() || now >= next_claim {
                    ops.ack(&unacked).await?;
                    unacked.clear();
                }
                if let Some(from) = &own {
                    // Page through what this consumer held, once: an entry that fails again
                    // waits for its retry like any other.
                    let held = ops.read_own(from).await?;
                    own = held.last().map(|r| r.id().to_owned());
                    if own.is_some() {
                        return Ok(held);
                    }
                }
                if let Some(i) = due {
                    let r = retries.swap_remove(i);
                    return Ok(ops.reclaim(&r.id, r.attempt).await?.into_iter().collect());
                }
                if now >= next_claim {
                    let (taken, next) = ops.autoclaim(&cursor).await?;
                    if next == "0-0" {
                        next_claim = now + self.config.claim_every;
                    }
                    cursor = next;
                    if !taken.is_empty() {
                        return Ok(taken);
                    }
                }
                let mut wait = self.config.block.min(next_claim.saturating_duration_since(now));
                if let Some(due) = retries.iter().map(|r| r.due).min() {
                    wait = wait.min(due.saturating_duration_since(now));
                }
                // What was handled is acked in the same round trip as the next read.
                let read = ops.read_new(wait.as_millis().max(1) as u64, &unacked).await?;
                unacked.clear();
                Ok(read)
            }
            .await;
            let stopping = resolved(stop.as_mut(), &mut stopped).await;
            let batch = match step {
                Ok(b) => b,
                Err(e) => {
                    self.counts.redis_failures += 1;
                    tracing::warn!(error = %e, "Redis failed; trying again");
                    if stopping {
                        break;
                    }
                    tokio::select! {
                        () = &mut stop => break,
                        () = tokio::time::sleep(REDIS_PAUSE) => continue,
                    }
                }
            };
            // Once `stop` resolved, no further event goes to the handler: what was read and
            // not handled is given back below.
            let mut batch = batch.into_iter();
            while !stopped && let Some(read) = batch.next() {
                self.process(read, &mut handler, &mut retries, &mut unacked).await;
                resolved(stop.as_mut(), &mut stopped).await;
            }
            if stopped {
                released.extend(batch.map(|r| r.id().to_owned()));
                break;
            }
        }
        // What was handled is acked before returning (best effort: otherwise it is taken
        // over after the idle time and handled again).
        let mut ops = Ops { conn: &mut self.conn, keys: &self.keys, config: &self.config };
        if let Err(e) = ops.ack(&unacked).await {
            self.counts.redis_failures += 1;
            tracing::warn!(error = %e, handled = unacked.len(), "could not ack the last events before stopping");
        }
        // What this worker holds and will not handle (read after the stop, or waiting for a
        // retry) is marked idle, so another worker takes it over at once instead of after
        // the idle time.
        released.extend(retries.into_iter().map(|r| r.id));
        if let Err(e) = ops.release(&released).await {
            self.counts.redis_failures += 1;
            tracing::warn!(error = %e, held = released.len(), "could not give back the events not handled");
        }
        self.counts
    }

    async fn process<H, Fut, E>(
        &mut self,
        read: Read,
        handler: &mut H,
        retries: &mut Vec<Retry>,
        unacked: &mut Vec<String>,
    ) where
        H: FnMut(FleetEvent) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        let max = self.config.max_attempts;
        let (id, event, attempt, error) = match read {
            Read::Malformed { id } => (id, None, 0, "not a fleet entry (fields missing)".to_owned()),
            Read::Event(ev) if ev.attempt > max => {
                let (id, attempt) = (ev.stream_id.clone(), ev.attempt);
                let error = format!(
                    "delivered {attempt} times without being handled (did its handler kill the worker?)"
                );
                (id, Some(ev), attempt - 1, error)
            }
            Read::Event(ev) => {
                if ev.attempt > 1 {
                    self.counts.taken_over += 1;
                }
                let (id, attempt) = (ev.stream_id.clone(), ev.attempt);
                // Kept only for the dead-letter stream, so copied only on the last attempt.
                let last = (attempt >= max).then(|| ev.clone());
                match handler(ev).await {
                    Ok(()) => {
                        self.counts.handled += 1;
                        unacked.push(id);
                        return;
                    }
                    Err(e) => {
                        self.counts.failures += 1;
                        let error = e.to_string();
                        tracing::warn!(stream_id = %id, attempt, error = %error, "handler failed");
                        if attempt < max {
                            if retries.len() < MAX_LOCAL_RETRIES {
                                let due = Instant::now() + self.config.retry_delay * attempt;
                                retries.push(Retry { due, id, attempt: attempt + 1 });
                            }
                            return;
                        }
                        (id, last, attempt, error)
                    }
                }
            }
        };
        let mut ops = Ops { conn: &mut self.conn, keys: &self.keys, config: &self.config };
        match ops.dead_letter(&id, event.as_ref(), attempt, &error, self.dead_max_len).await {
            Ok(()) => {
                self.counts.dead_lettered += 1;
                tracing::warn!(stream_id = %id, attempts = attempt, error = %error, "dead-lettered");
            }
            Err(e) => {
                // Still pending: taken over (and dead-lettered) later.
                self.counts.redis_failures += 1;
                tracing::warn!(stream_id = %id, error = %e, "could not dead-letter; left pending");
            }
        }
    }
}
