//! What the workspace's tests share, in one place: polling waits with a clear failure message,
//! emulator start-up, a raw WebSocket client ([`ws`]) and a raw HTTP/1.1 answer ([`http`]).
//! Not published; depends only on the emulator and what sits below the client crates (tokio,
//! hyper, fastwebsockets), so the tests of every crate (the facade's included) can use it.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod http;
pub mod ws;

use slack_rtm_emulator::{Emulator, EmulatorConfig, SocketModeServerConfig};
use std::time::Duration;

/// How long a wait lasts before it fails the test.
pub const WAIT: Duration = Duration::from_secs(10);

/// How often a wait polls its condition.
pub const POLL: Duration = Duration::from_millis(10);

/// Polls `cond` every [`POLL`] until it holds; fails the test, naming `what`, after [`WAIT`].
/// Uses tokio's clock, so it also works under a paused clock.
pub async fn eventually(what: &str, cond: impl FnMut() -> bool) {
    eventually_within(WAIT, what, cond).await
}

/// [`eventually`] with another limit.
pub async fn eventually_within(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// Starts an emulator with `config`, failing the test if it cannot.
pub async fn emulator(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.expect("the emulator starts")
}

/// Starts an emulator whose Socket Mode side is `sm` without server pings (they would
/// interleave with the frames a test reads), the rest of `config` as given.
pub async fn socket_mode_emulator(config: EmulatorConfig, sm: SocketModeServerConfig) -> Emulator {
    emulator(config.socket_mode(sm.ping_interval(None))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_wait_returns_once_the_condition_holds() {
        let mut polls = 0;
        eventually("three polls", || {
            polls += 1;
            polls == 3
        })
        .await;
        assert_eq!(polls, 3);
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "timed out after 1s waiting for never")]
    async fn a_wait_that_never_holds_fails_with_its_name() {
        eventually_within(Duration::from_secs(1), "never", || false).await;
    }
}
