//! `slack-rtm-hyper` over loopback: rtm.connect round trips (plain and TLS, HTTP/1.1 and
//! HTTP/2), the body cap, the deadlines, the http:// refusal, TLS trust, and that no error ever
//! shows the token. The proxy paths (API requests and `dial`) are in `proxy.rs`.
//!
//! Most servers are small hyper / raw TCP servers started here (to script exact bytes); the
//! round trips are also run against `slack_rtm_emulator::Emulator`, plain and TLS.

use bytes::Bytes;
use http::{Request, Response, StatusCode, Version};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use slack_rtm_codec::{ApiCallError, ApiFailure};
use slack_rtm_codec::{ConnectConfig, Token, connect_once};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use slack_rtm_hyper::{HyperTransport, TimeoutKind, TransportError};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "xoxb-1234-5678-HyPeRsEcReTtOkEn";
const SECRET_PART: &str = "HyPeRsEcReTtOkEn";

/// The provider the transport's features choose, for the test servers and clients too.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    slack_rtm_hyper::crypto_provider().unwrap()
}

/// What the test servers saw.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    bad_auth: AtomicUsize,
}

/// The fake `rtm.connect`: checks the Bearer token (and that it is nowhere else), answers a
/// socket URL; other paths answer a body of the size given in the path (`/size/N`).
fn handle(req: &Request<Incoming>, seen: &Seen, socket_scheme: &str) -> Response<Full<Bytes>> {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path();
    if let Some(n) = path.strip_prefix("/size/") {
        let n: usize = n.parse().unwrap_or(0);
        return Response::new(Full::new(Bytes::from(vec![b'x'; n])));
    }
    let auth_ok = req.headers().get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"))
        && !req.uri().to_string().contains(SECRET_PART);
    if !auth_ok {
        seen.bad_auth.fetch_add(1, Ordering::SeqCst);
    }
    let body = if path != "/api/rtm.connect" {
        r#"{"ok":false,"error":"unknown_method"}"#.to_owned()
    } else if auth_ok {
        format!(
            r#"{{"ok":true,"self":{{"id":"U4X318ZMZ","name":"robotoverlord"}},"team":{{"domain":"slackdemo","id":"T2U81E2FP","name":"SlackDemo"}},"url":"{socket_scheme}://127.0.0.1:1/websocket/abc"}}"#
        )
    } else {
        r#"{"ok":false,"error":"invalid_auth"}"#.to_owned()
    };
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json; charset=utf-8")
        .header("x-slack-req-id", "req-1")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn serve_conn<S>(io: S, seen: Arc<Seen>, socket_scheme: &'static str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req: Request<Incoming>| {
        let resp = handle(&req, &seen, socket_scheme);
        async move { Ok::<_, Infallible>(resp) }
    });
    let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(io), service).await;
}

/// A plain HTTP server (HTTP/1.1 and h2c) on 127.0.0.1.
async fn http_server() -> (SocketAddr, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let s = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_conn(stream, Arc::clone(&s), "ws"));
        }
    });
    (addr, seen)
}

/// A self-signed certificate for 127.0.0.1 / localhost.
fn self_signed() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
    (ck.cert.der().clone(), key)
}

/// An HTTPS server with the given certificate, offering `alpn`.
async fn https_server(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    alpn: &[&[u8]],
) -> (SocketAddr, Arc<Seen>) {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let s = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve_conn(tls, s, "wss").await;
                }
            });
        }
    });
    (addr, seen)
}

/// Reads a request (or CONNECT) head, up to the blank line.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A raw server: reads each request head, writes `answer`, then keeps the connection open
/// (doing nothing) until the client goes away.
async fn raw_server(answer: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = read_head(&mut stream).await;
                let _ = stream.write_all(answer).await;
                let mut sink = [0u8; 1024];
                while let Ok(n) = stream.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// Fails if the token appears in the error's Display, Debug, or anywhere in its source chain.
fn assert_no_token(err: &(dyn std::error::Error + 'static)) {
    let mut current = Some(err);
    while let Some(e) = current {
        let shown = format!("{e} | {e:?}");
        assert!(!shown.contains(SECRET_PART), "token leaked: {shown}");
        current = e.source();
    }
}

fn transport_error<T: std::fmt::Debug>(r: Result<T, ApiCallError>) -> TransportError {
    let err = r.unwrap_err();
    assert_no_token(&err);
    match err.failure {
        ApiFailure::Transport(t) => {
            *t.source.downcast::<TransportError>().expect("the built-in transport's error")
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

fn http_config(addr: SocketAddr) -> ConnectConfig {
    ConnectConfig::with_api_base(&format!("http://{addr}/api/"), true).unwrap()
}

fn https_config(addr: SocketAddr) -> ConnectConfig {
    ConnectConfig::with_api_base(&format!("https://{addr}/api/"), false).unwrap()
}

fn get(uri: String) -> Request<Vec<u8>> {
    let mut auth = http::HeaderValue::from_str(&format!("Bearer {TOKEN}")).unwrap();
    auth.set_sensitive(true);
    Request::get(uri).header("authorization", auth).body(Vec::new()).unwrap()
}

fn trusting(cert: &CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

#[tokio::test]
async fn rtm_connect_round_trip_over_http() {
    let (addr, seen) = http_server().await;
    let transport = HyperTransport::builder().allow_http(true).build().unwrap();
    let token = Token::new(TOKEN);
    let answer = connect_once(&transport, &token, &http_config(addr)).await.unwrap();
    assert_eq!(answer.connected.self_.id, "U4X318ZMZ");
    assert_eq!(answer.connected.team.domain, "slackdemo");
    assert_eq!(answer.connected.url, "ws://127.0.0.1:1/websocket/abc");
    assert_eq!(answer.req_id.as_deref(), Some("req-1"));
    // A second call reuses the pool and still works.
    connect_once(&transport, &token, &http_config(addr)).await.unwrap();
    assert_eq!(seen.requests.load(Ordering::SeqCst), 2);
    assert_eq!(seen.bad_auth.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn plain_http_is_refused_unless_allowed() {
    let (addr, seen) = http_server().await;
    let transport = HyperTransport::new().unwrap();
    let err = transport_error(connect_once(&transport, &Token::new(TOKEN), &http_config(addr)).await);
    assert!(
        matches!(err, TransportError::InsecureScheme { ref host } if *host == addr.to_string()),
        "{err:?}"
    );
    assert_eq!(seen.requests.load(Ordering::SeqCst), 0, "no request may reach the server");
}

#[tokio::test]
async fn body_cap_accepts_just_under_and_refuses_just_over() {
    let (addr, _) = http_server().await;
    let limit = 1000;
    let transport = HyperTransport::builder().allow_http(true).max_body_bytes(limit).build().unwrap();
    for n in [limit - 1, limit] {
        let resp = transport.send(get(format!("http://{addr}/size/{n}"))).await.unwrap();
        assert_eq!(resp.body().len(), n);
    }
    let err = transport.send(get(format!("http://{addr}/size/{}", limit + 1))).await.unwrap_err();
    assert!(matches!(err, TransportError::BodyTooLarge { limit: 1000 }), "{err:?}");
    assert_no_token(&err);

    // No Content-Length: chunked, so the cap is enforced while reading.
    let chunked = raw_server(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3e8\r\n\
          xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
          xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
          xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
          xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
          xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
          xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
          xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
          xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
          xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
          xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
          \r\n1\r\ny\r\n0\r\n\r\n",
    )
    .await;
    let ok = HyperTransport::builder().allow_http(true).max_body_bytes(1001).build().unwrap();
    assert_eq!(ok.send(get(format!("http://{chunked}/"))).await.unwrap().body().len(), 1001);
    let err = transport.send(get(format!("http://{chunked}/"))).await.unwrap_err();
    assert!(matches!(err, TransportError::BodyTooLarge { limit: 1000 }), "{err:?}");
}

#[tokio::test]
async fn request_deadline_covers_a_body_that_never_arrives() {
    // Headers, 10 of the 100 announced bytes, then silence.
    let addr = raw_server(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789").await;
    let deadline = Duration::from_millis(200);
    let transport = HyperTransport::builder().allow_http(true).request_timeout(deadline).build().unwrap();
    let err = transport.send(get(format!("http://{addr}/api/rtm.connect"))).await.unwrap_err();
    assert!(
        matches!(err, TransportError::Timeout { kind: TimeoutKind::Request, after, .. } if after == deadline),
        "{err:?}"
    );
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    assert_no_token(&err);
}

#[tokio::test]
async fn connect_deadline_covers_a_stalled_tls_handshake() {
    // Accepts TCP, never answers the ClientHello.
    let addr = raw_server(b"").await;
    let transport = HyperTransport::builder().connect_timeout(Duration::from_millis(200)).build().unwrap();
    let err = transport.send(get(format!("https://{addr}/api/rtm.connect"))).await.unwrap_err();
    assert!(matches!(err, TransportError::Timeout { kind: TimeoutKind::Connect, .. }), "{err:?}");
    assert_no_token(&err);
}

#[tokio::test]
async fn connection_refused_is_a_connect_error_naming_the_host() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let transport = HyperTransport::builder().allow_http(true).build().unwrap();
    let err = transport_error(connect_once(&transport, &Token::new(TOKEN), &http_config(addr)).await);
    assert!(matches!(err, TransportError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[tokio::test]
async fn dial_without_a_proxy_connects_directly_and_its_errors_become_io_errors() {
    // A server that answers the first bytes it gets, to prove the stream is the target's.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 5];
        s.read_exact(&mut hello).await.unwrap();
        s.write_all(if &hello == b"hello" { b"world" } else { b"what?" }).await.unwrap();
    });
    let transport = HyperTransport::new().unwrap();
    let mut tcp = transport.dial("127.0.0.1", addr.port()).await.unwrap();
    assert!(tcp.nodelay().unwrap());
    tcp.write_all(b"hello").await.unwrap();
    let mut answer = [0u8; 5];
    tcp.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"world");

    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let err = transport.dial("127.0.0.1", dead_addr.port()).await.unwrap_err();
    assert!(
        matches!(&err, TransportError::Connect { host, .. } if *host == dead_addr.to_string()),
        "{err:?}"
    );
    let io = std::io::Error::from(err);
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(io.to_string().contains(&dead_addr.to_string()), "{io}");
    assert!(io.get_ref().is_some_and(|e| e.is::<TransportError>()));
}

#[tokio::test]
async fn self_signed_tls_is_refused_by_default_and_accepted_with_a_custom_config() {
    let (cert, key) = self_signed();
    let (addr, seen) = https_server(cert.clone(), key, &[b"h2", b"http/1.1"]).await;
    let token = Token::new(TOKEN);

    let default = HyperTransport::new().unwrap();
    let err = transport_error(connect_once(&default, &token, &https_config(addr)).await);
    match &err {
        TransportError::Tls { host, source } => {
            assert_eq!(*host, addr.to_string());
            assert!(
                matches!(source, rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)),
                "{source:?}"
            );
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
    assert_eq!(seen.requests.load(Ordering::SeqCst), 0);

    let trusting = HyperTransport::builder().tls_config(trusting(&cert)).build().unwrap();
    let answer = connect_once(&trusting, &token, &https_config(addr)).await.unwrap();
    assert_eq!(answer.connected.url, "wss://127.0.0.1:1/websocket/abc");
    // ALPN picked HTTP/2.
    let resp = trusting.send(get(format!("https://{addr}/size/5"))).await.unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(seen.bad_auth.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn http1_only_tls_server_is_spoken_to_in_http1() {
    let (cert, key) = self_signed();
    let (addr, _) = https_server(cert.clone(), key, &[b"http/1.1"]).await;
    let transport = HyperTransport::builder().tls_config(trusting(&cert)).build().unwrap();
    let resp = transport.send(get(format!("https://{addr}/size/3"))).await.unwrap();
    assert_eq!(resp.version(), Version::HTTP_11);
    assert_eq!(resp.body(), b"xxx");
}

#[tokio::test]
async fn rtm_connect_against_the_emulator() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let config = ConnectConfig::with_api_base(&emu.api_url(), true).unwrap();
    let transport = HyperTransport::builder().allow_http(true).build().unwrap();
    let answer = connect_once(&transport, &Token::new(emu.token()), &config).await.unwrap();
    assert_eq!(answer.connected.self_.id, emu.bot_user());
    assert!(answer.connected.url.starts_with("ws://127.0.0.1:"), "{}", answer.connected.url);
    assert!(answer.req_id.is_some());
    assert_eq!(emu.rtm_connect_call_count(), 1);
    assert_eq!(emu.tokens_seen_in_urls(), 0);

    // An application error is the codec's business, not a transport error.
    let err = connect_once(&transport, &Token::new(TOKEN), &config).await.unwrap_err();
    assert!(err.transport_failure().is_none() && err.api_error().is_some(), "{err:?}");
    assert_no_token(&err);
}

#[tokio::test]
async fn rtm_connect_against_the_tls_emulator() {
    let emu = Emulator::start(EmulatorConfig::default().tls(true).http2(true)).await.unwrap();
    let config = ConnectConfig::with_api_base(&emu.api_url(), false).unwrap();
    let token = Token::new(emu.token());

    let err = transport_error(connect_once(&HyperTransport::new().unwrap(), &token, &config).await);
    assert!(matches!(err, TransportError::Tls { .. }), "{err:?}");
    assert_eq!(emu.rtm_connect_call_count(), 0);

    let trusting = HyperTransport::builder()
        .tls_config(Arc::new(emu.tls_client_config().expect("TLS is on")))
        .build()
        .unwrap();
    let answer = connect_once(&trusting, &token, &config).await.unwrap();
    assert!(answer.connected.url.starts_with("wss://"), "{}", answer.connected.url);
    assert_eq!(emu.rtm_connect_call_count(), 1);
}
