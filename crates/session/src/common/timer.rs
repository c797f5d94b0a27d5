//! The mechanism of a machine's one table of deadlines (each machine has its own table).

use std::time::Instant;

/// A machine's one table of deadlines. RTM's machine and Socket Mode's each list their timers
/// and say when each fires and what firing does; finding the next deadline and firing the
/// ones that passed is written once, here.
pub(crate) trait TimerTable {
    /// The machine's timers.
    type Timer: Copy + 'static;
    /// Every timer, in the order they fire when several are due.
    const ALL: &'static [Self::Timer];
    /// When `timer` fires, if it is armed.
    fn deadline(&self, timer: Self::Timer) -> Option<Instant>;
    /// Acts on `timer`, whose deadline has passed at `now`.
    fn fire(&mut self, timer: Self::Timer, now: Instant);

    /// Every armed timer with its deadline.
    fn timers(&self) -> impl Iterator<Item = (Self::Timer, Instant)> + '_ {
        Self::ALL.iter().filter_map(move |&t| self.deadline(t).map(|at| (t, at)))
    }

    /// The earliest armed deadline.
    fn next_deadline(&self) -> Option<Instant> {
        self.timers().map(|(_, at)| at).min()
    }

    /// Fires every timer whose deadline has passed at `now`, in table order.
    fn fire_due(&mut self, now: Instant) {
        for &timer in Self::ALL {
            if self.deadline(timer).is_some_and(|at| at <= now) {
                self.fire(timer, now);
            }
        }
    }
}

/// Test kit, for both machines' invariant checkers (`RtmInvariants`, `SocketModeInvariants`):
/// checks that [`Machine::poll_timeout`] is the earliest armed deadline and, if one is due at
/// `now`, that `handle_timeout(now)` handles it (moves or disarms it: none forgotten, none
/// spinning). `drain` checks and returns what firing output.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn check_deadlines<M, O>(
    m: &mut M,
    now: Instant,
    drain: impl FnOnce(&mut M) -> Result<Vec<O>, String>,
) -> Result<Vec<O>, String>
where
    M: TimerTable + super::Machine,
    M::Timer: std::fmt::Debug,
{
    if m.poll_timeout() != m.timers().map(|(_, at)| at).min() {
        return Err("poll_timeout is not the earliest armed deadline".into());
    }
    if m.poll_timeout().is_none_or(|t| t > now) {
        return Ok(Vec::new());
    }
    m.handle_timeout(now);
    let outs = drain(m)?;
    if let Some((timer, at)) = m.timers().find(|(_, at)| *at <= now) {
        return Err(format!("{timer:?} due at {at:?} was not handled at {now:?}"));
    }
    Ok(outs)
}
