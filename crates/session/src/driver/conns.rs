//! What every driver loop owns besides its machine: the sockets (write halves, readers, close
//! tasks); the bounded, batched hand-off to the application is [`Outbox`](super::outbox::Outbox).
//! RTM's loop and Socket Mode's both use these, so neither re-implements opening, writing,
//! closing or backpressure.

use super::inbox::{InboxRx, InboxTx, inbox};
use super::readers::{self, Readers};
use super::socket::{self, ControlFrame, FromSocket, OpenConfig, Writer};
use crate::common::{ConnId, ConnectFailure, IdMap, Reason, SocketInput};
use fastwebsockets::{Frame, Payload};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::Instrument;

/// Capacity of the readers → loop queue, in messages (each carries up to a reader batch of
/// 64 inputs, so this bounds the inputs in flight to 256). The loop takes at most
/// [`SOCKET_MESSAGES_PER_TURN`](super::drive::SOCKET_MESSAGES_PER_TURN) per turn and polls the
/// readers (in its own task) once per turn, so a deeper queue reads no faster: it only held
/// a thousand read-ahead frames (megabytes of Slack-shaped events) in a busy session.
const SOCKET_CHANNEL: usize = super::drive::SOCKET_MESSAGES_PER_TURN;
/// Longest wait for a close frame to be written.
const CLOSE_LIMIT: Duration = Duration::from_secs(1);

/// The sockets of one session, for the machine whose inputs are `I`.
pub(crate) struct Conns<I> {
    /// Every socket the machine asked for; `None` until its handshake is done. Looked up by
    /// every write (an [`IdMap`]: SipHash's setup was most of a lookup).
    writers: IdMap<ConnId, Option<Box<Writer>>>,
    /// The readers, polled by the loop task.
    pub(crate) readers: Readers,
    closers: JoinSet<()>,
    open: OpenConfig,
    tx: InboxTx<FromSocket<I>>,
    write_timeout: Duration,
}

impl<I: SocketInput + Send + 'static> Conns<I> {
    /// No socket yet; the receiver gets what the readers report.
    pub(crate) fn new(open: OpenConfig, write_timeout: Duration) -> (Self, InboxRx<FromSocket<I>>) {
        let (tx, rx) = inbox(SOCKET_CHANNEL);
        let conns = Self {
            writers: IdMap::default(),
            readers: Readers::default(),
            closers: JoinSet::new(),
            open,
            tx,
            write_timeout,
        };
        (conns, rx)
    }

    /// Starts opening `url` as `conn` (its reader reports `Opened`, then what it reads).
    pub(crate) fn start(&mut self, conn: ConnId, url: String) {
        // One span per socket, inside the session's (the loop task polls the readers).
        let span = tracing::debug_span!("socket", conn = conn.0);
        let reader =
            socket::run_connection::<I>(conn, url, self.open.clone(), self.tx.clone()).instrument(span);
        self.readers.start(conn, reader);
        self.writers.insert(conn, None);
    }

    /// Whether the machine still has `conn` (open or being opened).
    pub(crate) fn knows(&self, conn: ConnId) -> bool {
        self.writers.contains_key(&conn)
    }

    /// Whether `conn` is open for writing.
    pub(crate) fn is_open(&self, conn: ConnId) -> bool {
        self.writers.get(&conn).is_some_and(Option::is_some)
    }

    /// The handshake of `conn` is done: keeps its write half. `false` (and the socket closed)
    /// if the machine gave up on it meanwhile.
    pub(crate) fn opened(&mut self, conn: ConnId, writer: Box<Writer>) -> bool {
        match self.writers.get_mut(&conn) {
            Some(slot) => {
                *slot = Some(writer);
                true
            }
            None => {
                self.closers.spawn(socket::close_socket(writer, 1000, CLOSE_LIMIT));
                false
            }
        }
    }

    /// The reader of `conn` reported its end: forgets it (a message over the cap is answered
    /// with a 1009 close).
    pub(crate) fn ended(&mut self, conn: ConnId, reason: &Reason) {
        if let Some(Some(w)) = self.writers.remove(&conn)
            && matches!(reason, Reason::MessageTooLarge { .. })
        {
            self.closers.spawn(socket::close_socket(w, 1009, CLOSE_LIMIT));
        }
    }

    /// Writes and flushes one frame, the readers polled meanwhile. `Ok(false)`: `conn` is not
    /// open; `Err`: the write failed or stuck, and the socket is forgotten (tell the machine).
    pub(crate) async fn write(&mut self, conn: ConnId, frame: Frame<'_>) -> Result<bool, String> {
        let Some(Some(w)) = self.writers.get_mut(&conn) else { return Ok(false) };
        let result = readers::write_polling(&mut self.readers, w, frame, self.write_timeout).await;
        self.after_io(conn, result)
    }

    /// Writes one frame into `conn`'s buffer without flushing it ([`Conns::flush`] sends it,
    /// with the others written meanwhile, in one write). Same results as [`Conns::write`].
    pub(crate) async fn write_unflushed(&mut self, conn: ConnId, frame: Frame<'_>) -> Result<bool, String> {
        let Some(Some(w)) = self.writers.get_mut(&conn) else { return Ok(false) };
        let result = readers::io_polling(&mut self.readers, w.write_frame(frame), self.write_timeout).await;
        self.after_io(conn, result)
    }

    /// Flushes what [`Conns::write_unflushed`] left in `conn`'s buffer.
    pub(crate) async fn flush(&mut self, conn: ConnId) -> Result<bool, String> {
        let Some(Some(w)) = self.writers.get_mut(&conn) else { return Ok(false) };
        let result = readers::io_polling(&mut self.readers, w.flush(), self.write_timeout).await;
        self.after_io(conn, result)
    }

    fn after_io(&mut self, conn: ConnId, result: Result<(), String>) -> Result<bool, String> {
        match result {
            Ok(()) => Ok(true),
            Err(error) => {
                tracing::debug!(%conn, %error, "write failed");
                self.forget(conn);
                Err(error)
            }
        }
    }

    /// The frame answering a control frame a reader received, and whether it proves life.
    pub(crate) fn control(frame: ControlFrame) -> (Frame<'static>, bool) {
        match frame {
            ControlFrame::Pong(p) => (Frame::pong(Payload::Owned(p)), true),
            ControlFrame::CloseEcho(p) => (Frame::close_raw(Payload::Owned(p)), false),
        }
    }

    /// Closes `conn` with `code` (best effort, bounded) and forgets it.
    pub(crate) fn close(&mut self, conn: ConnId, code: u16) {
        if let Some(w) = self.forget(conn) {
            self.closers.spawn(socket::close_socket(w, code, CLOSE_LIMIT));
        }
        // Reap finished close tasks so the set stays small.
        while self.closers.try_join_next().is_some() {}
    }

    /// Forgets `conn` without a close frame; its write half, if it had one.
    pub(crate) fn forget(&mut self, conn: ConnId) -> Option<Box<Writer>> {
        self.readers.abort(conn);
        self.writers.remove(&conn).flatten()
    }

    /// The session stopped: closes every socket with 1000 and waits (bounded) for the close
    /// frames, so a program that exits right after shutdown still closes cleanly.
    pub(crate) async fn close_all(&mut self) {
        self.readers = Readers::default();
        for (_, w) in self.writers.drain() {
            if let Some(w) = w {
                self.closers.spawn(socket::close_socket(w, 1000, CLOSE_LIMIT));
            }
        }
        let closers = async { while self.closers.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(CLOSE_LIMIT * 2, closers).await;
    }
}

/// Runs one call (`rtm.connect`, `apps.connections.open`) in its own task with a deadline and
/// sends its result to the loop. The failures never hold the token.
///
/// The result goes boxed: a tokio channel allocates a block of 32 slots when it is created, and
/// an `rtm.connect` result is a few hundred bytes, so an unboxed channel cost every session
/// about 9 KB for one message per connection.
pub(crate) fn spawn_call<T: Send + 'static>(
    what: &'static str,
    call: impl std::future::Future<Output = Result<T, ConnectFailure>> + Send + 'static,
    limit: Duration,
    tx: mpsc::Sender<Box<Result<T, ConnectFailure>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(
        async move {
            let result = match tokio::time::timeout(limit, call).await {
                Err(_) => Err(ConnectFailure::retryable(format!("{what} took longer than {limit:?}"))),
                Ok(result) => result,
            };
            let _ = tx.send(Box::new(result)).await;
        }
        // In the session's span, like everything the loop starts.
        .instrument(tracing::Span::current()),
    )
}
