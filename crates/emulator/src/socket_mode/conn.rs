//! One Socket Mode socket: `hello` (or `disconnect` `too_many_websockets` over the limit),
//! envelopes, acks, `disconnect` warnings and refreshes, WebSocket pings both ways, faults.
//!
//! Like the RTM socket, a reader task ([`crate::wire::read_loop`]) feeds an actor that owns the
//! write half and writes each wake-up's output at once.

use super::SocketId;
#[cfg(feature = "blast")]
use super::blast::BlastRun;
use crate::Shared;
use crate::faults::RawFrame;
use crate::record::CloseReason;
use crate::wire::{Inbound, Io, push_close, push_frame, sleep_until, tick};
use bytes::Bytes;
use fastwebsockets::OpCode;
use serde::Deserialize;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::WriteHalf;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

/// Slack's limit on a client frame (an ack): 20 KB; one of that size or more closes the socket
/// (1009). Kept here, not taken from the client's crates.
const MAX_ACK_FRAME: usize = 20 * 1024 - 1;
/// Close code after `refresh_requested` and `link_disabled`, and over the socket limit.
const CLOSE_NORMAL: u16 = 1000;

/// At most this many queued commands are handled (their frames written together) per wake-up.
const BATCH: usize = 64;

/// Runs `step` on `first`, then on the items already queued in `rx`, at most `max` in all,
/// until `rx` is empty or `step` ends the batch with `Err(result)`.
fn batch<T, R>(
    first: T,
    rx: &mut mpsc::Receiver<T>,
    max: usize,
    mut step: impl FnMut(T) -> Result<(), Option<R>>,
) -> Option<R> {
    let mut item = first;
    for _ in 1..max {
        if let Err(end) = step(item) {
            return end;
        }
        match rx.try_recv() {
            Ok(next) => item = next,
            Err(_) => return None,
        }
    }
    step(item).err().flatten()
}

/// Whether `overflow` holds a notification; it stays held (for the loop's next turn).
fn notified(overflow: &Notify) -> bool {
    let mut wait = std::pin::pin!(overflow.notified());
    let held = wait.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())).is_ready();
    if held {
        // Taken by the poll: given back, so the loop's `overflow` branch sees it.
        overflow.notify_one();
    }
    held
}

/// What the handle and the delivery engine send to a socket.
#[derive(Clone, Debug)]
pub(crate) enum SmCmd {
    /// An envelope frame.
    Deliver(Bytes),
    /// `disconnect` with this reason; then close after `close_after` (`None`: stay open).
    Disconnect(String, Option<Duration>),
    /// `warning` now, `refresh_requested` after the configured lead, then close.
    Refresh,
    Close(u16, String),
    Drop,
    Stall(bool),
    Raw(RawFrame),
    /// Answer the client's WebSocket pings (`false`: ignore them, as a broken server would).
    AnswerPings(bool),
    Shutdown,
}

#[derive(Deserialize)]
struct AckIn {
    envelope_id: Option<String>,
    #[serde(default)]
    payload: Option<serde_json::Value>,
}

/// Runs one Socket Mode socket until it ends, then records why.
pub(crate) async fn run_socket(shared: Arc<Shared>, io: Io, debug_reconnects: bool) {
    let (wr, mut in_rx, _reader) = crate::wire::start_reader(io, MAX_ACK_FRAME);
    let (tx, rx) = mpsc::channel(shared.config.queue_capacity);
    let overflow = Arc::new(Notify::new());
    let (id, admitted) = shared.sm_register(tx.clone(), overflow.clone(), debug_reconnects);
    drop(tx);
    let mut s = Socket {
        shared: shared.clone(),
        id,
        wr: Some(wr),
        out: Vec::with_capacity(4096),
        stalled: false,
        held: Vec::new(),
        answer_pings: true,
        refresh_at: None,
        close_at: None,
        #[cfg(feature = "blast")]
        blast: BlastRun::new(
            shared.config.socket_mode.blast.unwrap_or(0),
            shared.config.socket_mode.blast_rate,
        )
        .one_per_write(shared.config.socket_mode.one_per_write()),
    };
    let reason = if admitted.is_some() {
        s.run(rx, &mut in_rx, overflow, debug_reconnects).await
    } else {
        // One socket over the limit: told why, then closed.
        s.disconnect("too_many_websockets");
        push_close(&mut s.out, CLOSE_NORMAL, "too many websockets");
        s.finish(CloseReason::ServerClosed(CLOSE_NORMAL), &mut in_rx).await
    };
    tracing::debug!(socket = %id, ?reason, "Socket Mode socket closed");
    shared.sm_unregister(id, reason);
}

struct Socket {
    shared: Arc<Shared>,
    id: SocketId,
    wr: Option<WriteHalf<Io>>,
    out: Vec<u8>,
    stalled: bool,
    held: Vec<Bytes>,
    answer_pings: bool,
    /// When `refresh_requested` is due (after a `warning`).
    refresh_at: Option<Instant>,
    /// When the server closes the socket (after `refresh_requested` or a `disconnect`).
    close_at: Option<Instant>,
    /// The envelope blast (benchmarks; inactive unless configured).
    #[cfg(feature = "blast")]
    blast: BlastRun,
}

impl Socket {
    async fn run(
        &mut self,
        mut rx: mpsc::Receiver<SmCmd>,
        in_rx: &mut mpsc::Receiver<Inbound>,
        overflow: Arc<Notify>,
        debug_reconnects: bool,
    ) -> CloseReason {
        let cfg = self.shared.config.socket_mode.clone();
        let lifetime =
            if debug_reconnects { Some(cfg.debug_reconnects_lifetime) } else { cfg.socket_lifetime };
        let mut warning_at = lifetime.map(|l| Instant::now() + l.saturating_sub(cfg.warning_lead));
        let mut ping = cfg.ping_interval.filter(|d| !d.is_zero()).map(|d| {
            let mut i = tokio::time::interval_at(Instant::now() + d, d);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        let hello = self.shared.sm_hello(self.id, lifetime);
        push_frame(&mut self.out, OpCode::Text, hello.as_bytes());
        // Accepting envelopes only once `hello` is on its way.
        self.shared.sm_accept(self.id);
        loop {
            if let Err(reason) = self.flush().await {
                self.report_blast(true);
                return reason;
            }
            #[cfg(feature = "blast")]
            let (blast_now, blast_later) = {
                let now = Instant::now();
                self.blast.stamp(now);
                let blast_now = self.blast.active() && !self.stalled && self.blast.due(now) > 0;
                (blast_now, if self.stalled { None } else { self.blast.next_at() })
            };
            #[cfg(not(feature = "blast"))]
            let (blast_now, blast_later): (bool, Option<Instant>) = (false, None);
            let step = tokio::select! {
                biased;
                _ = overflow.notified() => Some(CloseReason::SlowConsumer),
                cmd = rx.recv() => match cmd {
                    None => Some(CloseReason::Shutdown),
                    Some(cmd) => self.on_cmds(cmd, &mut rx, &overflow),
                },
                msg = in_rx.recv(), if !self.stalled => match msg {
                    None => Some(CloseReason::ClientGone("reader stopped".into())),
                    Some(msg) => self.on_inbound(msg),
                },
                _ = std::future::ready(()), if blast_now => {
                    self.write_blast();
                    if self.blast_one_per_write() {
                        // The task yields before it writes this one (alone) and makes the next.
                        tokio::task::yield_now().await;
                    }
                    None
                },
                _ = sleep_until(blast_later), if !blast_now && blast_later.is_some() => {
                    self.write_blast();
                    None
                },
                _ = tick(&mut ping), if !self.stalled => {
                    push_frame(&mut self.out, OpCode::Ping, b"emulator");
                    None
                },
                _ = sleep_until(warning_at), if warning_at.is_some() && !self.stalled => {
                    warning_at = None;
                    self.on_cmd(SmCmd::Refresh)
                },
                _ = sleep_until(self.refresh_at), if self.refresh_at.is_some() && !self.stalled => {
                    self.refresh_at = None;
                    self.disconnect("refresh_requested");
                    self.close_at = Some(Instant::now() + cfg.refresh_grace);
                    None
                },
                _ = sleep_until(self.close_at), if self.close_at.is_some() && !self.stalled => {
                    push_close(&mut self.out, CLOSE_NORMAL, "");
                    Some(CloseReason::ServerClosed(CLOSE_NORMAL))
                },
            };
            if let Some(reason) = step {
                return self.finish(reason, in_rx).await;
            }
        }
    }

    /// Whether the blast writes one envelope per write (and yields between them).
    #[cfg(feature = "blast")]
    fn blast_one_per_write(&self) -> bool {
        self.blast.is_one_per_write()
    }

    /// Without the `blast` feature there is never a blast.
    #[cfg(not(feature = "blast"))]
    fn blast_one_per_write(&self) -> bool {
        false
    }

    #[cfg(feature = "blast")]
    fn write_blast(&mut self) {
        if let Some(templates) = self.shared.sm_blast.as_ref() {
            self.blast.write(templates, &mut self.out, &self.shared.clock, self.id, Instant::now());
        }
    }

    /// Publishes the blast's report when it is complete (or `closing`).
    #[cfg(feature = "blast")]
    fn report_blast(&mut self, closing: bool) {
        if let Some(report) = self.blast.report(self.id, closing) {
            tracing::debug!(?report, "envelope blast done");
            self.shared.sm_with(|sm, _| sm.blast_reports.push(report));
        }
    }

    /// Whether `id` acks one of the blast's envelopes (counted there, never recorded).
    #[cfg(feature = "blast")]
    fn blast_ack(&mut self, id: &str) -> bool {
        self.blast.active() && self.blast.on_ack(self.id, id, Instant::now())
    }

    /// Without the `blast` feature there is no blast: nothing to write, report or count.
    #[cfg(not(feature = "blast"))]
    fn write_blast(&mut self) {}

    #[cfg(not(feature = "blast"))]
    fn report_blast(&mut self, _closing: bool) {}

    #[cfg(not(feature = "blast"))]
    fn blast_ack(&mut self, _id: &str) -> bool {
        false
    }

    /// Sends `disconnect` and stops new envelopes coming to this socket.
    fn disconnect(&mut self, reason: &str) {
        let frame = self.shared.sm_disconnect_frame(self.id, reason);
        push_frame(&mut self.out, OpCode::Text, frame.as_bytes());
    }

    /// Handles `first`, then the commands already queued behind it (at most [`BATCH`] in all),
    /// so that one write carries every envelope queued meanwhile instead of one write each.
    /// The order, the bytes and the faults are those of one command per wake-up: the batch
    /// ends (and what it made is written) when the queue is empty, when the socket stalls or
    /// when the queue overflowed (that is handled next, as before).
    fn on_cmds(
        &mut self,
        first: SmCmd,
        rx: &mut mpsc::Receiver<SmCmd>,
        overflow: &Notify,
    ) -> Option<CloseReason> {
        batch(first, rx, BATCH, |cmd| match self.on_cmd(cmd) {
            Some(end) => Err(Some(end)),
            None if self.stalled || notified(overflow) => Err(None),
            None => Ok(()),
        })
    }

    fn on_cmd(&mut self, cmd: SmCmd) -> Option<CloseReason> {
        match cmd {
            SmCmd::Deliver(frame) => {
                if self.stalled {
                    if self.held.len() >= self.shared.config.queue_capacity {
                        return Some(CloseReason::SlowConsumer);
                    }
                    self.held.push(frame);
                } else {
                    push_frame(&mut self.out, OpCode::Text, &frame);
                }
            }
            SmCmd::Disconnect(reason, close_after) => {
                self.disconnect(&reason);
                if let Some(after) = close_after {
                    self.close_at = Some(Instant::now() + after);
                }
            }
            SmCmd::Refresh => {
                if self.refresh_at.is_none() {
                    self.disconnect("warning");
                    self.refresh_at = Some(Instant::now() + self.shared.config.socket_mode.warning_lead);
                }
            }
            SmCmd::Close(code, reason) => {
                push_close(&mut self.out, code, &reason);
                return Some(CloseReason::ServerClosed(code));
            }
            SmCmd::Drop => return Some(CloseReason::Dropped),
            SmCmd::Stall(on) => {
                self.stalled = on;
                if !on {
                    for f in std::mem::take(&mut self.held) {
                        push_frame(&mut self.out, OpCode::Text, &f);
                    }
                }
            }
            SmCmd::Raw(frame) => return crate::wire::push_raw(&mut self.out, frame),
            SmCmd::AnswerPings(on) => self.answer_pings = on,
            SmCmd::Shutdown => return Some(CloseReason::Shutdown),
        }
        None
    }

    fn on_inbound(&mut self, msg: Inbound) -> Option<CloseReason> {
        match msg {
            Inbound::Text(payload) => {
                match serde_json::from_slice::<AckIn>(&payload) {
                    Ok(AckIn { envelope_id: Some(id), .. }) if self.blast_ack(&id) => {
                        self.report_blast(false)
                    }
                    Ok(AckIn { envelope_id: Some(id), payload }) => self.shared.sm_ack(self.id, &id, payload),
                    _ => {
                        tracing::debug!(socket = %self.id, len = payload.len(), "ignoring a client frame that is not an ack")
                    }
                }
                None
            }
            Inbound::Binary(_) => None,
            Inbound::Ping(payload) => {
                self.shared.sm_update(self.id, |s| s.client_pings += 1);
                if self.answer_pings {
                    push_frame(&mut self.out, OpCode::Pong, &payload);
                }
                None
            }
            Inbound::Pong => {
                self.shared.sm_update(self.id, |s| s.client_pongs += 1);
                None
            }
            other => crate::wire::client_ended(&mut self.out, other),
        }
    }

    async fn finish(&mut self, reason: CloseReason, in_rx: &mut mpsc::Receiver<Inbound>) -> CloseReason {
        self.report_blast(true);
        crate::wire::finish(&mut self.wr, &mut self.out, self.shared.config.write_timeout, reason, in_rx)
            .await
    }

    async fn flush(&mut self) -> Result<(), CloseReason> {
        crate::wire::write_out(&mut self.wr, &mut self.out, self.shared.config.write_timeout).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step that only keeps what it was given.
    fn keep(seen: &mut Vec<u32>) -> impl FnMut(u32) -> Result<(), Option<()>> + '_ {
        |i| {
            seen.push(i);
            Ok(())
        }
    }

    async fn queued(items: std::ops::Range<u32>) -> mpsc::Receiver<u32> {
        let (tx, rx) = mpsc::channel(64);
        for i in items {
            tx.send(i).await.unwrap();
        }
        rx
    }

    #[tokio::test]
    async fn a_batch_takes_every_queued_command_in_order_up_to_its_maximum() {
        let mut rx = queued(1..10).await;
        let mut seen = Vec::new();
        let end = batch(0, &mut rx, 4, keep(&mut seen));
        assert_eq!((end, seen), (None, vec![0, 1, 2, 3]));
        // The rest stays queued, in order; an empty queue ends the batch.
        let mut seen = Vec::new();
        let end = batch(100, &mut rx, 64, keep(&mut seen));
        assert_eq!((end, seen), (None, vec![100, 4, 5, 6, 7, 8, 9]));
    }

    #[tokio::test]
    async fn a_step_ends_the_batch_with_or_without_a_result_and_leaves_the_rest_queued() {
        let mut rx = queued(1..6).await;
        let mut seen = Vec::new();
        let end = batch(0, &mut rx, 64, |i| {
            seen.push(i);
            if i == 2 { Err(Some("closed")) } else { Ok(()) }
        });
        assert_eq!((end, &seen), (Some("closed"), &vec![0, 1, 2]));
        let end: Option<&str> = batch(10, &mut rx, 64, |i| if i == 3 { Err(None) } else { Ok(()) });
        assert_eq!((end, rx.try_recv().ok()), (None, Some(4)));
    }

    #[test]
    fn a_held_overflow_notification_is_seen_and_kept() {
        let overflow = Notify::new();
        assert!(!notified(&overflow));
        overflow.notify_one();
        assert!(notified(&overflow));
        assert!(notified(&overflow), "still held for the socket's loop");
    }
}
