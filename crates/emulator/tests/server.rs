//! Blast mode, TLS, HTTP/2, shutdown, waits, tokens in URLs.

mod common;

use common::*;

#[cfg(feature = "blast")]
#[tokio::test]
async fn blast_mode_delivers_exactly_n_events() {
    const N: usize = 3000;
    let emu = start(EmulatorConfig::default().for_benchmarks().blast(Some(N as u64))).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    let mut last_ts = String::new();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..N {
        let v = c.recv_json().await;
        assert_eq!(v["type"], "message");
        let len = v.to_string().len();
        assert!((300..=600).contains(&len), "{len}");
        assert!(v["blocks"].is_array() && v["team"].is_string() && v["event_ts"] == v["ts"]);
        let ts = v["ts"].as_str().unwrap().to_owned();
        assert!(ts > last_ts);
        last_ts = ts;
        assert!(ids.insert(v["client_msg_id"].as_str().unwrap().to_owned()));
    }
    assert!(c.sync().await.is_empty(), "exactly {N} events");
    // On demand too, and the round trip still works.
    emu.blast(Target::All, 10);
    let mut n = 0;
    while n < 10 {
        assert_eq!(c.recv_json().await["type"], "message");
        n += 1;
    }
    let id = c.message(emu.general_channel().as_str(), "rt").await;
    assert_eq!(c.recv_json().await["reply_to"], id);
}

#[tokio::test]
async fn tls_serves_https_and_wss() {
    let emu = start(quick().tls(true)).await;
    assert!(emu.api_url().starts_with("https://127.0.0.1:"));
    assert!(emu.tls_root_cert_pem().unwrap().contains("BEGIN CERTIFICATE"));
    let cfg = Arc::new(emu.tls_client_config().unwrap());
    let connector = tokio_rustls::TlsConnector::from(cfg);
    let tcp = TcpStream::connect(emu.local_addr()).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector.connect(name.to_owned(), tcp).await.unwrap();
    let auth = format!("Bearer {}", emu.token());
    let r = exchange(tls, &request("GET", "/api/rtm.connect", &[("Authorization", &auth)], b""), false).await;
    let url = r.json()["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("wss://127.0.0.1:"), "{url}");
    let mut c = Client::open_with(&url, emu.tls_client_config(), true).await;
    assert_eq!(c.recv_json().await["type"], "hello");
    let id = c.message(emu.general_channel().as_str(), "over tls").await;
    assert_eq!(c.recv_json().await["reply_to"], id);
}

#[tokio::test]
async fn http2_with_prior_knowledge() {
    use http_body_util::BodyExt;
    let emu = start(quick()).await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<Empty<Bytes>>();
    let req = http::Request::get(format!("{}auth.test", emu.api_url()))
        .header("Authorization", format!("Bearer {}", emu.token()))
        .body(Empty::new())
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert!(resp.headers().contains_key("x-slack-req-id"));
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["ok"], true);
}

#[tokio::test]
async fn shutdown_closes_connections() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    let addr = emu.local_addr();
    emu.shutdown().await;
    assert_eq!(c.expect_close().await, Some(1001));
    assert!(TcpStream::connect(addr).await.is_err(), "no longer listening");
}

#[tokio::test]
async fn wait_for_connections_times_out_with_a_typed_error() {
    let emu = start(quick()).await;
    let err = emu.wait_for_connections(1, Duration::from_millis(50)).await.unwrap_err();
    assert!(err.to_string().contains("1 connections"), "{err}");
}

/// A token in the query string is counted on every path, not only on the methods that record
/// their calls: the socket URL and unknown methods too.
#[tokio::test]
async fn tokens_in_any_url_are_counted() {
    let emu = start(quick()).await;
    get(&emu, "/api/users.list?limit=1", &[]).await;
    get(&emu, "/websocket/no-such-ticket", &[]).await;
    assert_eq!(emu.tokens_seen_in_urls(), 0);
    get(&emu, &format!("/api/users.list?token={}", emu.token()), &[]).await;
    get(&emu, "/websocket/no-such-ticket?a=1&tok%65n=xoxb-x", &[]).await;
    assert_eq!(emu.tokens_seen_in_urls(), 2);
}
