//! `slack-rtm send` without `--rtm`: every message through the Web API (`chat.postMessage`),
//! which every bot token can use, in input order and paced at `--rate`. `--rtm` (in
//! `commands.rs`) posts over an RTM socket instead, which only classic apps can open.

use crate::cli::{ConnOpts, exit};
use crate::commands::{Failure, check_send_args};
use slack_rtm::{ErrorKind, WebClient};
use std::io::{IsTerminal, Write};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::time::Instant;

/// Messages sent at once before `--rate` applies (as for `--rtm`).
const BURST: u32 = 3;

/// `slack-rtm send --channel C [--text T] [--thread TS] [--rate N]`.
pub async fn send(
    conn: ConnOpts,
    channel: String,
    text: Option<String>,
    thread: Option<String>,
    rate: f64,
) -> Result<u8, Failure> {
    let interval = check_send_args(&channel, rate)?;
    let web = match text {
        // One call: it is the check.
        Some(_) => crate::web::web_client(&conn)?,
        // A bad token is found now, not after the first line was read and sent.
        None => crate::web::checked_web_client(&conn).await?,
    };
    let mut post = Poster { web, channel, thread, tally: Tally::default() };
    match text {
        Some(t) => post.one(t).await?,
        None => {
            let progress = std::io::stderr().is_terminal();
            let mut pace = Pace { interval, next: Instant::now() };
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            loop {
                let line = match lines.next_line().await {
                    Ok(Some(l)) => l,
                    Ok(None) => break,
                    Err(e) => {
                        eprintln!("slack-rtm: reading stdin: {e}");
                        post.tally.failed += 1;
                        break;
                    }
                };
                if line.trim().is_empty() {
                    continue;
                }
                pace.wait().await;
                post.one(line).await?;
                if progress {
                    eprint!("\rslack-rtm: {} posted, {} failed ", post.tally.posted, post.tally.failed);
                }
            }
            if progress {
                eprintln!();
            }
        }
    }
    Ok(if post.tally.failed == 0 { exit::OK } else { exit::NOT_ALL_SENT })
}

/// Paces messages at one per `interval` after a burst of [`BURST`].
struct Pace {
    interval: Duration,
    /// When the bucket is empty again (the theoretical arrival time of the next message).
    next: Instant,
}

impl Pace {
    async fn wait(&mut self) {
        let now = Instant::now();
        let next = self.next.max(now);
        let allowed_from = (next + self.interval).checked_sub(self.interval * BURST).unwrap_or(now);
        tokio::time::sleep_until(allowed_from).await;
        self.next = next + self.interval;
    }
}

/// What was posted so far.
#[derive(Default)]
struct Tally {
    posted: u64,
    failed: u64,
}

struct Poster {
    web: WebClient,
    channel: String,
    thread: Option<String>,
    tally: Tally,
}

impl Poster {
    /// Posts one message and prints its `ts`. A refused token stops everything (every message
    /// after it would be refused too); any other failure is reported and counted.
    async fn one(&mut self, text: String) -> Result<(), Failure> {
        let n = self.tally.posted + self.tally.failed + 1;
        let mut call = self.web.post_message(self.channel.as_str(), text);
        if let Some(ts) = &self.thread {
            call = call.in_thread(ts.as_str());
        }
        match call.await {
            Ok(posted) => {
                self.tally.posted += 1;
                let mut out = std::io::stdout().lock();
                // A closed stdout (e.g. `| head`) is not worth a panic.
                let _ = writeln!(out, "{}", posted.ts).and_then(|_| out.flush());
            }
            Err(e) if e.kind() == ErrorKind::Auth => return Err(e.into()),
            Err(e) if e.may_have_been_applied() => {
                self.tally.failed += 1;
                eprintln!("slack-rtm: message {n}: {e} (it may have been posted)");
            }
            Err(e) => {
                self.tally.failed += 1;
                eprintln!("slack-rtm: message {n} not posted: {e}");
            }
        }
        Ok(())
    }
}
