//! [`StatusWatch`]: a session's published status, read now or awaited as it changes, without
//! a runtime's channel type in the public API.

use tokio::sync::watch;

/// The status a session's loop publishes ([`Status`](super::Status) for RTM,
/// [`SocketModeStatus`](super::SocketModeStatus) for Socket Mode): read it now with
/// [`StatusWatch::current`], wait for its next change with [`StatusWatch::changed`].
///
/// Each watch remembers which status it saw last; a clone starts from the same point.
/// Changes made while nobody waits are not queued: `changed` returns the newest status.
#[derive(Clone, Debug)]
pub struct StatusWatch<S> {
    rx: watch::Receiver<S>,
}

impl<S: Clone> StatusWatch<S> {
    pub(crate) fn new(rx: watch::Receiver<S>) -> Self {
        Self { rx }
    }

    /// The status now (and marks it seen).
    pub fn current(&mut self) -> S {
        self.rx.borrow_and_update().clone()
    }

    /// Waits until the status changes after the last one this watch saw, and returns the new
    /// one; `None` once the session is gone (its last status stays readable with
    /// [`StatusWatch::current`]). Cancel-safe.
    pub async fn changed(&mut self) -> Option<S> {
        self.rx.changed().await.ok()?;
        Some(self.rx.borrow_and_update().clone())
    }

    /// Waits until the status satisfies `pred` (checked on the current one first), or the
    /// session is gone; returns that status (the last one, if the session is gone).
    pub async fn wait_for(&mut self, mut pred: impl FnMut(&S) -> bool) -> S {
        let found = self.rx.wait_for(|s| pred(s)).await.map(|s| s.clone());
        found.unwrap_or_else(|_| self.rx.borrow().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn changed_returns_each_new_status_then_none_once_the_session_is_gone() {
        let (tx, rx) = watch::channel(1);
        let mut w = StatusWatch::new(rx);
        assert_eq!(w.current(), 1);
        tx.send(2).unwrap();
        assert_eq!(w.changed().await, Some(2));
        tx.send(3).unwrap();
        tx.send(4).unwrap();
        assert_eq!(w.changed().await, Some(4), "the newest status, not a queue");
        let mut other = w.clone();
        tx.send(5).unwrap();
        assert_eq!(other.wait_for(|s| *s == 5).await, 5);
        drop(tx);
        assert_eq!(w.changed().await, Some(5), "a change this watch had not seen yet");
        assert_eq!(w.changed().await, None);
        assert_eq!(w.current(), 5);
    }
}
