//! The blocking IO under the example: `std::net` sockets (rustls for `https://` and `wss://`),
//! `rtm.connect` through the codec's one call path, and `tungstenite` for the WebSocket.

use slack_rtm::codec::{ApiCallError, ApiFailure, MAX_RESPONSE_BYTES, Reach, TransportFailure, connect_once};
use slack_rtm::rtm::ConnectConfig;
use slack_rtm::rtm::ConnectResponse;
use slack_rtm::transport::http::{Request, Response, Uri};
use slack_rtm::types::Token;
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;
use tungstenite::protocol::WebSocketConfig;

/// Longest a connect, a TLS or WebSocket handshake, or an HTTP exchange may block.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest WebSocket message accepted.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// An open WebSocket.
pub type WebSocket = tungstenite::WebSocket<Stream>;

/// A plain or TLS connection.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    /// Connects to the URL's host (`https`/`wss`: with TLS), blocking at most [`IO_TIMEOUT`].
    fn connect(uri: &Uri) -> io::Result<Stream> {
        let secure = matches!(uri.scheme_str(), Some("https" | "wss"));
        let host = uri.host().ok_or_else(|| io::Error::other("no host in URL"))?;
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let host_plain = host.trim_start_matches('[').trim_end_matches(']');
        let mut last = io::Error::other("the host resolved to no address");
        for addr in (host_plain, port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
                Ok(tcp) => {
                    tcp.set_nodelay(true)?;
                    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
                    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
                    if !secure {
                        return Ok(Stream::Plain(tcp));
                    }
                    let name = rustls::pki_types::ServerName::try_from(host_plain.to_owned())
                        .map_err(|e| io::Error::other(e.to_string()))?;
                    let conn =
                        rustls::ClientConnection::new(tls_config()?, name).map_err(io::Error::other)?;
                    return Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// How long a read may block (a short one lets one thread serve sockets and timers).
    pub fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.set_read_timeout(Some(timeout)),
            Stream::Tls(s) => s.get_ref().set_read_timeout(Some(timeout)),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// rustls with the aws-lc-rs provider and the system's PEM bundle (`SSL_CERT_FILE` or
/// `/etc/ssl/certs/ca-certificates.crt`), built once.
fn tls_config() -> io::Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    static CONFIG: std::sync::OnceLock<Result<Arc<rustls::ClientConfig>, String>> =
        std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let path = std::env::var("SSL_CERT_FILE")
                .unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".into());
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(&path).map_err(|e| format!("{path}: {e}"))? {
                let _ = roots.add(cert.map_err(|e| format!("{path}: {e}"))?);
            }
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(Arc::new(config))
        })
        .clone()
        .map_err(io::Error::other)
}

/// Opens the socket URL: TCP (and TLS), then tungstenite's client handshake. Reads then wait at
/// most `poll` so the caller's loop stays responsive.
pub fn open_socket(url: &str, poll: Duration) -> Result<WebSocket, String> {
    let uri: Uri = url.parse().map_err(|_| "invalid socket URL".to_owned())?;
    let stream = Stream::connect(&uri).map_err(|e| format!("connect failed: {e}"))?;
    let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE));
    // The error would print the request, whose URL is a one-time ticket: keep only its kind.
    let (ws, _) =
        tungstenite::client::client_with_config(url, stream, Some(config)).map_err(|e| match e {
            tungstenite::HandshakeError::Failure(e) => format!("WebSocket handshake failed: {e}"),
            tungstenite::HandshakeError::Interrupted(_) => "WebSocket handshake timed out".to_owned(),
        })?;
    ws.get_ref().set_read_timeout(poll).map_err(|e| e.to_string())?;
    Ok(ws)
}

/// One blocking `rtm.connect` through the codec's call path ([`connect_once`]: build, send,
/// parse); the transport is [`http_call`].
pub fn rtm_connect(token: &Token, config: &ConnectConfig) -> Result<ConnectResponse, ApiCallError> {
    let transport = |request: Request<Vec<u8>>| std::future::ready(http_call(request));
    // The transport never waits, so the call completes on its first poll.
    let mut call = std::pin::pin!(connect_once(&transport, token, config));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match call.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => {
            let io = io::Error::other("the blocking call did not finish");
            let failure = ApiFailure::Transport(TransportFailure::new(Reach::MaybeSent, Box::new(io)));
            Err(ApiCallError::new("rtm.connect", None, failure))
        }
    }
}

/// Sends the request as HTTP/1.0 (so the answer is neither chunked nor kept alive) and reads the
/// whole response, at most [`MAX_RESPONSE_BYTES`] of body.
fn http_call(request: Request<Vec<u8>>) -> io::Result<Response<Vec<u8>>> {
    let uri = request.uri().clone();
    let mut stream = Stream::connect(&uri)?;
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let host = uri.authority().map(|a| a.as_str()).unwrap_or("");
    let mut head = format!("{} {target} HTTP/1.0\r\nHost: {host}\r\n", request.method());
    for (name, value) in request.headers() {
        // The Authorization header goes to the socket only; nothing here is logged.
        let value = value.to_str().map_err(|_| io::Error::other(format!("header {name} is not text")))?;
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", request.body().len()));
    stream.write_all(head.as_bytes())?;
    stream.write_all(request.body())?;
    stream.flush()?;

    let mut buf = Vec::new();
    let limit = (MAX_RESPONSE_BYTES + 64 * 1024) as u64;
    match stream.take(limit + 1).read_to_end(&mut buf) {
        Ok(_) => {}
        // A TLS peer that closes without close_notify: the answer is judged as it is.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(e),
    }
    if buf.len() as u64 > limit {
        return Err(io::Error::other("the response is too large"));
    }
    parse_response(&buf).map_err(io::Error::other)
}

/// The status, headers and body of a whole HTTP/1.x response.
fn parse_response(buf: &[u8]) -> Result<Response<Vec<u8>>, String> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no complete response head")?;
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| "the response head is not text")?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let mut builder = Response::builder().status(status);
    for line in lines {
        let (name, value) = line.split_once(':').ok_or("a malformed header")?;
        builder = builder.header(name.trim(), value.trim());
    }
    builder.body(buf[end + 4..].to_vec()).map_err(|e| e.to_string())
}
