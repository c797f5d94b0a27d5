//! Opening a WebSocket: the byte stream from the dialer, rustls for `wss://`, the HTTP/1.1
//! upgrade with `Sec-WebSocket-Accept` verified, then the split into a capped read half and a
//! write half.

use super::capped::CappedRead;
use super::halves;
use super::{OpenConfig, Reader, Writer};
use crate::driver::BoxedIo;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::header::{CONNECTION, HOST, UPGRADE, USER_AGENT};
use http_body_util::Empty;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use sha1::{Digest, Sha1};
use std::future::Future;
use std::sync::Arc;

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

/// The dialed stream as a `TcpStream` if it is one (the default dialer's), else as it was.
fn into_tcp(io: BoxedIo) -> Result<tokio::net::TcpStream, BoxedIo> {
    if !(&*io as &dyn std::any::Any).is::<tokio::net::TcpStream>() {
        return Err(io);
    }
    let any: Box<dyn std::any::Any> = io;
    // Cannot fail: its type was checked just above.
    any.downcast::<tokio::net::TcpStream>().map(|tcp| *tcp).map_err(|_| unreachable_io())
}

/// What `into_tcp` would give if a checked downcast failed (it cannot): a stream whose peer is
/// gone, so the handshake fails with a typed error rather than a panic.
fn unreachable_io() -> BoxedIo {
    Box::new(tokio::io::duplex(1).0)
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
        // A plain TCP stream keeps its type through the upgrade, so `halves::split` can take
        // it back out of hyper's wrapper.
        None => match into_tcp(io) {
            Ok(tcp) => fastwebsockets::handshake::client(&SpawnExecutor, request, tcp).await,
            Err(io) => fastwebsockets::handshake::client(&SpawnExecutor, request, io).await,
        },
    };
    let (ws, response) = handshake.map_err(|e| OpenError::Handshake(e.to_string()))?;
    let accept = response.headers().get("Sec-WebSocket-Accept").and_then(|v| v.to_str().ok());
    if accept != Some(expected_accept(&key).as_str()) {
        return Err(OpenError::Handshake("missing or wrong Sec-WebSocket-Accept".into()));
    }
    let (mut read, write) = ws.split(|io| {
        let (r, w) = halves::split(io);
        // Frames written back to back (a turn's acks) leave in one write at the flush.
        (CappedRead(r), super::WriteBuf::new(w))
    });
    read.set_auto_close(true);
    read.set_auto_pong(true);
    // fastwebsockets refuses a frame whose length is >= this; the reader caps whole messages.
    read.set_max_message_size(config.max_message.saturating_add(1));
    Ok((read, write))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_matches_rfc_6455_example() {
        assert_eq!(expected_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[tokio::test]
    async fn a_dialed_tcp_stream_is_recognised_and_any_other_kept_as_it_is() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let port = tcp.local_addr().unwrap().port();
        let back = into_tcp(Box::new(tcp)).ok().expect("a TcpStream is one");
        assert_eq!(back.local_addr().unwrap().port(), port, "the same stream");
        let (duplex, _peer) = tokio::io::duplex(16);
        assert!(into_tcp(Box::new(duplex)).is_err());
    }

    #[test]
    fn h2_is_removed_from_alpn() {
        // The tests' own provider (a dev-dependency): the crate itself never picks one.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
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
}
