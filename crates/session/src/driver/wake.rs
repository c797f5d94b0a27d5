//! The loop's one timer: the machine's next deadline as a tokio `Sleep`, touched only when it
//! can matter.
//!
//! A loop turn sets it to the machine's next deadline and polls it. Setting it again to the same
//! wake-up point (far deadlines share a grid point, see [`coarse`]) leaves the `Sleep` alone, and
//! once the `Sleep` has registered the loop task's waker with tokio's time driver, polling it
//! again before its deadline only registers the same waker again: those polls are skipped. A
//! `Sleep` reset, or polled by another waker, is polled again.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::time::Sleep;

/// Deadlines at least this far away are rounded up to [`COARSE_GRID`].
const COARSE_AFTER: Duration = Duration::from_secs(1);
/// The process-wide grid of far deadlines (keepalive pings, pong and hello timeouts, backoffs):
/// the timers of thousands of idle sessions in one process fire together a few times a second,
/// sharing a wake-up, instead of each waking a worker on its own.
const COARSE_GRID: Duration = Duration::from_millis(100);

/// When to wake for `deadline`: itself if it is near, else the first point of the process-wide
/// grid at or after it (never before the deadline, at most one grid step after).
pub(crate) fn coarse(deadline: Instant, now: Instant) -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    if deadline.saturating_duration_since(now) < COARSE_AFTER {
        return deadline;
    }
    let origin = *ORIGIN.get_or_init(|| now);
    let grid = COARSE_GRID.as_nanos();
    let since = deadline.saturating_duration_since(origin).as_nanos();
    let steps = since.div_ceil(grid);
    u64::try_from(steps * grid).map_or(deadline, |ns| origin + Duration::from_nanos(ns)).max(deadline)
}

/// The machine's next deadline as a `Sleep` (see the module's documentation).
pub(crate) struct LoopTimer<'a> {
    /// Pinned where the loop keeps its state (no allocation of its own).
    sleep: Pin<&'a mut Sleep>,
    /// The machine's deadline it was last set to (`None`: disarmed, or fired).
    armed: Option<Instant>,
    /// When the `Sleep` wakes (the coarse point of `armed`).
    wake_at: Option<tokio::time::Instant>,
    /// The waker the `Sleep` registered with the time driver since its last reset.
    registered: Option<Waker>,
}

impl<'a> LoopTimer<'a> {
    /// Over `sleep`, disarmed (its deadline does not matter).
    pub(crate) fn new(sleep: Pin<&'a mut Sleep>) -> Self {
        Self { sleep, armed: None, wake_at: None, registered: None }
    }

    /// Arms it for the machine's next deadline (`None`: disarms it).
    pub(crate) fn set(&mut self, next: Option<Instant>) {
        if next == self.armed {
            return;
        }
        self.armed = next;
        if let Some(t) = next {
            let at = tokio::time::Instant::from_std(coarse(t, Instant::now()));
            if self.wake_at != Some(at) {
                self.sleep.as_mut().reset(at);
                self.wake_at = Some(at);
                self.registered = None;
            }
        }
    }

    /// Whether it is armed (a disarmed timer is never ready).
    pub(crate) fn is_armed(&self) -> bool {
        self.armed.is_some()
    }

    /// Ready once the armed deadline's wake-up point has passed; then disarmed until the next
    /// [`set`](Self::set).
    pub(crate) fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.wake_at.is_none() || self.armed.is_none() {
            return Poll::Pending;
        }
        // Registered with this task's waker, and not fired yet: the time driver will wake the
        // task when it fires. `is_elapsed` reads the entry's state (what a poll would look at)
        // without reading the clock, which a loop turn would otherwise do twice per pass.
        if self.registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) && !self.sleep.is_elapsed() {
            return Poll::Pending;
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.armed = None;
                Poll::Ready(())
            }
            Poll::Pending => {
                if !self.registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    self.registered = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{COARSE_AFTER, COARSE_GRID, LoopTimer, coarse};
    use std::future::poll_fn;
    use std::time::{Duration, Instant};

    #[test]
    fn far_deadlines_share_grid_points_and_near_ones_are_kept() {
        let now = Instant::now();
        let near = now + COARSE_AFTER - Duration::from_millis(1);
        assert_eq!(coarse(near, now), near);
        // Deadlines spread over one grid step land on at most two points, never early and
        // never more than a step late.
        let mut points = std::collections::BTreeSet::new();
        for i in 0..100u64 {
            let d = now + Duration::from_secs(5) + Duration::from_micros(i * 997);
            let at = coarse(d, now);
            assert!(at >= d && at - d <= COARSE_GRID, "{:?} for {:?}", at - now, d - now);
            points.insert(at);
        }
        assert!(points.len() <= 2, "{} wake-ups for 100 deadlines", points.len());
        // Seen from another time, the same grid.
        let later = now + Duration::from_millis(337);
        let d = later + Duration::from_secs(5);
        assert_eq!(coarse(d, later), coarse(d, now));
    }

    /// Waits in a `select!` the way the loop does: the timer, or a nudge that only wakes the
    /// task (and makes the loop go round without the timer being due).
    async fn turn(timer: &mut LoopTimer<'_>, nudge: &mut tokio::sync::mpsc::UnboundedReceiver<()>) -> bool {
        tokio::select! {
            biased;
            () = poll_fn(|cx| timer.poll_due(cx)), if timer.is_armed() => true,
            _ = nudge.recv() => false,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_skipped_poll_still_wakes_the_task_at_the_deadline_and_a_reset_is_kept() {
        let (tx, mut nudge) = tokio::sync::mpsc::unbounded_channel();
        let sleep = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(sleep);
        let mut timer = LoopTimer::new(sleep);
        // The paused clock's time (the loop reads the machine's deadlines as `std` instants).
        let now = || tokio::time::Instant::now().into_std();
        let start = now();
        timer.set(Some(start + Duration::from_millis(300)));
        // Turns woken by something else before the deadline: the timer is not due.
        for _ in 0..3 {
            tx.send(()).unwrap();
            assert!(!turn(&mut timer, &mut nudge).await);
        }
        // Nothing else wakes the task now: the registered waker must, at the deadline.
        assert!(turn(&mut timer, &mut nudge).await);
        assert!(now() >= start + Duration::from_millis(300));
        assert!(!timer.is_armed(), "fired, disarmed until set again");
        // Set again to the same deadline: armed again, and due at once.
        timer.set(Some(start + Duration::from_millis(300)));
        assert!(turn(&mut timer, &mut nudge).await);
        // Moved earlier after a registered poll: the earlier deadline counts.
        let t = now();
        timer.set(Some(t + Duration::from_millis(500)));
        tx.send(()).unwrap();
        assert!(!turn(&mut timer, &mut nudge).await);
        timer.set(Some(t + Duration::from_millis(100)));
        assert!(turn(&mut timer, &mut nudge).await);
        let waited = now() - t;
        assert!(waited >= Duration::from_millis(100) && waited < Duration::from_millis(500), "{waited:?}");
        // Moved later: not fired early.
        let t = now();
        timer.set(Some(t + Duration::from_millis(100)));
        tx.send(()).unwrap();
        assert!(!turn(&mut timer, &mut nudge).await);
        timer.set(Some(t + Duration::from_millis(400)));
        assert!(turn(&mut timer, &mut nudge).await);
        assert!(now() - t >= Duration::from_millis(400));
        // Disarmed: never ready.
        timer.set(Some(now() + Duration::from_millis(50)));
        timer.set(None);
        tx.send(()).unwrap();
        assert!(!turn(&mut timer, &mut nudge).await);
    }
}
