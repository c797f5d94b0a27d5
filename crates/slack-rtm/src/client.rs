use crate::{ClientBuilder, Error, WebClient};
use slack_rtm_session::driver::{SessionEventStream, SessionHandle};
#[cfg(doc)]
use slack_rtm_session::rtm::LazyEvent;
use slack_rtm_session::rtm::{LazySessionEvent, RtmAck, SendError, SessionEvent, State, StopReason};
use slack_rtm_types::client::{OutgoingMessage, Ping};
use slack_rtm_types::{ChannelId, ClientMessage, SelfInfo, TeamInfo, Token, Ts, UserId};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How long [`Client::shutdown`] lets queued messages go out before failing them.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A connected RTM client: send messages, typing indicators, presence requests, pings.
///
/// Cheap to clone (an `Arc` inside), `Send + Sync`: give a clone to every task that sends.
/// Events arrive on the [`Events`] returned with it by [`ClientBuilder::connect`]. When every
/// clone and the `Events` are dropped, the session shuts down.
#[derive(Clone, Debug)]
pub struct Client {
    handle: SessionHandle,
    web: WebClient,
}

/// A message Slack accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Posted {
    /// The message's timestamp: its id in the channel (use it to thread replies).
    pub ts: Option<Ts>,
    /// The text as Slack stored it (links formatted, special characters escaped).
    pub text: Option<String>,
}

impl Client {
    /// Starts configuring a client for this token (`xoxb-…` bot token of a classic app, or a
    /// user token with the `client` scope).
    pub fn builder(token: impl Into<Token>) -> ClientBuilder {
        ClientBuilder::new(token.into())
    }

    /// Posts a plain-text message; `.await` it for the ack. Add `.in_thread(ts)` to reply in a
    /// thread:
    ///
    /// ```no_run
    /// # async fn f(client: slack_rtm::Client) -> Result<(), slack_rtm::rtm::SendError> {
    /// let posted = client.send_message("C024BE91L", "Hello").await?;
    /// client.send_message("C024BE91L", "a reply").in_thread(posted.ts.unwrap()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// Text over 4000 characters, an empty channel or a frame over 16 KB fail at once with
    /// [`SendError::Invalid`]. If the connection drops before the message is written, it is
    /// sent after the reconnection, once; if it drops after, the error is
    /// [`SendError::Unconfirmed`] (it may or may not have been posted).
    pub fn send_message(&self, channel: impl Into<ChannelId>, text: impl Into<String>) -> SendMessage {
        SendMessage { handle: self.handle.clone(), message: OutgoingMessage::new(channel, text) }
    }

    /// Sends any client message and waits for its outcome.
    pub async fn send(&self, message: ClientMessage) -> Result<RtmAck, SendError> {
        self.handle.send(message).await
    }

    /// Shows "is typing…" in a channel. At most one per 3 s per channel goes out (Slack's
    /// rule); extra ones succeed without being sent.
    pub async fn typing(&self, channel: impl Into<ChannelId>) -> Result<(), SendError> {
        self.handle.send(ClientMessage::typing(channel)).await.map(|_| ())
    }

    /// Replaces the set of users whose `presence_change` events this session receives. The set
    /// is sent again after every reconnection.
    pub async fn subscribe_presence(&self, users: impl IntoIterator<Item = UserId>) -> Result<(), SendError> {
        let ids = users.into_iter().collect();
        self.handle.send(ClientMessage::PresenceSub { ids }).await.map(|_| ())
    }

    /// Asks for the current presence of up to 500 users; the answers arrive as
    /// `presence_change` events.
    pub async fn query_presence(&self, users: impl IntoIterator<Item = UserId>) -> Result<(), SendError> {
        let ids = users.into_iter().collect();
        self.handle.send(ClientMessage::PresenceQuery { ids }).await.map(|_| ())
    }

    /// Sends an application-level ping and returns the round-trip time to its `pong` (queue
    /// wait included, if the send rate makes it wait).
    pub async fn ping(&self) -> Result<Duration, SendError> {
        let start = Instant::now();
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.handle.send(ClientMessage::Ping(Ping::with_time(millis))).await?;
        Ok(start.elapsed())
    }

    /// The session's state now.
    pub fn state(&self) -> State {
        self.handle.state()
    }

    /// The session's status now: its state, the last problem, the connection count (as
    /// [`SocketModeClient::status`](crate::SocketModeClient::status) for Socket Mode).
    pub fn status(&self) -> crate::rtm::Status {
        self.handle.status()
    }

    /// The connecting user, as of the latest connection (published by the session itself, so
    /// it is current whether or not anyone reads [`Events`]).
    pub fn self_info(&self) -> Option<SelfInfo> {
        self.handle.self_info()
    }

    /// The workspace, as of the latest connection.
    pub fn team_info(&self) -> Option<TeamInfo> {
        self.handle.team_info()
    }

    /// Shuts down: no new sends; queued messages still go out for up to 5 s; every pending
    /// send is then resolved, the socket closed with code 1000, and [`Events`] ends after
    /// [`SessionEvent::Stopped`]. Idempotent.
    pub async fn shutdown(&self) {
        self.handle.shutdown(DEFAULT_SHUTDOWN_GRACE).await;
    }

    /// [`Client::shutdown`] with another grace period for queued messages.
    pub async fn shutdown_with(&self, grace: Duration) {
        self.handle.shutdown(grace).await;
    }

    /// The Web API client for this session's token, over the same transport, proxy and TLS
    /// settings: rich messages (`chat.postMessage` with blocks), history, reactions, modals.
    pub fn web(&self) -> &WebClient {
        &self.web
    }

    /// The underlying session handle (for `try_submit`, `watch_status`, …).
    pub fn session(&self) -> &SessionHandle {
        &self.handle
    }
}

/// A message being sent: `.await` it for the [`Posted`] ack. Made by [`Client::send_message`].
#[must_use = "a message is sent only when awaited"]
#[derive(Debug)]
pub struct SendMessage {
    /// The session's handle only (the `WebClient` is not needed to send).
    handle: SessionHandle,
    message: OutgoingMessage,
}

impl SendMessage {
    /// Reply in the thread of the message with this `ts`.
    pub fn in_thread(mut self, parent: impl Into<Ts>) -> Self {
        self.message.thread_ts = Some(parent.into());
        self
    }

    /// With [`SendMessage::in_thread`]: also show the reply in the channel.
    pub fn broadcast(mut self, on: bool) -> Self {
        self.message.reply_broadcast = Some(on);
        self
    }
}

impl IntoFuture for SendMessage {
    type Output = Result<Posted, SendError>;
    type IntoFuture = SendMessageFuture;

    fn into_future(self) -> SendMessageFuture {
        SendMessageFuture { send: self.handle.send_owned(ClientMessage::Message(self.message)) }
    }
}

/// The future of a [`SendMessage`]: the [`Posted`] ack, or why the message failed. `Send`,
/// `Unpin` and `'static`, so it can be stored, spawned or selected on as it is.
///
/// Dropping it before its first poll sends nothing; after, the message is still sent once and
/// only its ack is not read.
#[must_use = "a message is sent only when awaited"]
#[derive(Debug)]
pub struct SendMessageFuture {
    send: slack_rtm_session::driver::SendOwned,
}

impl Future for SendMessageFuture {
    type Output = Result<Posted, SendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.send).poll(cx).map(|ack| match ack? {
            RtmAck::Posted { ts, text } => Ok(Posted { ts, text }),
            // Any other ack for a message would be a bug in the session; report it as
            // "no confirmation" rather than invent a timestamp.
            _ => Err(SendError::Unconfirmed),
        })
    }
}

/// The session's events, in order: lifecycle changes ([`SessionEvent::Connected`],
/// [`SessionEvent::Reconnecting`], [`SessionEvent::Gap`], …) and every server event as
/// [`SessionEvent::Rtm`].
///
/// Read it with `while let Some(event) = events.next().await`; `next` is cancel-safe, so it can
/// sit in a `tokio::select!`. It is also a [`futures_core::Stream`], for `tokio-stream`'s and
/// `futures`' combinators. [`Events::next_lazy`] reads the same events with server events
/// decoded only when asked ([`LazySessionEvent`]), for an application that reads a few fields of
/// each, or skips most.
///
/// The buffer is bounded: if the application stops reading, the session stops reading the
/// socket (backpressure) instead of growing memory. Ends (`None`) after
/// [`SessionEvent::Stopped`].
#[derive(Debug)]
pub struct Events {
    stream: SessionEventStream,
}

impl Events {
    /// Bytes of the event frames the session handed over and not read yet (counted per batch
    /// of up to 64). The session stops reading its socket while this is at
    /// [`ClientBuilder::capacity_bytes`](crate::ClientBuilder::capacity_bytes).
    pub fn queued_bytes(&self) -> usize {
        self.stream.queued_bytes()
    }

    /// The next event; `None` once the session has stopped and everything was delivered.
    pub async fn next(&mut self) -> Option<SessionEvent> {
        self.stream.recv().await
    }

    /// Polls for the next event.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<SessionEvent>> {
        self.stream.poll_recv(cx)
    }

    /// The next event if one is ready now, without waiting (not `TryStreamExt::try_next`:
    /// nothing here is fallible).
    pub fn next_ready(&mut self) -> Option<SessionEvent> {
        self.stream.try_recv()
    }

    /// The next event with server events left undecoded: a [`LazySessionEvent::Rtm`] holds the
    /// frame with its type ([`LazyEvent::kind`]); read a message's channel, user and text
    /// borrowed ([`LazyEvent::message`]), or decode the typed [`Event`](crate::rtm::Event) only
    /// when you need it ([`LazyEvent::decode`]: the same event, or the same error, as
    /// [`Events::next`]). Cheaper than `next` for an application that looks at a few fields of
    /// each event or skips most of them. Lifecycle events and warnings come as
    /// [`LazySessionEvent::Session`].
    ///
    /// The same queue as [`Events::next`]: the two can be mixed, each event is given once, in
    /// order. Cancel-safe; `None` once the session has stopped and everything was delivered.
    ///
    /// ```no_run
    /// use slack_rtm::rtm::{LazySessionEvent, SessionEvent};
    ///
    /// # async fn f(mut events: slack_rtm::Events) -> Result<(), slack_rtm::rtm::DecodeError> {
    /// while let Some(item) = events.next_lazy().await {
    ///     match item {
    ///         LazySessionEvent::Rtm(event) if event.is_message() => {
    ///             if let Some(msg) = event.message()? {
    ///                 println!("{:?} in {:?}: {:?}", msg.user(), msg.channel(), msg.text());
    ///             }
    ///         }
    ///         LazySessionEvent::Rtm(event) if event.kind() == "reaction_added" => {
    ///             let typed = event.decode()?; // the full `Event::ReactionAdded`
    ///             println!("{typed:?}");
    ///         }
    ///         LazySessionEvent::Session(SessionEvent::Stopped { reason }) => println!("stopped: {reason}"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_lazy(&mut self) -> Option<LazySessionEvent> {
        self.stream.recv_lazy().await
    }

    /// Polls for the next event, server events undecoded (see [`Events::next_lazy`]); with
    /// `futures::stream::poll_fn` it makes a `Stream` of [`LazySessionEvent`]s.
    pub fn poll_next_lazy(&mut self, cx: &mut Context<'_>) -> Poll<Option<LazySessionEvent>> {
        self.stream.poll_recv_lazy(cx)
    }

    /// The next event, server events undecoded, if one is ready now, without waiting.
    pub fn next_lazy_ready(&mut self) -> Option<LazySessionEvent> {
        self.stream.try_recv_lazy()
    }
}

impl futures_core::Stream for Events {
    type Item = SessionEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SessionEvent>> {
        self.get_mut().stream.poll_recv(cx)
    }
}

/// Starts the driver and waits for the first `Connected` (or a fatal stop). Every event,
/// those before `Connected` included, stays in [`Events`].
pub(crate) async fn start(
    driver: slack_rtm_session::DriverConfig,
    web: WebClient,
) -> Result<(Client, Events), Error> {
    let connect_timeout = driver.common.first_hello_timeout;
    let (handle, stream) =
        slack_rtm_session::driver::connect(driver).map_err(|e| Error::Config(e.to_string()))?;
    let wait = handle.wait_for_status(|s| s.self_.is_some() || s.state == State::Stopped);
    let status = match connect_timeout {
        Some(t) => match tokio::time::timeout(t, wait).await {
            Ok(status) => status,
            Err(_) => {
                let last = handle.status().last_problem;
                handle.shutdown(Duration::ZERO).await;
                let problem = last.map_or_else(|| "no attempt finished yet".to_owned(), |r| r.to_string());
                return Err(Error::ConnectTimeout(t, problem));
            }
        },
        None => wait.await,
    };
    if status.self_.is_none() {
        return Err(Error::Stopped(status.stopped.unwrap_or(StopReason::Shutdown)));
    }
    Ok((Client { handle, web }, Events { stream }))
}
