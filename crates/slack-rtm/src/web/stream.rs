//! [`ChatStream`]: a reply streamed into Slack as it is produced (`chat.startStream`,
//! `chat.appendStream`, `chat.stopStream`), with the codec's [`StreamPlanner`] deciding what
//! to send and when. A spawned task owns the planner and makes the calls; the handle feeds it
//! text through a bounded channel.

use super::{ApiCallError, WebClient};
use serde_json::Value;
use slack_rtm_codec::web::{StreamConfig, StreamOutcome, StreamPlanner, StreamStep};
use slack_rtm_types::web::{AppendStream, StartStream, StopStream, StreamResponse, TaskDisplayMode};
use slack_rtm_types::{ChannelId, TeamId, Ts, UserId};
use std::pin::Pin;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// How a streamed reply ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamReport {
    /// The reply's messages, oldest first (more than one when it outlived a stream's lifetime
    /// or length).
    pub messages: Vec<Ts>,
    /// Characters Slack accepted.
    pub chars: usize,
    /// Web API calls made (`startStream` + `appendStream` + `stopStream`, retries not counted).
    pub calls: u32,
    /// Whether it was cancelled (stopped with what was sent).
    pub cancelled: bool,
}

/// Why a streamed reply did not post all of its text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// A call failed in a way no rollover fixes; `report` says what was posted.
    #[error("streamed reply stopped after {} characters: {source}", report.chars)]
    Call {
        /// The failure.
        #[source]
        source: ApiCallError,
        /// What was posted before it.
        report: StreamReport,
    },
    /// The task posting the reply ended unexpectedly (the runtime shut down).
    #[error("the streamed reply's task ended unexpectedly")]
    TaskGone,
}

enum Input {
    Text(String),
    Finish(Option<Value>),
}

/// Prepares a [`ChatStream`]: made by [`WebClient::chat_stream`].
#[must_use = "a stream starts only with .start()"]
#[derive(Debug)]
pub struct ChatStreamBuilder {
    web: WebClient,
    args: StartStream,
    config: StreamConfig,
}

impl ChatStreamBuilder {
    /// Reply in the thread of this message (streamed replies should answer a user's message).
    pub fn in_thread(mut self, parent: impl Into<Ts>) -> Self {
        self.args.thread_ts = Some(parent.into());
        self
    }

    /// The user the reply is for, and their workspace: required outside a direct message.
    pub fn recipient(mut self, user: impl Into<UserId>, team: Option<TeamId>) -> Self {
        self.args.recipient_user_id = Some(user.into());
        self.args.recipient_team_id = team;
        self
    }

    /// How task updates are shown.
    pub fn task_display_mode(mut self, mode: TaskDisplayMode) -> Self {
        self.args.task_display_mode = Some(mode);
        self
    }

    /// Pacing and limits (see [`StreamConfig`]; the defaults fit Slack's).
    pub fn config(mut self, config: StreamConfig) -> Self {
        self.config = config;
        self
    }

    /// Starts the reply's task (on the current tokio runtime). Nothing is posted before the
    /// first text, or [`ChatStream::finish`].
    pub fn start(self) -> ChatStream {
        let (tx, rx) = mpsc::channel(64);
        let (ts_tx, ts_rx) = watch::channel(Vec::new());
        let driver =
            Driver { web: self.web, args: self.args, planner: StreamPlanner::new(self.config), ts: ts_tx };
        let span = tracing::info_span!("chat_stream", channel = %driver.args.channel);
        let task = tokio::spawn(driver.run(rx).instrument(span));
        ChatStream { tx: Some(tx), ts: ts_rx, task: Some(task) }
    }
}

/// A reply streamed into a message as it is produced. Made by [`WebClient::chat_stream`].
///
/// - [`ChatStream::append`] and [`ChatStream::pipe`] add text; small pieces are coalesced
///   (the first text shows within ~150 ms, then about one call per second), and 429s are
///   waited out without losing or reordering text.
/// - A reply that outlives a stream (Slack ends one after about five minutes, or refuses it
///   past a length) goes on in a new message: the user sees all of it, once, in order.
/// - [`ChatStream::finish`] posts the rest and stops the stream, with optional blocks (e.g.
///   feedback buttons) at the end.
/// - Dropped or [cancelled](ChatStream::cancel) before that, it stops the message with what
///   was sent (from its task, so dropping never blocks).
///
/// ```no_run
/// # async fn f(web: slack_rtm::WebClient) -> Result<(), Box<dyn std::error::Error>> {
/// let mut reply = web.chat_stream("C123").in_thread("1700000000.000100").start();
/// reply.append("Thinking about it… ").await?;
/// reply.append("here is the answer.").await?;
/// let report = reply.finish(None).await?;
/// println!("posted {} characters in {:?}", report.chars, report.messages);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ChatStream {
    tx: Option<mpsc::Sender<Input>>,
    ts: watch::Receiver<Vec<Ts>>,
    task: Option<JoinHandle<Result<StreamReport, StreamError>>>,
}

impl ChatStream {
    /// The reply's (first) message `ts`, once `chat.startStream` answered.
    pub fn ts(&self) -> Option<Ts> {
        self.ts.borrow().first().cloned()
    }

    /// Every message of the reply so far.
    pub fn messages(&self) -> Vec<Ts> {
        self.ts.borrow().clone()
    }

    /// Waits until the first message exists (`None` if the reply ended without one).
    pub async fn wait_ts(&mut self) -> Option<Ts> {
        let _ = self.ts.wait_for(|m| !m.is_empty()).await;
        self.ts()
    }

    /// Adds `text`. Waits only when the reply's buffer is full (back-pressure).
    pub async fn append(&mut self, text: impl Into<String>) -> Result<(), StreamError> {
        let text = text.into();
        if text.is_empty() {
            return Ok(());
        }
        let sent = match &self.tx {
            Some(tx) => tx.send(Input::Text(text)).await.is_ok(),
            None => false,
        };
        if sent { Ok(()) } else { Err(self.ended().await) }
    }

    /// Appends every item of `stream` (e.g. an LLM client's token stream) as it arrives.
    pub async fn pipe<S, T>(&mut self, stream: S) -> Result<(), StreamError>
    where
        S: futures_core::Stream<Item = T>,
        T: AsRef<str>,
    {
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = next(stream.as_mut()).await {
            self.append(item.as_ref()).await?;
        }
        Ok(())
    }

    /// Posts the rest, stops the stream with `blocks` (a JSON array) at its end, and says
    /// what was posted. `Ok` only when all of the text was.
    pub async fn finish(mut self, blocks: Option<Value>) -> Result<StreamReport, StreamError> {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Input::Finish(blocks)).await;
        }
        self.join().await
    }

    /// Stops the message with what was sent (text still buffered is dropped).
    pub async fn cancel(mut self) -> Result<StreamReport, StreamError> {
        self.tx = None;
        self.join().await
    }

    async fn join(&mut self) -> Result<StreamReport, StreamError> {
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Err(StreamError::TaskGone)),
            None => Err(StreamError::TaskGone),
        }
    }

    async fn ended(&mut self) -> StreamError {
        self.tx = None;
        match self.join().await {
            Err(e) => e,
            Ok(_) => StreamError::TaskGone,
        }
    }
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        // Closing the channel cancels the reply; the task stops the message by itself.
        if self.tx.take().is_some() {
            tracing::debug!("streamed reply dropped before finish: stopping it with what was sent");
        }
    }
}

async fn next<S: futures_core::Stream>(mut s: Pin<&mut S>) -> Option<S::Item> {
    std::future::poll_fn(|cx| s.as_mut().poll_next(cx)).await
}

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

fn outcome(result: &Result<StreamResponse, ApiCallError>) -> StreamOutcome {
    match result {
        Ok(r) => StreamOutcome::Ok { ts: Some(r.ts.clone()) },
        Err(e) if e.retry_after().is_some() => {
            StreamOutcome::RateLimited { retry_after: e.retry_after().unwrap_or_default() }
        }
        Err(e) => match e.api_error().map(|c| c.as_str()) {
            Some("message_not_in_streaming_state") => StreamOutcome::NotStreaming,
            Some("msg_too_long") => StreamOutcome::TooLong,
            _ => StreamOutcome::Failed,
        },
    }
}

struct Driver {
    web: WebClient,
    args: StartStream,
    planner: StreamPlanner,
    ts: watch::Sender<Vec<Ts>>,
}

impl Driver {
    async fn run(mut self, mut rx: mpsc::Receiver<Input>) -> Result<StreamReport, StreamError> {
        let mut blocks = None;
        let mut open = true;
        let mut cancelled = false;
        let mut calls = 0u32;
        let mut last_error = None;
        loop {
            let wait = match self.planner.poll(now()) {
                StreamStep::Done => break,
                StreamStep::Wait(d) => Some(d),
                StreamStep::NeedInput => None,
                StreamStep::InFlight => unreachable!("the driver reports every call"),
                step => {
                    calls += 1;
                    let result = self.call(step, &mut blocks).await;
                    let out = outcome(&result);
                    if out == StreamOutcome::Failed
                        && let Err(e) = result
                    {
                        tracing::warn!(error = %e, "streamed reply failed");
                        last_error = Some(e);
                    }
                    self.planner.on_result(out, now());
                    self.ts.send_if_modified(|m| {
                        let changed = m.len() != self.planner.messages().len();
                        m.clone_from(&self.planner.messages().to_vec());
                        changed
                    });
                    continue;
                }
            };
            let accept = open && self.planner.has_room();
            let input = match wait {
                Some(d) => tokio::select! {
                    i = rx.recv(), if accept => Some(i),
                    _ = tokio::time::sleep(d) => None,
                },
                None if accept => Some(rx.recv().await),
                // Buffer full and nothing due cannot happen (a full buffer is always due);
                // yield instead of spinning, just in case.
                None => {
                    tokio::task::yield_now().await;
                    None
                }
            };
            match input {
                None => {}
                Some(Some(Input::Text(t))) => self.planner.push(&t, now()),
                Some(Some(Input::Finish(b))) => {
                    blocks = b;
                    open = false;
                    self.planner.finish();
                }
                Some(None) => {
                    open = false;
                    cancelled = true;
                    self.planner.cancel();
                }
            }
        }
        let report = StreamReport {
            messages: self.planner.messages().to_vec(),
            chars: self.planner.sent_chars(),
            calls,
            cancelled,
        };
        match last_error {
            Some(source) if self.planner.failed() => Err(StreamError::Call { source, report }),
            _ => Ok(report),
        }
    }

    async fn call(
        &mut self,
        step: StreamStep,
        blocks: &mut Option<Value>,
    ) -> Result<StreamResponse, ApiCallError> {
        let channel: ChannelId = self.args.channel.clone();
        match step {
            StreamStep::Start { text } => {
                let mut args = self.args.clone();
                args.markdown_text = (!text.is_empty()).then_some(text);
                self.web.start_stream(&args).await
            }
            StreamStep::Append { ts, text } => {
                self.web.append_stream(&AppendStream::text(channel, ts, text)).await
            }
            StreamStep::Stop { ts, last } => {
                let mut args = StopStream::new(channel, ts);
                if last {
                    args.blocks = blocks.clone();
                }
                self.web.stop_stream(&args).await
            }
            _ => unreachable!("only calls are sent"),
        }
    }
}

impl WebClient {
    /// A streamed reply in `channel`: chain `.in_thread(ts)`, `.recipient(user, team)`, then
    /// `.start()`. See [`ChatStream`].
    pub fn chat_stream(&self, channel: impl Into<ChannelId>) -> ChatStreamBuilder {
        ChatStreamBuilder {
            web: self.clone(),
            args: StartStream::new(channel),
            config: StreamConfig::default(),
        }
    }

    /// `chat.startStream`, as is (no coalescing or rollover: see [`WebClient::chat_stream`]).
    pub async fn start_stream(&self, args: &StartStream) -> Result<StreamResponse, ApiCallError> {
        self.call("chat.startStream", args).await?.parse()
    }

    /// `chat.appendStream`, as is.
    pub async fn append_stream(&self, args: &AppendStream) -> Result<StreamResponse, ApiCallError> {
        self.call("chat.appendStream", args).await?.parse()
    }

    /// `chat.stopStream`, as is.
    pub async fn stop_stream(&self, args: &StopStream) -> Result<StreamResponse, ApiCallError> {
        self.call("chat.stopStream", args).await?.parse()
    }
}
