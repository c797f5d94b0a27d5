//! `slack_rtm_hyper::server` over loopback: each request kind reaches the handler verified,
//! each refusal has its status and reaches nothing, HTTP/2, graceful shutdown with requests in
//! flight.

mod http_support;

use bytes::Bytes;
use http::Response;
use http_support::*;
use slack_rtm_hyper::server::{
    HttpServer, Inbound, InboundHandler, InboundKind, SigningSecret, SlackReceiver, Verifier,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};

/// Records what it is handed; answers `{"got": TYPE}`, after `gate` is opened when there is one.
struct Recorder {
    seen: mpsc::UnboundedSender<Inbound>,
    gate: Option<Arc<Notify>>,
    entered: Arc<Notify>,
}

impl InboundHandler for Recorder {
    async fn handle(&self, inbound: Inbound) -> Response<Bytes> {
        if let Some(gate) = &self.gate {
            self.entered.notify_one();
            gate.notified().await;
        }
        let body = serde_json::json!({ "got": inbound.type_name() }).to_string();
        let _ = self.seen.send(inbound);
        Response::new(Bytes::from(body))
    }
}

async fn start(limit: usize, gate: Option<Arc<Notify>>) -> (HttpServer, mpsc::UnboundedReceiver<Inbound>) {
    start_with(limit, gate, Arc::new(Notify::new())).await
}

async fn start_with(
    limit: usize,
    gate: Option<Arc<Notify>>,
    entered: Arc<Notify>,
) -> (HttpServer, mpsc::UnboundedReceiver<Inbound>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let verifier = Verifier::new(SigningSecret::new(SECRET)).unwrap().max_body_bytes(limit);
    let receiver = SlackReceiver::with_read_timeout(
        verifier,
        Recorder { seen: tx, gate, entered },
        Duration::from_millis(300),
    );
    let server = HttpServer::bind("127.0.0.1:0".parse().unwrap(), "/slack/events", receiver).await.unwrap();
    (server, rx)
}

#[tokio::test]
async fn each_kind_reaches_the_handler_verified() {
    let (server, mut seen) = start(64 * 1024, None).await;
    let addr = server.local_addr();
    assert_eq!(server.url(), format!("http://{addr}/slack/events"));

    // url_verification is answered by the receiver with the challenge.
    let body = br#"{"token":"t","challenge":"chal-42","type":"url_verification"}"#;
    let a = post(addr, "/slack/events", JSON, body, &[]).await;
    assert_eq!((a.status, a.text().as_str()), (200, "chal-42"));

    let body = event_body(
        "Ev1",
        serde_json::json!({"type": "app_mention", "user": "U1", "text": "hi", "ts": "1.0", "channel": "C1"}),
    );
    let a = post(
        addr,
        "/slack/events",
        JSON,
        &body,
        &[("X-Slack-Retry-Num", "1"), ("X-Slack-Retry-Reason", "http_timeout")],
    )
    .await;
    assert_eq!((a.status, a.json()["got"].as_str()), (200, Some("app_mention")));
    let got = seen.recv().await.unwrap();
    assert_eq!((got.kind(), got.event_id()), (InboundKind::Event, Some("Ev1")));
    assert_eq!(got.retry().map(|r| (r.num, r.reason.as_str())), Some((1, "http_timeout")));

    let body = form(&[
        ("command", "/echo"),
        ("text", "a b"),
        ("user_id", "U1"),
        ("channel_id", "C1"),
        ("team_id", "T1"),
    ]);
    let a = post(addr, "/slack/events", FORM, &body, &[]).await;
    assert_eq!(a.json()["got"], "/echo");
    assert_eq!(seen.recv().await.unwrap().kind(), InboundKind::SlashCommand);

    let body = form(&[("payload", r#"{"type":"block_actions","actions":[{"action_id":"approve"}]}"#)]);
    post(addr, "/slack/events", FORM, &body, &[]).await;
    assert_eq!(seen.recv().await.unwrap().kind(), InboundKind::Interactive);

    let body = form(&[("payload", r#"{"type":"block_suggestion","action_id":"pick","value":"a"}"#)]);
    post(addr, "/slack/events", FORM, &body, &[]).await;
    assert_eq!(seen.recv().await.unwrap().kind(), InboundKind::Options);

    let body = br#"{"token":"t","type":"app_rate_limited","team_id":"T1","minute_rate_limited":1,"api_app_id":"A1"}"#;
    post(addr, "/slack/events", JSON, body, &[]).await;
    assert_eq!(seen.recv().await.unwrap().kind(), InboundKind::AppRateLimited);

    // Nothing else arrived (url_verification did not reach the handler).
    assert!(seen.try_recv().is_err());
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn each_refusal_has_its_status_and_reaches_nothing() {
    let (server, mut seen) = start(1024, None).await;
    let addr = server.local_addr();
    let body = event_body("Ev1", serde_json::json!({"type": "app_mention"}));
    let ct = ("Content-Type".to_owned(), JSON.to_owned());

    // Unsigned.
    let a = raw(addr, "POST", "/slack/events", std::slice::from_ref(&ct), &body).await;
    assert_eq!(a.status, 401);
    // Stale: signed 301 s ago.
    let mut h = signature(unix_now() - 301, &body);
    h.push(ct.clone());
    assert_eq!(raw(addr, "POST", "/slack/events", &h, &body).await.status, 401);
    // Badly signed: the signature of another body.
    let mut h = signature(unix_now(), b"{}");
    h.push(ct.clone());
    let a = raw(addr, "POST", "/slack/events", &h, &body).await;
    assert_eq!(a.status, 401);
    assert!(!a.text().contains("Ev1"), "{}", a.text());
    // Not POST.
    let mut h = signature(unix_now(), b"");
    h.push(ct.clone());
    assert_eq!(raw(addr, "GET", "/slack/events", &h, b"").await.status, 405);
    // Unexpected content type.
    assert_eq!(post(addr, "/slack/events", "text/plain", &body, &[]).await.status, 415);
    // Over the cap, by Content-Length…
    let big = vec![b' '; 2048];
    assert_eq!(post(addr, "/slack/events", JSON, &big, &[]).await.status, 413);
    // … and by the bytes, chunked (no Content-Length).
    let mut h = signature(unix_now(), &big);
    h.push(ct.clone());
    h.push(("Transfer-Encoding".into(), "chunked".into()));
    let mut chunked = format!("{:x}\r\n", big.len()).into_bytes();
    chunked.extend_from_slice(&big);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut stream = open(addr, "POST", "/slack/events", &h).await;
    let _ = stream.write_all(&chunked).await;
    let a = read_answer(&mut stream).await;
    assert_eq!(a.status, 413);
    // Malformed, signed.
    assert_eq!(post(addr, "/slack/events", JSON, b"{\"type\":", &[]).await.status, 400);
    assert_eq!(post(addr, "/slack/events", FORM, b"payload=%7Bnope", &[]).await.status, 400);
    // Another path.
    assert_eq!(post(addr, "/other", JSON, &body, &[]).await.status, 404);

    assert!(seen.try_recv().is_err(), "a refused request reached the handler");
    server.shutdown(Duration::from_secs(1)).await;
}

/// What the head alone condemns is refused before the body is read: these requests announce a
/// body that never comes, and are answered with their refusal, not the read deadline's 408.
#[tokio::test]
async fn head_refusals_come_before_the_body_is_read() {
    let (server, mut seen) = start(1024, None).await;
    let addr = server.local_addr();
    let signed = |ct: &str| {
        let mut h = signature(unix_now(), b"never sent");
        h.push(("Content-Type".to_owned(), ct.to_owned()));
        h
    };
    let with_length = |mut h: Vec<(String, String)>, len: usize| {
        h.push(("Content-Length".to_owned(), len.to_string()));
        h
    };
    let unsigned = vec![("Content-Type".to_owned(), JSON.to_owned())];
    let mut stale = signature(unix_now() - 600, b"never sent");
    stale.push(("Content-Type".to_owned(), JSON.to_owned()));
    let cases = [
        ("POST", with_length(unsigned, 100), 401),
        ("POST", with_length(stale, 100), 401),
        ("PUT", with_length(signed(JSON), 100), 405),
        ("POST", with_length(signed("text/plain"), 100), 415),
        ("POST", with_length(signed(JSON), 4096), 413),
    ];
    for (method, headers, status) in cases {
        let mut stream = open(addr, method, "/slack/events", &headers).await;
        let a = read_answer(&mut stream).await;
        assert_eq!(a.status, status, "{method} {headers:?}");
    }
    assert!(seen.try_recv().is_err());
    server.shutdown(Duration::from_secs(1)).await;
}

/// A signed `event_callback` (`Ev1`) and its headers, `Content-Length` included.
fn signed_event_with_length() -> (Vec<u8>, Vec<(String, String)>) {
    let body = event_body("Ev1", serde_json::json!({"type": "app_mention"}));
    let mut h = signature(unix_now(), &body);
    h.push(("Content-Type".into(), JSON.into()));
    h.push(("Content-Length".into(), body.len().to_string()));
    (body, h)
}

#[tokio::test]
async fn a_body_that_never_arrives_is_408() {
    let (server, mut seen) = start(1024, None).await;
    let addr = server.local_addr();
    let (body, h) = signed_event_with_length();
    let mut s = open(addr, "POST", "/slack/events", &h).await;
    s.write_all(&body[..10]).await.unwrap();
    // The rest never comes: the receiver's 300 ms read deadline answers.
    assert_eq!(read_answer(&mut s).await.status, 408);
    assert!(seen.try_recv().is_err());
    server.shutdown(Duration::from_secs(1)).await;
}

/// The read deadline's timer is made only when the body is not there at once: a body that
/// comes in two parts within the deadline is read whole and handed over; one that trickles in
/// past it is 408 (the deadline is for the whole body, not each part).
#[tokio::test]
async fn a_late_body_is_read_within_the_deadline_and_refused_after_it() {
    let (server, mut seen) = start(1024, None).await;
    let addr = server.local_addr();
    let (body, h) = signed_event_with_length();
    let mut s = open(addr, "POST", "/slack/events", &h).await;
    s.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.write_all(&body[10..]).await.unwrap();
    assert_eq!(read_answer(&mut s).await.status, 200);
    assert_eq!(seen.recv().await.unwrap().event_id(), Some("Ev1"));

    // 5 parts 100 ms apart: each within 300 ms of the one before, the whole not.
    let (mut r, mut w) = open(addr, "POST", "/slack/events", &h).await.into_split();
    let trickle = tokio::spawn(async move {
        for chunk in body.chunks(body.len() / 5 + 1) {
            if w.write_all(chunk).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut buf = Vec::new();
    let _ = r.read_to_end(&mut buf).await;
    trickle.abort();
    let answer = Answer::parse(&buf);
    assert_eq!(answer.status, 408);
    assert!(seen.try_recv().is_err());
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn http2_prior_knowledge_is_served() {
    let (server, mut seen) = start(64 * 1024, None).await;
    let stream = tokio::net::TcpStream::connect(server.local_addr()).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let body = form(&[
        ("command", "/echo"),
        ("text", "h2"),
        ("user_id", "U1"),
        ("channel_id", "C1"),
        ("team_id", "T1"),
    ]);
    let mut req = http::Request::post(server.url()).header("content-type", FORM);
    for (n, v) in signature(unix_now(), &body) {
        req = req.header(n, v);
    }
    let resp =
        sender.send_request(req.body(http_body_util::Full::new(Bytes::from(body))).unwrap()).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    use http_body_util::BodyExt;
    let got = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&got).unwrap()["got"], "/echo");
    assert_eq!(seen.recv().await.unwrap().kind(), InboundKind::SlashCommand);
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn shutdown_lets_requests_in_flight_finish() {
    let gate = Arc::new(Notify::new());
    let entered = Arc::new(Notify::new());
    let (server, mut seen) = start_with(64 * 1024, Some(gate.clone()), entered.clone()).await;
    let addr = server.local_addr();
    let body = form(&[("command", "/slow"), ("user_id", "U1"), ("channel_id", "C1"), ("team_id", "T1")]);
    let in_flight = tokio::spawn(async move { post(addr, "/slack/events", FORM, &body, &[]).await });
    // The handler holds the request.
    entered.notified().await;
    let stopping = tokio::spawn(server.shutdown(Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_millis(100)).await;
    // New connections are refused while the request in flight is still held.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
    gate.notify_one();
    let answer = in_flight.await.unwrap();
    assert_eq!((answer.status, answer.json()["got"].as_str()), (200, Some("/slow")));
    assert!(stopping.await.unwrap(), "shutdown did not drain in time");
    assert_eq!(seen.recv().await.unwrap().type_name(), Some("/slow"));
}

/// A signed slash command as an `http::Request` (for hyper's client connections).
fn command_request(url: &str, text: &str) -> http::Request<http_body_util::Full<Bytes>> {
    let body = form(&[
        ("command", "/idle"),
        ("text", text),
        ("user_id", "U1"),
        ("channel_id", "C1"),
        ("team_id", "T1"),
    ]);
    let mut req = http::Request::post(url).header("content-type", FORM);
    for (n, v) in signature(unix_now(), &body) {
        req = req.header(n, v);
    }
    req.body(http_body_util::Full::new(Bytes::from(body))).unwrap()
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections_and_their_tasks_end() {
    let (server, mut seen) = start(64 * 1024, None).await;
    let url = server.url();
    let rt = hyper_util::rt::TokioExecutor::new();
    // An HTTP/1.1 keep-alive connection and an HTTP/2 one, each used twice, then left idle.
    let stream = tokio::net::TcpStream::connect(server.local_addr()).await.unwrap();
    let (mut h1, h1_conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    let h1_conn = tokio::spawn(h1_conn);
    let stream = tokio::net::TcpStream::connect(server.local_addr()).await.unwrap();
    let (mut h2, h2_conn) =
        hyper::client::conn::http2::handshake(rt, hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    let h2_conn = tokio::spawn(h2_conn);
    for text in ["a", "b"] {
        assert_eq!(h1.send_request(command_request(&url, text)).await.unwrap().status(), 200);
        assert_eq!(h2.send_request(command_request(&url, text)).await.unwrap().status(), 200);
    }
    for _ in 0..4 {
        assert_eq!(seen.recv().await.unwrap().type_name(), Some("/idle"));
    }
    // Idle connections do not hold the shutdown up to its grace: they are closed at once
    // (without that, this waits the whole 5 s and answers `false`).
    assert!(server.shutdown(Duration::from_secs(5)).await, "idle connections were not closed");
    // The server closed them: the client's connection tasks end.
    h1_conn.await.unwrap().unwrap();
    let _ = h2_conn.await.unwrap();
    assert!(h1.send_request(command_request(&url, "c")).await.is_err());
}

#[tokio::test]
async fn shutdown_gives_up_after_its_grace_when_a_request_is_held() {
    let gate = Arc::new(Notify::new());
    let entered = Arc::new(Notify::new());
    let (server, _seen) = start_with(64 * 1024, Some(gate.clone()), entered.clone()).await;
    let addr = server.local_addr();
    let body = form(&[("command", "/held"), ("user_id", "U1"), ("channel_id", "C1"), ("team_id", "T1")]);
    let _in_flight = tokio::spawn(async move { post(addr, "/slack/events", FORM, &body, &[]).await });
    entered.notified().await;
    // The handler never lets go: the grace runs out.
    assert!(!server.shutdown(Duration::from_millis(300)).await);
}
