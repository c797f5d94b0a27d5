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
