//! Every network path through the proxy, over loopback: `slack-rtm-hyper`'s API requests and
//! its `dial` (the WebSocket's byte stream) go through the same HTTP `CONNECT` or SOCKS5
//! proxy, with TLS end to end; credentials reach the proxy and nothing else; refusals are
//! typed; `NO_PROXY` bypasses both paths.
//!
//! The proxies are small servers written here that record what they were asked for.

use fastwebsockets::{Frame, OpCode};
use slack_rtm_codec::{ConnectConfig, Token, connect_once};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use slack_rtm_hyper::{HyperTransport, TimeoutKind, TransportError};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use slack_rtm_tests::proxy::{Asked, Log, asked, basic, connect_proxy, listen, upstream};

const PASSWORD: &str = "Pr0xyPa55";

/// How the SOCKS5 test proxy behaves.
#[derive(Clone, Copy)]
enum Socks {
    /// Requires this user/password (the user/password method), then tunnels.
    Credentials(&'static str, &'static str),
    /// No authentication, tunnels.
    Open,
    /// No authentication, refuses every target ("connection not allowed by ruleset").
    Refusing,
}

/// A minimal SOCKS5 server (RFC 1928 `CONNECT`, RFC 1929 user/password).
async fn socks5_proxy(mode: Socks) -> (SocketAddr, Log) {
    let log = Log::default();
    let l = Arc::clone(&log);
    let addr = listen(move |client| {
        let log = Arc::clone(&l);
        async move {
            let _ = socks5_session(client, mode, log).await;
        }
    })
    .await;
    (addr, log)
}

async fn socks5_session(mut c: TcpStream, mode: Socks, log: Log) -> std::io::Result<()> {
    let mut two = [0u8; 2];
    c.read_exact(&mut two).await?;
    let mut methods = vec![0u8; usize::from(two[1])];
    c.read_exact(&mut methods).await?;
    let mut auth = None;
    if let Socks::Credentials(user, pass) = mode {
        if !methods.contains(&2) {
            return c.write_all(&[5, 0xff]).await;
        }
        c.write_all(&[5, 2]).await?;
        let mut ver_len = [0u8; 2];
        c.read_exact(&mut ver_len).await?;
        let mut u = vec![0u8; usize::from(ver_len[1])];
        c.read_exact(&mut u).await?;
        let mut plen = [0u8; 1];
        c.read_exact(&mut plen).await?;
        let mut p = vec![0u8; usize::from(plen[0])];
        c.read_exact(&mut p).await?;
        let ok = u == user.as_bytes() && p == pass.as_bytes();
        c.write_all(&[1, if ok { 0 } else { 1 }]).await?;
        if !ok {
            return Ok(());
        }
        auth = Some(format!("{}:{}", String::from_utf8_lossy(&u), String::from_utf8_lossy(&p)));
    } else {
        c.write_all(&[5, 0]).await?;
    }
    let mut req = [0u8; 4];
    c.read_exact(&mut req).await?;
    let (host, by_name) = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            c.read_exact(&mut ip).await?;
            (std::net::Ipv4Addr::from(ip).to_string(), false)
        }
        4 => {
            let mut ip = [0u8; 16];
            c.read_exact(&mut ip).await?;
            (std::net::Ipv6Addr::from(ip).to_string(), false)
        }
        3 => {
            let mut len = [0u8; 1];
            c.read_exact(&mut len).await?;
            let mut name = vec![0u8; usize::from(len[0])];
            c.read_exact(&mut name).await?;
            (String::from_utf8_lossy(&name).into_owned(), true)
        }
        _ => return Ok(()),
    };
    let mut port = [0u8; 2];
    c.read_exact(&mut port).await?;
    let port = u16::from_be_bytes(port);
    log.lock().unwrap().push(Asked { target: format!("{host}:{port}"), auth, by_name });
    let reply = |code: u8| [5, code, 0, 1, 0, 0, 0, 0, 0, 0];
    if matches!(mode, Socks::Refusing) {
        return c.write_all(&reply(2)).await;
    }
    let Some(mut up) = upstream(&host, port).await else { return c.write_all(&reply(4)).await };
    c.write_all(&reply(0)).await?;
    tokio::io::copy_bidirectional(&mut c, &mut up).await.map(drop)
}

/// A TCP echo server.
async fn echo_server() -> SocketAddr {
    listen(|mut s| async move {
        let (mut r, mut w) = s.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
    })
    .await
}

async fn echo_round_trip(mut stream: TcpStream) {
    stream.write_all(b"ping through the tunnel").await.unwrap();
    let mut back = [0u8; 23];
    stream.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"ping through the tunnel");
}

/// The WebSocket handshake for `url` over `io`, then the first text frame (the `hello`).
async fn first_event<S>(io: S, url: &http::Uri) -> String
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut ws, _) = slack_rtm_test_support::ws::handshake(io, url).await.unwrap();
    let frame: Frame<'_> = ws.read_frame().await.unwrap();
    assert_eq!(frame.opcode, OpCode::Text);
    String::from_utf8(frame.payload.to_vec()).unwrap()
}

/// Fails if the proxy password shows in the error's text, Debug or source chain.
fn assert_hidden(err: &(dyn std::error::Error + 'static)) {
    let mut current = Some(err);
    while let Some(e) = current {
        let shown = format!("{e} | {e:?}");
        assert!(!shown.contains(PASSWORD) && !shown.contains("Basic "), "credentials leaked: {shown}");
        current = e.source();
    }
}

fn dead_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[tokio::test]
async fn api_call_and_socket_go_through_the_same_connect_proxy_with_tls_end_to_end() {
    let emu = Emulator::start(EmulatorConfig::default().tls(true).http2(true)).await.unwrap();
    let tls = Arc::new(emu.tls_client_config().unwrap());
    let (proxy, log) = connect_proxy(None, false).await;
    let transport = HyperTransport::builder()
        .tls_config(Arc::clone(&tls))
        .proxy(format!("http://bot:{PASSWORD}%40x@{proxy}"))
        .build()
        .unwrap();
    assert!(!format!("{transport:?}").contains(PASSWORD));

    let config = ConnectConfig::with_api_base(&emu.api_url(), false).unwrap();
    let answer = connect_once(&transport, &Token::new(emu.token()), &config).await.unwrap();
    let url: http::Uri = answer.connected.url.parse().unwrap();
    assert_eq!(url.scheme_str(), Some("wss"));
    // TLS and ALPN are end to end: HTTP/2 runs through the tunnel (on the pooled connection).
    let resp = transport.send(http::Request::get(emu.api_url()).body(Vec::new()).unwrap()).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    let (host, port) = (url.host().unwrap(), url.port_u16().unwrap());

    let tcp = transport.dial(host, port).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).unwrap();
    let tls_stream = tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.unwrap();
    let hello = first_event(tls_stream, &url).await;
    assert!(hello.contains(r#""type":"hello""#), "{hello}");
    assert_eq!(emu.connection_count(), 1);

    let auth = Some(basic(&format!("bot:{PASSWORD}@x")));
    let api_host = emu.local_addr().to_string();
    assert_eq!(
        asked(&log),
        vec![
            Asked { target: api_host, auth: auth.clone(), by_name: false },
            Asked { target: format!("{host}:{port}"), auth, by_name: false },
        ],
        "both the API host and the socket host must be tunnelled"
    );
}

#[tokio::test]
async fn dial_reaches_any_host_through_the_proxy_and_no_proxy_bypasses_both_paths() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let config = ConnectConfig::with_api_base(&emu.api_url(), true).unwrap();
    let token = Token::new(emu.token());
    let echo = echo_server().await;
    let (proxy, log) = connect_proxy(None, false).await;

    let proxied = HyperTransport::builder().allow_http(true).proxy(proxy.to_string()).build().unwrap();
    echo_round_trip(proxied.dial("127.0.0.1", echo.port()).await.unwrap()).await;
    echo_round_trip(proxied.dial("localhost", echo.port()).await.unwrap()).await;
    let targets: Vec<String> = asked(&log).into_iter().map(|a| a.target).collect();
    assert_eq!(targets, [format!("127.0.0.1:{}", echo.port()), format!("localhost:{}", echo.port())]);
    assert!(asked(&log).iter().all(|a| a.auth.is_none()));

    let bypass = HyperTransport::builder()
        .allow_http(true)
        .proxy(format!("http://{proxy}"))
        .no_proxy("example.com, 127.0.0.0/8, localhost")
        .build()
        .unwrap();
    connect_once(&bypass, &token, &config).await.unwrap();
    echo_round_trip(bypass.dial("127.0.0.1", echo.port()).await.unwrap()).await;
    echo_round_trip(bypass.dial("localhost", echo.port()).await.unwrap()).await;
    assert_eq!(asked(&log).len(), 2, "NO_PROXY must bypass the proxy for requests and dial");
    assert_eq!(emu.rtm_connect_call_count(), 1);

    // A host outside NO_PROXY still goes through the proxy.
    let partial = HyperTransport::builder()
        .allow_http(true)
        .proxy(format!("http://{proxy}"))
        .no_proxy("localhost")
        .build()
        .unwrap();
    echo_round_trip(partial.dial("127.0.0.1", echo.port()).await.unwrap()).await;
    echo_round_trip(partial.dial("localhost", echo.port()).await.unwrap()).await;
    assert_eq!(asked(&log).len(), 3);
    assert_eq!(asked(&log)[2].target, format!("127.0.0.1:{}", echo.port()));
}

#[tokio::test]
async fn refusals_are_typed_with_status_and_target_and_never_show_credentials() {
    let echo = echo_server().await;
    let target = format!("127.0.0.1:{}", echo.port());

    // 403 on the socket path, through io::Error as the WebSocket driver sees it.
    let (proxy, log) =
        connect_proxy(Some("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n"), false).await;
    let transport =
        HyperTransport::builder().proxy(format!("http://bot:{PASSWORD}@{proxy}")).build().unwrap();
    let err = transport.dial("127.0.0.1", echo.port()).await.unwrap_err();
    assert_hidden(&err);
    match &err {
        TransportError::ProxyRefused { proxy: p, host, status } => {
            assert_eq!(
                (p.as_str(), host.as_str(), *status),
                (proxy.to_string().as_str(), target.as_str(), 403)
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("403") && text.contains(&target) && text.contains(&proxy.to_string()), "{text}");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(io.to_string().contains("403"), "{io}");
    let inner = io.get_ref().and_then(|e| e.downcast_ref::<TransportError>());
    assert!(matches!(inner, Some(TransportError::ProxyRefused { status: 403, .. })), "{inner:?}");
    assert_eq!(asked(&log)[0].auth, Some(basic(&format!("bot:{PASSWORD}"))));

    // 407 on the API path.
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let config = ConnectConfig::with_api_base(&emu.api_url(), true).unwrap();
    let (proxy, _) = connect_proxy(Some("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"), false).await;
    let transport = HyperTransport::builder()
        .allow_http(true)
        .proxy(format!("http://bot:{PASSWORD}@{proxy}"))
        .build()
        .unwrap();
    let err = connect_once(&transport, &Token::new(emu.token()), &config).await.unwrap_err();
    assert_hidden(&err);
    match err.transport_error::<TransportError>() {
        Some(TransportError::ProxyRefused { status: 407, host, .. }) => {
            assert_eq!(*host, emu.local_addr().to_string());
        }
        other => panic!("expected a 407 refusal, got {other:?}"),
    }
    assert!(err.to_string().contains("authentication"), "{err}");
    assert_eq!(emu.rtm_connect_call_count(), 0);

    // A proxy that is not listening, on both paths.
    let dead = dead_addr();
    let transport = HyperTransport::builder()
        .allow_http(true)
        .proxy(format!("http://bot:{PASSWORD}@{dead}"))
        .build()
        .unwrap();
    let err = transport.dial("127.0.0.1", echo.port()).await.unwrap_err();
    assert_hidden(&err);
    assert!(
        matches!(&err, TransportError::Proxy { proxy, reason, .. }
            if *proxy == dead.to_string() && reason.starts_with("cannot connect to the proxy")),
        "{err:?}"
    );
    let err = connect_once(&transport, &Token::new(emu.token()), &config).await.unwrap_err();
    assert!(matches!(err.transport_error::<TransportError>(), Some(TransportError::Proxy { .. })), "{err:?}");

    // A proxy that never answers CONNECT: the connect deadline.
    let (stalled, _) = connect_proxy(None, true).await;
    let transport = HyperTransport::builder()
        .proxy(format!("http://{stalled}"))
        .connect_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = transport.dial("127.0.0.1", echo.port()).await.unwrap_err();
    assert!(matches!(err, TransportError::Timeout { kind: TimeoutKind::Connect, .. }), "{err:?}");
    assert_eq!(std::io::Error::from(err).kind(), std::io::ErrorKind::TimedOut);

    // A bad target is refused before any I/O.
    let err = transport.dial("bad host", 443).await.unwrap_err();
    assert!(matches!(err, TransportError::InvalidUrl { .. }), "{err:?}");
}

#[tokio::test]
async fn socks5h_carries_api_calls_and_sockets_with_credentials() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let port = emu.local_addr().port();
    let config = ConnectConfig::with_api_base(&format!("http://localhost:{port}/api/"), true).unwrap();
    let echo = echo_server().await;
    let (proxy, log) = socks5_proxy(Socks::Credentials("bot", PASSWORD)).await;
    let transport = HyperTransport::builder()
        .allow_http(true)
        .proxy(format!("socks5h://bot:{PASSWORD}@{proxy}"))
        .build()
        .unwrap();
    assert!(!format!("{transport:?}").contains(PASSWORD));

    let answer = connect_once(&transport, &Token::new(emu.token()), &config).await.unwrap();
    let url: http::Uri = answer.connected.url.parse().unwrap();
    let tcp = transport.dial("localhost", url.port_u16().unwrap()).await.unwrap();
    let hello = first_event(tcp, &url).await;
    assert!(hello.contains(r#""type":"hello""#), "{hello}");
    echo_round_trip(transport.dial("localhost", echo.port()).await.unwrap()).await;

    let auth = Some(format!("bot:{PASSWORD}"));
    let expected: Vec<Asked> = [port, url.port_u16().unwrap(), echo.port()]
        .into_iter()
        .map(|p| Asked { target: format!("localhost:{p}"), auth: auth.clone(), by_name: true })
        .collect();
    assert_eq!(asked(&log), expected, "socks5h sends names for the proxy to resolve");

    // Wrong credentials: a typed error that does not repeat them.
    let transport =
        HyperTransport::builder().proxy(format!("socks5h://bot:{PASSWORD}x@{proxy}")).build().unwrap();
    let err = transport.dial("localhost", echo.port()).await.unwrap_err();
    assert_hidden(&err);
    assert!(
        matches!(&err, TransportError::Proxy { proxy: p, reason, .. }
            if *p == proxy.to_string() && reason.contains("credentials not accepted")),
        "{err:?}"
    );
}

#[tokio::test]
async fn socks5_resolves_names_here_and_its_refusals_are_typed() {
    let echo = echo_server().await;
    let (proxy, log) = socks5_proxy(Socks::Open).await;
    let transport = HyperTransport::builder().proxy(format!("socks5://{proxy}")).build().unwrap();
    echo_round_trip(transport.dial("localhost", echo.port()).await.unwrap()).await;
    let seen = asked(&log);
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].by_name, "socks5:// must send an address, not the name: {seen:?}");
    assert!(seen[0].target.ends_with(&format!(":{}", echo.port())), "{seen:?}");
    assert!(["127.0.0.1:", "::1:"].iter().any(|p| seen[0].target.starts_with(p)), "{seen:?}");

    let (refusing, _) = socks5_proxy(Socks::Refusing).await;
    let transport = HyperTransport::builder().proxy(format!("socks5h://{refusing}")).build().unwrap();
    let err = transport.dial("localhost", echo.port()).await.unwrap_err();
    match &err {
        TransportError::Proxy { proxy, host, reason, .. } => {
            assert_eq!(*proxy, refusing.to_string());
            assert_eq!(*host, format!("localhost:{}", echo.port()));
            assert!(reason.contains("connection not allowed"), "{reason}");
        }
        other => panic!("expected a SOCKS refusal, got {other:?}"),
    }
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn proxy_credentials_never_reach_the_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // This test's runtime is single-threaded: every task (client, proxies) logs here.
    let _guard = tracing::subscriber::set_default(subscriber);

    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let config = ConnectConfig::with_api_base(&emu.api_url(), true).unwrap();
    let echo = echo_server().await;
    let (http_proxy, _) = connect_proxy(None, false).await;
    let (socks_proxy, _) = socks5_proxy(Socks::Credentials("bot", PASSWORD)).await;
    let (refusing, _) =
        connect_proxy(Some("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"), false).await;
    for url in [
        format!("http://bot:{PASSWORD}@{http_proxy}"),
        format!("socks5h://bot:{PASSWORD}@{socks_proxy}"),
        format!("http://bot:{PASSWORD}@{refusing}"),
    ] {
        let transport = HyperTransport::builder().allow_http(true).proxy(url).build().unwrap();
        let _ = connect_once(&transport, &Token::new(emu.token()), &config).await;
        let _ = transport.dial("127.0.0.1", echo.port()).await;
    }

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains(&http_proxy.to_string()) && text.contains(&socks_proxy.to_string()), "{text}");
    assert!(text.contains("407"), "the refusal is logged: {text}");
    let encoded = basic(&format!("bot:{PASSWORD}"));
    let encoded = encoded.trim_start_matches("Basic ");
    assert!(!text.contains(PASSWORD) && !text.contains(encoded), "credentials in the logs:\n{text}");
}
