//! Observation: what clients did, and waits on it.

use crate::shared::State;
use crate::{
    ConnectCall, ConnectionId, ConnectionRecord, Emulator, EmulatorError, PostedMessage, ReceivedFrame,
};
use std::time::Duration;

impl Emulator {
    /// Every connection (open and closed, oldest first; bounded by `record_limit`).
    pub fn connections(&self) -> Vec<ConnectionRecord> {
        self.shared.lock().conn_infos.to_vec()
    }

    /// The ids of the open connections, in connection order.
    pub fn open_connections(&self) -> Vec<ConnectionId> {
        let mut ids: Vec<ConnectionId> = self.shared.lock().conns.keys().copied().collect();
        ids.sort();
        ids
    }

    /// How many connections were ever admitted (a URL that was expired or reused does not count).
    pub fn connection_count(&self) -> u64 {
        self.shared.lock().next_conn
    }

    /// Socket upgrades refused because their URL was unknown, reused or expired.
    pub fn expired_socket_attempts(&self) -> u64 {
        self.shared.lock().expired_attempts
    }

    /// The recorded `rtm.connect` calls (oldest first; bounded).
    pub fn rtm_connect_calls(&self) -> Vec<ConnectCall> {
        self.shared.lock().calls.to_vec()
    }

    /// How many times `rtm.connect` was called.
    pub fn rtm_connect_call_count(&self) -> u64 {
        self.shared.lock().calls.total()
    }

    /// How many times `auth.test` was called.
    pub fn auth_test_calls(&self) -> u64 {
        self.shared.lock().auth_tests
    }

    /// How many requests carried a token in the URL's query string (tokens belong in the
    /// `Authorization` header).
    pub fn tokens_seen_in_urls(&self) -> usize {
        self.shared.lock().tokens_in_urls
    }

    /// Every data frame clients sent (oldest first; bounded; empty when `record_frames` is off).
    pub fn received_frames(&self) -> Vec<ReceivedFrame> {
        self.shared.lock().frames.to_vec()
    }

    /// The data frames one connection sent.
    pub fn received_frames_of(&self, conn: ConnectionId) -> Vec<ReceivedFrame> {
        self.shared.lock().frames.iter().filter(|f| f.conn == conn).cloned().collect()
    }

    /// Every message posted over the socket (and by [`Emulator::post_message`], with
    /// connection id 0), oldest first; bounded.
    pub fn posted_messages(&self) -> Vec<PostedMessage> {
        self.shared.lock().messages.to_vec()
    }

    /// Waits until `cond` holds, re-checking on every change.
    pub(crate) async fn wait_until(
        &self,
        what: impl Fn() -> String,
        timeout: Duration,
        cond: impl Fn(&State) -> bool,
    ) -> Result<(), EmulatorError> {
        let mut rx = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if cond(&self.shared.lock()) {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    if cond(&self.shared.lock()) {
                        return Ok(());
                    }
                    return Err(EmulatorError::Timeout { what: what(), timeout });
                }
            }
        }
    }

    /// Waits until at least `n` connections were ever admitted.
    pub async fn wait_for_connections(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} connections"), timeout, |st| st.next_conn >= n).await
    }

    /// Waits until exactly `n` connections are open (e.g. 0 to see a client go away).
    pub async fn wait_for_open_connections(&self, n: usize, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} open connections"), timeout, |st| st.conns.len() == n).await
    }

    /// Waits until at least `n` messages were posted.
    pub async fn wait_for_posted_messages(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} posted messages"), timeout, |st| st.messages.total() >= n).await
    }

    /// Waits until clients sent at least `n` data frames in total.
    pub async fn wait_for_received_frames(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} client frames"), timeout, |st| st.frames.total() >= n).await
    }

    /// Waits until `rtm.connect` was called at least `n` times.
    pub async fn wait_for_rtm_connect_calls(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} rtm.connect calls"), timeout, |st| st.calls.total() >= n).await
    }
}
