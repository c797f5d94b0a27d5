//! Opening a WebSocket (TCP, TLS, handshake with `Sec-WebSocket-Accept` checked) and the
//! per-connection reader (a future the loop task owns and polls).

use super::dial::Dialer;
use crate::common::{ConnId, Reason, SkippedFrame, SocketInput};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use fastwebsockets::{Frame, OpCode, WebSocketError, WebSocketRead, WebSocketWrite};
use http::header::{CONNECTION, HOST, UPGRADE, USER_AGENT};
use http_body_util::Empty;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use sha1::{Digest, Sha1};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::{ReadHalf, WriteHalf};
use tokio::sync::mpsc;

/// The write half of an open socket, owned by the driver loop.
pub(crate) type Writer = WebSocketWrite<WriteHalf<TokioIo<Upgraded>>>;
type Reader = WebSocketRead<CappedRead<ReadHalf<TokioIo<Upgraded>>>>;

/// The most one read from the socket may return.
///
/// fastwebsockets reads into a `BytesMut` that doubles whenever a read fills it while less than
/// half of it has been consumed. A client that falls behind a fast sender finds the kernel's
/// whole receive queue ready (megabytes on loopback), so every read filled the buffer and it
/// doubled until it matched that queue: peak RSS jumped by 15–20 MB in the first milliseconds
/// of a burst. Capping each read keeps the buffer at a few times this size; 16 KB is still
/// dozens of typical frames per system call.
pub(crate) const MAX_READ: usize = 16 * 1024;

/// An `AsyncRead` that returns at most [`MAX_READ`] bytes per read.
pub(crate) struct CappedRead<R>(pub(crate) R);

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for CappedRead<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if buf.remaining() <= MAX_READ {
            return Pin::new(&mut self.0).poll_read(cx, buf);
        }
        let mut limited = tokio::io::ReadBuf::new(buf.initialize_unfilled_to(MAX_READ));
        std::task::ready!(Pin::new(&mut self.0).poll_read(cx, &mut limited))?;
        let n = limited.filled().len();
        buf.advance(n);
        std::task::Poll::Ready(Ok(()))
    }
}

/// What a connection's reader reports to the loop.
#[allow(clippy::large_enum_variant)] // moved, not boxed: no allocation per event
pub(crate) enum FromSocket<I> {
    /// The handshake is done: here is the write half.
    Opened(ConnId, Box<Writer>),
    /// Something for the machine.
    Input(I),
    /// Several frames' inputs, in order (frames that were already buffered are handed over
    /// together: one channel operation and one loop turn per batch, not per frame).
    Inputs(Vec<I>),
    /// A control frame the protocol obliges us to send (pong, close echo).
    Control(ConnId, ControlFrame),
}

/// A control frame to write on behalf of the reader.
pub(crate) enum ControlFrame {
    /// Answer a WebSocket ping with this payload.
    Pong(Vec<u8>),
    /// Echo the peer's close.
    CloseEcho(Vec<u8>),
}

/// The GUID of RFC 6455 §1.3.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` a server must answer to `key`.
pub(crate) fn expected_accept(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(WS_GUID.as_bytes());
    BASE64.encode(h.finalize())
}

/// A user-supplied TLS config, minus `h2` in ALPN (a WebSocket upgrade is HTTP/1.1).
pub(crate) fn websocket_tls(config: Arc<ClientConfig>) -> Arc<ClientConfig> {
    if config.alpn_protocols.iter().any(|p| p.as_slice() != b"http/1.1") {
        let mut c = (*config).clone();
        c.alpn_protocols.retain(|p| p.as_slice() == b"http/1.1");
        Arc::new(c)
    } else {
        config
    }
}

struct SpawnExecutor;

impl<F> hyper::rt::Executor<F> for SpawnExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        tokio::spawn(fut);
    }
}

/// Why a socket could not be opened. Never contains the URL's path (a one-time ticket) nor a
/// token: only the host and port, and the underlying error with its sources.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    #[error("invalid socket URL")]
    InvalidUrl,
    #[error("the socket URL scheme must be ws:// or wss://")]
    Scheme,
    #[error("the socket URL has no host")]
    NoHost,
    #[error("no TLS configuration for a wss:// URL (set LoopConfig::tls)")]
    NoTls,
    #[error("could not reach {host}:{port}: {}", with_sources(.source))]
    Dial { host: String, port: u16, source: std::io::Error },
    #[error("invalid TLS server name {0}")]
    ServerName(String),
    #[error("TLS handshake failed: {}", with_sources(.0))]
    Tls(std::io::Error),
    #[error("WebSocket handshake failed: {0}")]
    Handshake(String),
}

/// An error's message followed by its sources', so nothing a dialer or a proxy said is lost.
pub(crate) fn with_sources(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        next = s.source();
    }
    text
}

/// How a connection is opened: the dialer under it, the TLS config for `wss://`, the size cap.
#[derive(Clone)]
pub(crate) struct OpenConfig {
    pub(crate) dialer: Arc<dyn Dialer>,
    pub(crate) tls: Option<Arc<ClientConfig>>,
    pub(crate) max_message: usize,
}

/// Opens `url` (`ws://` or `wss://`): the byte stream from the dialer, TLS for `wss://`, then
/// the WebSocket handshake with `Sec-WebSocket-Accept` verified.
pub(crate) async fn open(url: &str, config: &OpenConfig) -> Result<(Reader, Writer), OpenError> {
    let uri: http::Uri = url.parse().map_err(|_| OpenError::InvalidUrl)?;
    let secure = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        _ => return Err(OpenError::Scheme),
    };
    let host = uri.host().filter(|h| !h.is_empty()).ok_or(OpenError::NoHost)?;
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let tls = match (secure, &config.tls) {
        (true, None) => return Err(OpenError::NoTls),
        (true, Some(tls)) => Some(tls.clone()),
        (false, _) => None,
    };
    let io = config.dialer.dial(bare_host, port).await.map_err(|source| OpenError::Dial {
        host: bare_host.to_owned(),
        port,
        source,
    })?;

    let key = fastwebsockets::handshake::generate_key();
    let host_header = match uri.port_u16() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let request = http::Request::builder()
        .method("GET")
        .uri(path)
        .header(HOST, host_header)
        .header(UPGRADE, "websocket")
        .header(CONNECTION, "Upgrade")
        .header("Sec-WebSocket-Key", key.as_str())
        .header("Sec-WebSocket-Version", "13")
        .header(USER_AGENT, slack_rtm_codec::USER_AGENT)
        .body(Empty::<Bytes>::new())
        .map_err(|e| OpenError::Handshake(format!("invalid request: {e}")))?;

    let handshake = match tls {
        Some(config) => {
            let name = ServerName::try_from(bare_host.to_owned())
                .map_err(|_| OpenError::ServerName(bare_host.to_owned()))?;
            let stream =
                tokio_rustls::TlsConnector::from(config).connect(name, io).await.map_err(OpenError::Tls)?;
            fastwebsockets::handshake::client(&SpawnExecutor, request, stream).await
        }
        None => fastwebsockets::handshake::client(&SpawnExecutor, request, io).await,
    };
    let (ws, response) = handshake.map_err(|e| OpenError::Handshake(e.to_string()))?;
    let accept = response.headers().get("Sec-WebSocket-Accept").and_then(|v| v.to_str().ok());
    if accept != Some(expected_accept(&key).as_str()) {
        return Err(OpenError::Handshake("missing or wrong Sec-WebSocket-Accept".into()));
    }
    let (mut read, write) = ws.split(|io| {
        let (r, w) = tokio::io::split(io);
        (CappedRead(r), w)
    });
    read.set_auto_close(true);
    read.set_auto_pong(true);
    // fastwebsockets refuses a frame whose length is >= this; the reader caps whole messages.
    read.set_max_message_size(config.max_message.saturating_add(1));
    Ok((read, write))
}

/// Opens the socket, hands the write half to the loop, then reads until the socket ends.
pub(crate) async fn run_connection<I: SocketInput + Send + 'static>(
    conn: ConnId,
    url: String,
    config: OpenConfig,
    tx: mpsc::Sender<FromSocket<I>>,
) {
    match open(&url, &config).await {
        Ok((read, write)) => {
            if tx.send(FromSocket::Opened(conn, Box::new(write))).await.is_ok() {
                read_loop::<I>(conn, read, config.max_message, &tx).await;
            }
        }
        Err(e) => {
            let e = e.to_string();
            tracing::debug!(%conn, error = %e, "could not open the socket");
            let _ = tx.send(FromSocket::Input(I::closed(conn, Reason::OpenFailed(e)))).await;
        }
    }
}

/// A message being reassembled from fragments.
struct Partial {
    text: bool,
    data: Vec<u8>,
}

/// Reads frames until the socket ends: turns text messages into inputs, reports the rest. Runs
/// in its own future, which the loop polls on every turn and never drops half-way while the
/// connection is in use: `read_frame` is not cancel-safe, so it is never raced against anything.
async fn read_loop<I: SocketInput + Send + 'static>(
    conn: ConnId,
    mut read: Reader,
    max_message: usize,
    tx: &mpsc::Sender<FromSocket<I>>,
) {
    let mut partial: Option<Partial> = None;
    // Frames the protocol obliges us to answer (ping → pong, close → close) go to the loop,
    // which owns the write half.
    let ctl_tx = tx.clone();
    let mut obligated = move |frame: Frame<'_>| {
        let msg = match frame.opcode {
            OpCode::Pong => Some(ControlFrame::Pong(frame.payload.to_vec())),
            OpCode::Close => Some(ControlFrame::CloseEcho(frame.payload.to_vec())),
            _ => None,
        };
        let tx = ctl_tx.clone();
        async move {
            if let Some(m) = msg {
                tx.send(FromSocket::Control(conn, m)).await.map_err(|_| LoopGone)?;
            }
            Ok::<(), LoopGone>(())
        }
    };
    // Inputs of frames read but not yet handed to the loop. Frames that are already buffered
    // are read without waiting; the batch goes to the loop when the next read would wait, or
    // when it is full.
    let mut pending: Vec<I> = Vec::with_capacity(READ_BATCH);
    let reason = loop {
        let result = {
            let mut next = std::pin::pin!(read.read_frame(&mut obligated));
            match poll_now(next.as_mut()) {
                Some(r) => r,
                None => {
                    // The same future is awaited below (never dropped half-way: read_frame is
                    // not cancel-safe); hand over what we have before waiting.
                    if !flush(tx, &mut pending).await {
                        return;
                    }
                    next.await
                }
            }
        };
        let frame = match result {
            Ok(f) => f,
            Err(WebSocketError::InvalidUTF8) => {
                // A single text frame that is not UTF-8: its payload is already consumed, the
                // stream is still in sync. Report and go on.
                pending.push(I::skipped(conn, SkippedFrame::InvalidUtf8 { len: None }));
                continue;
            }
            Err(WebSocketError::FrameTooLarge) => break Reason::MessageTooLarge { limit: max_message },
            Err(WebSocketError::UnexpectedEOF) => {
                break Reason::Closed {
                    code: None,
                    reason: "the connection ended without a close frame".into(),
                };
            }
            Err(WebSocketError::SendError(_)) => return,
            Err(e) => break Reason::Io(e.to_string()),
        };
        let input = match frame.opcode {
            OpCode::Text | OpCode::Binary if partial.is_some() => {
                break Reason::Io("a new message started inside a fragmented one".into());
            }
            OpCode::Text | OpCode::Binary if frame.fin => {
                I::message(conn, frame.opcode == OpCode::Text, &frame.payload)
            }
            OpCode::Text | OpCode::Binary => {
                partial = Some(Partial { text: frame.opcode == OpCode::Text, data: frame.payload.to_vec() });
                I::activity(conn)
            }
            OpCode::Continuation => {
                let Some(p) = partial.as_mut() else {
                    break Reason::Io("a continuation frame without a message".into());
                };
                if p.data.len().saturating_add(frame.payload.len()) > max_message {
                    break Reason::MessageTooLarge { limit: max_message };
                }
                p.data.extend_from_slice(&frame.payload);
                if frame.fin {
                    let whole = partial.take().map(|p| (p.text, p.data)).unwrap_or_default();
                    I::message(conn, whole.0, &whole.1)
                } else {
                    I::activity(conn)
                }
            }
            OpCode::Close => {
                let (code, text) = parse_close(&frame.payload);
                break Reason::Closed { code, reason: text };
            }
            OpCode::Ping | OpCode::Pong => I::activity(conn),
        };
        pending.push(input);
        if pending.len() >= READ_BATCH && !flush(tx, &mut pending).await {
            return;
        }
    };
    if !flush(tx, &mut pending).await {
        return;
    }
    tracing::debug!(%conn, %reason, "socket ended");
    let _ = tx.send(FromSocket::Input(I::closed(conn, reason))).await;
}

#[derive(Debug)]
struct LoopGone;

impl std::fmt::Display for LoopGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the session loop is gone")
    }
}

impl std::error::Error for LoopGone {}

/// Most frames handed to the loop at once.
const READ_BATCH: usize = 64;

/// Hands the pending inputs to the loop; `false` if the loop is gone.
async fn flush<T>(tx: &mpsc::Sender<FromSocket<T>>, pending: &mut Vec<T>) -> bool {
    match pending.len() {
        0 => true,
        1 => tx.send(FromSocket::Input(pending.remove(0))).await.is_ok(),
        _ => {
            let batch = std::mem::replace(pending, Vec::with_capacity(READ_BATCH));
            tx.send(FromSocket::Inputs(batch)).await.is_ok()
        }
    }
}

/// Polls a future once without a real waker: `Some` if it is ready now. The caller keeps the
/// future and awaits it properly if not (the next poll registers the real waker).
fn poll_now<F: Future>(fut: std::pin::Pin<&mut F>) -> Option<F::Output> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

fn parse_close(payload: &[u8]) -> (Option<u16>, String) {
    if payload.len() < 2 {
        return (None, String::new());
    }
    let code = u16::from_be_bytes([payload[0], payload[1]]);
    let reason = String::from_utf8_lossy(&payload[2..]).chars().take(123).collect();
    (Some(code), reason)
}

/// Writes a frame and flushes (TLS buffers until flushed).
pub(crate) async fn write_and_flush(w: &mut Writer, frame: Frame<'_>) -> Result<(), WebSocketError> {
    w.write_frame(frame).await?;
    w.flush().await
}

/// A boxed future, for the close tasks.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Writes a close frame (best effort, bounded by `limit`) and drops the socket.
pub(crate) fn close_socket(mut w: Box<Writer>, code: u16, limit: std::time::Duration) -> BoxFuture {
    Box::pin(async move {
        let _ = tokio::time::timeout(limit, write_and_flush(&mut w, Frame::close(code, b""))).await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_matches_rfc_6455_example() {
        assert_eq!(expected_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn h2_is_removed_from_alpn() {
        // The tests' own provider (a dev-dependency): the crate itself never picks one.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut c = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        c.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let c = websocket_tls(Arc::new(c));
        assert_eq!(c.alpn_protocols, vec![b"http/1.1".to_vec()]);
        let again = websocket_tls(c.clone());
        assert!(Arc::ptr_eq(&again, &c), "already HTTP/1.1 only: not copied");
    }

    #[tokio::test]
    async fn reads_are_capped() {
        use tokio::io::AsyncReadExt;
        let data = vec![7u8; MAX_READ * 3 + 5];
        let mut r = CappedRead(&data[..]);
        // A buffer far larger than the cap still gets at most MAX_READ bytes per read.
        let mut buf = bytes::BytesMut::with_capacity(MAX_READ * 8);
        let mut reads = Vec::new();
        loop {
            let n = r.read_buf(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            reads.push(n);
        }
        assert_eq!(reads, vec![MAX_READ, MAX_READ, MAX_READ, 5]);
        assert_eq!(&buf[..], &data[..]);
        // A small buffer is read into directly.
        let mut small = [0u8; 10];
        let mut r = CappedRead(&data[..]);
        assert_eq!(r.read(&mut small).await.unwrap(), 10);
    }

    #[test]
    fn close_payloads() {
        assert_eq!(parse_close(&[]), (None, String::new()));
        assert_eq!(parse_close(&[0x03, 0xE8, b'o', b'k']), (Some(1000), "ok".into()));
        assert_eq!(parse_close(&[0x03]), (None, String::new()));
    }
}
