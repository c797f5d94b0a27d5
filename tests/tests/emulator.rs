//! The emulator, driven over real loopback sockets by a raw HTTP/1.1 client (so malformed
//! requests can be sent) and a raw fastwebsockets client.

use bytes::Bytes;
use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload};
use http_body_util::Empty;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use slack_rtm_emulator::{
    CloseReason, ConnId, Emulator, EmulatorConfig, HelloMode, Presence, RateLimit, RawFrame, Rejection,
    ReplyFault, SendRate, Target, TokenFlavor,
};
use slack_rtm_types::{ApiError, Event};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- raw HTTP/1.1 client

#[derive(Debug)]
struct HttpResp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("<none>").to_owned()
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, raw: &[u8], shutdown_write: bool) -> HttpResp {
    s.write_all(raw).await.unwrap();
    s.flush().await.unwrap();
    if shutdown_write {
        s.shutdown().await.unwrap();
    }
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut buf)).await.expect("HTTP answer in time");
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8(buf[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    HttpResp { status, headers, body: buf[split + 4..].to_vec() }
}

async fn http_raw(emu: &Emulator, raw: &[u8]) -> HttpResp {
    exchange(TcpStream::connect(emu.local_addr()).await.unwrap(), raw, false).await
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    let mut bytes = r.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

async fn get(emu: &Emulator, path: &str, headers: &[(&str, &str)]) -> HttpResp {
    http_raw(emu, &request("GET", path, headers, b"")).await
}

async fn post(
    emu: &Emulator,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
    bearer: Option<&str>,
) -> HttpResp {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(ct) = content_type {
        headers.push(("Content-Type", ct));
    }
    if let Some(a) = auth.as_deref() {
        headers.push(("Authorization", a));
    }
    http_raw(emu, &request("POST", path, &headers, body)).await
}

async fn connect_call(emu: &Emulator, token: &str, query: &str) -> HttpResp {
    let auth = format!("Bearer {token}");
    get(emu, &format!("/api/rtm.connect{query}"), &[("Authorization", &auth)]).await
}

async fn socket_url(emu: &Emulator, token: &str, query: &str) -> String {
    let r = connect_call(emu, token, query).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    v["url"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------- raw WebSocket client

struct SpawnExecutor;

impl<Fut> hyper::rt::Executor<Fut> for SpawnExecutor
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn execute(&self, fut: Fut) {
        tokio::spawn(fut);
    }
}

#[derive(Debug)]
enum Recv {
    Text(Value),
    Raw(OpCode, Vec<u8>),
    Close(Option<u16>),
    Error(String),
}

struct Client {
    ws: FragmentCollector<TokioIo<Upgraded>>,
    next_id: u64,
}

type BoxedIo = Pin<Box<dyn AsyncReadWrite>>;
trait AsyncReadWrite: AsyncRead + AsyncWrite + Send {}
impl<T: AsyncRead + AsyncWrite + Send> AsyncReadWrite for T {}

impl Client {
    async fn open_with(url: &str, tls: Option<rustls::ClientConfig>, auto_pong: bool) -> Client {
        let uri: http::Uri = url.parse().unwrap();
        let host = uri.host().unwrap().to_owned();
        let port = uri.port_u16().unwrap();
        assert_eq!(host, "127.0.0.1");
        let tcp = TcpStream::connect((host.as_str(), port)).await.unwrap();
        let io: BoxedIo = match tls {
            Some(cfg) => {
                assert_eq!(uri.scheme_str(), Some("wss"));
                let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
                let name = rustls::pki_types::ServerName::try_from(host.clone()).unwrap();
                Box::pin(connector.connect(name, tcp).await.unwrap())
            }
            None => {
                assert_eq!(uri.scheme_str(), Some("ws"));
                Box::pin(tcp)
            }
        };
        let req = http::Request::builder()
            .method("GET")
            .uri(uri.path())
            .header("Host", format!("{host}:{port}"))
            .header("Upgrade", "websocket")
            .header("Connection", "upgrade")
            .header("Sec-WebSocket-Key", fastwebsockets::handshake::generate_key())
            .header("Sec-WebSocket-Version", "13")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let (mut ws, resp) = fastwebsockets::handshake::client(&SpawnExecutor, req, io).await.unwrap();
        assert!(resp.headers().contains_key("x-slack-req-id"));
        ws.set_auto_pong(auto_pong);
        Client { ws: FragmentCollector::new(ws), next_id: 0 }
    }

    async fn open(url: &str) -> Client {
        Client::open_with(url, None, true).await
    }

    /// rtm.connect + open + hello.
    async fn connect(emu: &Emulator, token: &str) -> Client {
        Client::connect_with(emu, token, "").await
    }

    async fn connect_with(emu: &Emulator, token: &str, query: &str) -> Client {
        let url = socket_url(emu, token, query).await;
        let mut c = Client::open_with(&url, emu.tls_client_config(), true).await;
        assert_eq!(c.recv_json().await["type"], "hello");
        c
    }

    /// The next frame (a failure guard: panics after 5 s).
    async fn recv(&mut self) -> Recv {
        let frame = tokio::time::timeout(WAIT, self.ws.read_frame()).await.expect("a frame in time");
        match frame {
            Ok(f) => match f.opcode {
                OpCode::Text => match serde_json::from_slice(&f.payload) {
                    Ok(v) => Recv::Text(v),
                    Err(_) => Recv::Raw(OpCode::Text, f.payload.to_vec()),
                },
                OpCode::Close => Recv::Close(
                    (f.payload.len() >= 2).then(|| u16::from_be_bytes([f.payload[0], f.payload[1]])),
                ),
                op => Recv::Raw(op, f.payload.to_vec()),
            },
            Err(e) => Recv::Error(e.to_string()),
        }
    }

    async fn recv_json(&mut self) -> Value {
        match self.recv().await {
            Recv::Text(v) => v,
            other => panic!("expected a JSON text frame, got {other:?}"),
        }
    }

    async fn send(&mut self, v: Value) {
        self.send_text(v.to_string()).await;
    }

    async fn send_text(&mut self, text: String) {
        self.ws.write_frame(Frame::text(Payload::Owned(text.into_bytes()))).await.unwrap();
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    async fn message(&mut self, channel: &str, text: &str) -> u64 {
        let id = self.id();
        self.send(json!({"id": id, "type": "message", "channel": channel, "text": text})).await;
        id
    }

    /// Sends a ping and returns every frame received before its pong: proves that nothing else
    /// was sent (the server handles a connection's frames in order).
    async fn sync(&mut self) -> Vec<Value> {
        let id = self.id();
        self.send(json!({"id": id, "type": "ping", "sync": true})).await;
        let mut before = Vec::new();
        loop {
            let v = self.recv_json().await;
            if v["type"] == "pong" && v["reply_to"] == id {
                return before;
            }
            before.push(v);
        }
    }

    async fn expect_close(&mut self) -> Option<u16> {
        loop {
            match self.recv().await {
                Recv::Close(code) => return code,
                Recv::Text(_) | Recv::Raw(..) => continue,
                Recv::Error(e) => panic!("expected a close frame, got error {e}"),
            }
        }
    }
}

async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.unwrap()
}

fn quick() -> EmulatorConfig {
    EmulatorConfig::default().send_rate(None)
}

// ---------------------------------------------------------------- the socket

#[tokio::test]
async fn message_is_acked_formatted_and_fanned_out_to_other_connections() {
    let emu = start(quick()).await;
    let general = emu.general_channel();
    let alice = emu.second_user();
    let mut bot = Client::connect(&emu, &emu.token()).await;
    let mut other = Client::connect(&emu, &alice.token).await;
    emu.wait_for_connections(2, WAIT).await.unwrap();

    let id = bot.message(general.as_str(), "see https://example.com/x?a=1&b=2. & <b>").await;
    let ack = bot.recv_json().await;
    assert_eq!(ack["ok"], true);
    assert_eq!(ack["reply_to"], id);
    assert_eq!(ack["text"], "see <https://example.com/x?a=1&amp;b=2>. &amp; &lt;b&gt;");
    let ts1 = ack["ts"].as_str().unwrap().to_owned();

    let ev = other.recv_json().await;
    assert_eq!(ev["type"], "message");
    assert_eq!(ev["channel"], general.as_str());
    assert_eq!(ev["user"], emu.bot_user().as_str());
    assert_eq!(ev["text"], ack["text"]);
    assert_eq!(ev["ts"], ts1.as_str());
    assert_eq!(ev["event_ts"], ts1.as_str());
    assert_eq!(ev["team"], emu.team().id.as_str());
    // The sender does not get its own message back.
    assert!(bot.sync().await.is_empty());

    let id2 = other.message(general.as_str(), "second").await;
    let ack2 = other.recv_json().await;
    assert_eq!(ack2["reply_to"], id2);
    let ts2 = ack2["ts"].as_str().unwrap();
    let as_num = |s: &str| -> (u64, u64) {
        let (a, b) = s.split_once('.').unwrap();
        assert_eq!(b.len(), 6);
        (a.parse().unwrap(), b.parse().unwrap())
    };
    assert!(as_num(ts2) > as_num(&ts1), "{ts2} after {ts1}");
    assert_eq!(bot.recv_json().await["text"], "second");

    let posted = emu.posted_messages();
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[0].ts.as_str(), ts1);
    assert_eq!(posted[0].text, "see https://example.com/x?a=1&b=2. & <b>");
    assert_eq!(posted[0].client_id.as_deref(), Some("1"));
    assert_eq!(posted[1].user, alice.user);
    let frames = emu.received_frames();
    assert!(frames.iter().any(|f| f.message_type().as_deref() == Some("message")));
    assert_eq!(emu.connections().len(), 2);
}

#[tokio::test]
async fn error_replies_for_unknown_channel_and_missing_text() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    let id = c.message("C_NOPE", "hi").await;
    let r = c.recv_json().await;
    assert_eq!(r, json!({"ok": false, "reply_to": id, "error": {"code": 0, "msg": "invalid channel id"}}));
    let id = c.message(emu.general_channel().as_str(), "").await;
    let r = c.recv_json().await;
    assert_eq!(r["error"]["code"], 2);
    assert_eq!(r["error"]["msg"], "message text is missing");
    assert_eq!(r["reply_to"], id);
    let id = c.id();
    c.send(json!({"id": id, "type": "message", "channel": emu.general_channel().as_str()})).await;
    assert_eq!(c.recv_json().await["error"]["code"], 2);
    assert!(emu.posted_messages().is_empty());
}

#[tokio::test]
async fn ping_gets_pong_with_reply_to_and_flat_fields() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    c.send(json!({"id": 42, "type": "ping", "time": 1403299273342u64, "s": "x", "b": true, "n": null, "nested": {"a": 1}, "arr": [1]}))
        .await;
    let pong = c.recv_json().await;
    assert_eq!(
        pong,
        json!({"type": "pong", "reply_to": 42, "time": 1403299273342u64, "s": "x", "b": true, "n": null})
    );
}

#[tokio::test]
async fn send_rate_limit_answers_slow_down_then_disconnects() {
    let rate = SendRate::new(0.5, 3).disconnect_after(2);
    let emu = start(EmulatorConfig::default().send_rate(Some(rate))).await;
    let ch = emu.general_channel();
    let mut c = Client::connect(&emu, &emu.token()).await;
    for _ in 0..3 {
        c.message(ch.as_str(), "ok").await;
        assert_eq!(c.recv_json().await["ok"], true);
    }
    for _ in 0..2 {
        let id = c.message(ch.as_str(), "too fast").await;
        let r = c.recv_json().await;
        assert_eq!(r["ok"], false);
        assert_eq!(r["reply_to"], id);
        assert_eq!(r["error"]["code"], -1);
        assert!(r["error"]["msg"].as_str().unwrap().starts_with("slow down"));
    }
    c.message(ch.as_str(), "still going").await;
    assert_eq!(c.expect_close().await, Some(1008));
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::RateLimited));
    assert_eq!(emu.posted_messages().len(), 3);
}

#[tokio::test]
async fn frame_over_16k_disconnects() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    // Exactly 16 KB is fine.
    let ch = emu.general_channel();
    let head = json!({"id": 1, "type": "message", "channel": ch.as_str(), "text": ""}).to_string();
    let fill = 16 * 1024 - head.len();
    let text = "a".repeat(fill);
    let frame = json!({"id": 1, "type": "message", "channel": ch.as_str(), "text": text}).to_string();
    assert_eq!(frame.len(), 16 * 1024);
    c.send_text(frame).await;
    assert_eq!(c.recv_json().await["ok"], true);
    let big =
        json!({"id": 2, "type": "message", "channel": ch.as_str(), "text": "b".repeat(fill + 1)}).to_string();
    c.send_text(big).await;
    assert_eq!(c.expect_close().await, Some(1009));
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::FrameTooLarge(16 * 1024 + 1)));
}

#[tokio::test]
async fn typing_is_forwarded_to_others_at_most_once_per_interval() {
    let emu = start(quick().typing_interval(Duration::from_millis(300))).await;
    let ch = emu.general_channel();
    let mut a = Client::connect(&emu, &emu.token()).await;
    let mut b = Client::connect(&emu, &emu.second_user().token).await;
    a.send(json!({"id": 1, "type": "typing", "channel": ch.as_str()})).await;
    a.send(json!({"id": 2, "type": "typing", "channel": ch.as_str()})).await;
    assert!(a.sync().await.is_empty(), "no answer to typing");
    let got = b.sync().await;
    assert_eq!(
        got,
        vec![json!({"type": "user_typing", "channel": ch.as_str(), "user": emu.bot_user().as_str()})]
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    a.send(json!({"id": 3, "type": "typing", "channel": ch.as_str()})).await;
    assert_eq!(b.recv_json().await["type"], "user_typing");
    a.send(json!({"id": 4, "type": "typing", "channel": "C_NOPE"})).await;
    assert_eq!(a.recv_json().await["error"]["code"], 0);
}

#[tokio::test]
async fn presence_single_and_batched_forms_and_subscriptions() {
    let emu = start(quick()).await;
    let alice = emu.second_user();
    let carol = emu.add_user("carol");
    let mut single = Client::connect(&emu, &emu.token()).await;
    let mut batched = Client::connect_with(&emu, &emu.token(), "?batch_presence_aware=1").await;
    let mut unsubscribed_all = Client::connect_with(&emu, &emu.token(), "?presence_sub=false").await;

    // presence_query: answered in each connection's form.
    single.send(json!({"type": "presence_query", "ids": [alice.user.as_str(), "U_UNKNOWN"]})).await;
    assert_eq!(
        single.recv_json().await,
        json!({"type": "presence_change", "user": alice.user.as_str(), "presence": "active"})
    );
    batched.send(json!({"type": "presence_query", "ids": [alice.user.as_str(), carol.user.as_str()]})).await;
    assert_eq!(
        batched.recv_json().await,
        json!({"type": "presence_change", "users": [alice.user.as_str(), carol.user.as_str()], "presence": "active"})
    );

    // No subscription yet: a change reaches only the presence_sub=false connection.
    emu.set_presence(&alice.user, Presence::Away).unwrap();
    assert!(single.sync().await.is_empty());
    assert!(batched.sync().await.is_empty());
    assert_eq!(unsubscribed_all.recv_json().await["presence"], "away");

    // presence_sub sends the current presence of newly added users.
    single.send(json!({"type": "presence_sub", "ids": [alice.user.as_str()]})).await;
    assert_eq!(
        single.recv_json().await,
        json!({"type": "presence_change", "user": alice.user.as_str(), "presence": "away"})
    );
    batched.send(json!({"type": "presence_sub", "ids": [carol.user.as_str()]})).await;
    assert_eq!(batched.recv_json().await["users"], json!([carol.user.as_str()]));

    emu.set_presence(&alice.user, Presence::Active).unwrap();
    emu.set_presence(&carol.user, Presence::Away).unwrap();
    assert_eq!(
        single.sync().await,
        vec![json!({"type": "presence_change", "user": alice.user.as_str(), "presence": "active"})]
    );
    assert_eq!(
        batched.sync().await,
        vec![json!({"type": "presence_change", "users": [carol.user.as_str()], "presence": "away"})]
    );

    // The list replaces the previous one.
    single.send(json!({"type": "presence_sub", "ids": [carol.user.as_str()]})).await;
    assert_eq!(single.recv_json().await["user"], carol.user.as_str());
    emu.set_presence(&alice.user, Presence::Away).unwrap();
    assert!(single.sync().await.is_empty());
}

#[tokio::test]
async fn unknown_client_messages_are_ignored_but_recorded() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    c.send(json!({"id": 9, "type": "no_such_thing", "x": 1})).await;
    c.send_text("not json at all".into()).await;
    c.ws.write_frame(Frame::binary(Payload::Owned(vec![1, 2, 3]))).await.unwrap();
    assert!(c.sync().await.is_empty());
    let frames = emu.received_frames();
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[0].message_type().as_deref(), Some("no_such_thing"));
    assert_eq!(frames[1].text(), Some("not json at all"));
    assert_eq!(frames[2].kind, slack_rtm_emulator::FrameKind::Binary);
    assert!(emu.connections()[0].is_open());
}

#[tokio::test]
async fn websocket_ping_frames_at_the_configured_interval() {
    let emu = start(quick().ws_ping_interval(Some(Duration::from_millis(50)))).await;
    let url = socket_url(&emu, &emu.token(), "").await;
    let mut raw = Client::open_with(&url, None, false).await;
    assert_eq!(raw.recv_json().await["type"], "hello");
    let start = Instant::now();
    for _ in 0..2 {
        match raw.recv().await {
            Recv::Raw(OpCode::Ping, _) => {}
            other => panic!("expected a ping frame, got {other:?}"),
        }
    }
    assert!(start.elapsed() >= Duration::from_millis(90));
    // A client that answers: the emulator counts the pongs.
    let mut c = Client::connect(&emu, &emu.token()).await;
    let id = emu.open_connections()[1];
    let deadline = Instant::now() + WAIT;
    while emu.connections().iter().find(|i| i.id == id).unwrap().ws_pongs < 2 {
        assert!(Instant::now() < deadline, "no pongs counted");
        // Reading drives fastwebsockets' automatic pong.
        c.sync().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn events_injected_from_the_handle() {
    let emu = start(quick()).await;
    let mut a = Client::connect(&emu, &emu.token()).await;
    let mut b = Client::connect(&emu, &emu.second_user().token).await;
    let ev = Event::from_json(r#"{"type":"reaction_added","user":"U1","reaction":"tada","item":{"type":"message","channel":"C1","ts":"1.000001"}}"#).unwrap();
    assert_eq!(emu.send_event(Target::All, &ev), 2);
    for c in [&mut a, &mut b] {
        let v = c.recv_json().await;
        assert_eq!(v["type"], "reaction_added");
        assert_eq!(v["reaction"], "tada");
    }
    let first = emu.open_connections()[0];
    assert_eq!(first, ConnId(1));
    assert_eq!(emu.send_event_text(first, r#"{"type":"custom","n":1}"#), 1);
    assert_eq!(a.recv_json().await, json!({"type": "custom", "n": 1}));
    assert!(b.sync().await.is_empty());
    assert_eq!(emu.send_event_text(Target::User(emu.second_user().user), r#"{"type":"x"}"#), 1);
    assert_eq!(b.recv_json().await["type"], "x");
    // A message posted "elsewhere" reaches every connection.
    let ts = emu.post_message(&emu.general_channel(), &emu.second_user().user, "from elsewhere").unwrap();
    assert_eq!(a.recv_json().await["ts"], ts.as_str());
    assert_eq!(b.recv_json().await["ts"], ts.as_str());
}

#[tokio::test]
async fn a_client_that_does_not_read_is_disconnected_as_a_slow_consumer() {
    let emu = start(quick().queue_capacity(16).write_timeout(Duration::from_millis(300))).await;
    let _idle = Client::connect(&emu, &emu.token()).await;
    // Far more than the socket buffers hold, and the client never reads.
    let big = RawFrame::oversized(256 * 1024);
    for _ in 0..200 {
        emu.send_raw(Target::All, big.clone());
        tokio::task::yield_now().await;
    }
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::SlowConsumer));
}

// ---------------------------------------------------------------- socket URLs

#[tokio::test]
async fn socket_url_is_single_use() {
    let emu = start(quick()).await;
    let url = socket_url(&emu, &emu.token(), "").await;
    let mut first = Client::open(&url).await;
    assert_eq!(first.recv_json().await["type"], "hello");
    let mut second = Client::open(&url).await;
    assert_eq!(
        second.recv_json().await,
        json!({"type": "error", "error": {"code": 1, "msg": "Socket URL has expired"}})
    );
    assert!(second.expect_close().await.is_some());
    assert_eq!(emu.expired_socket_attempts(), 1);
    assert_eq!(emu.connection_count(), 1);
}

#[tokio::test]
async fn socket_url_expires() {
    let emu = start(quick().url_lifetime(Duration::from_millis(100))).await;
    let url = socket_url(&emu, &emu.token(), "").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut late = Client::open(&url).await;
    assert_eq!(late.recv_json().await["error"]["code"], 1);
    assert!(late.expect_close().await.is_some());
    assert_eq!(emu.connection_count(), 0);
    // A scripted rejection can also hand out an already expired URL.
    emu.reject_next_connects(1, Rejection::ExpiredUrl);
    let url = socket_url(&emu, &emu.token(), "").await;
    let mut c = Client::open(&url).await;
    assert_eq!(c.recv_json().await["error"]["code"], 1);
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn goodbye_then_server_closes_after_grace() {
    let emu = start(quick().goodbye_grace(Some(Duration::from_millis(100)))).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    assert_eq!(emu.goodbye(Target::All), 1);
    assert_eq!(c.recv_json().await, json!({"type": "goodbye"}));
    let t = Instant::now();
    assert_eq!(c.expect_close().await, Some(1001));
    assert!(t.elapsed() >= Duration::from_millis(60));
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::ServerClosed(1001)));
}

#[tokio::test]
async fn team_migration_then_close_and_scripted_close() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.team_migration(Target::All);
    assert_eq!(c.recv_json().await, json!({"type": "team_migration_started"}));
    assert_eq!(c.expect_close().await, Some(1001));
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.close(Target::All, 4000, "bye");
    assert_eq!(c.expect_close().await, Some(4000));
}

#[tokio::test]
async fn drop_connection_cuts_tcp_without_close_frame() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.drop_connection(Target::All);
    match c.recv().await {
        Recv::Error(e) => assert!(e.contains("EOF") || e.contains("reset"), "{e}"),
        other => panic!("expected EOF without close frame, got {other:?}"),
    }
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::Dropped));
}

#[tokio::test]
async fn stall_stops_answering_until_resumed() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    assert_eq!(emu.stall(Target::All, true), 1);
    c.send(json!({"id": 1, "type": "ping"})).await;
    emu.send_event_text(Target::All, r#"{"type":"held"}"#);
    let quiet = tokio::time::timeout(Duration::from_millis(200), c.ws.read_frame()).await;
    assert!(quiet.is_err(), "a stalled server sends nothing");
    emu.stall(Target::All, false);
    // The held event and the pong both arrive once resumed.
    let mut got = vec![c.recv_json().await, c.recv_json().await];
    got.sort_by_key(|v| v["type"].as_str().unwrap_or("").to_owned());
    assert_eq!(got, vec![json!({"type": "held"}), json!({"type": "pong", "reply_to": 1})]);
}

#[tokio::test]
async fn replies_withheld_then_released_in_order() {
    let emu = start(quick()).await;
    let ch = emu.general_channel();
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.set_reply_fault(Target::All, ReplyFault::Withhold(2));
    let a = c.message(ch.as_str(), "a").await;
    let b = c.message(ch.as_str(), "b").await;
    let third = c.message(ch.as_str(), "c").await;
    assert_eq!(c.recv_json().await["reply_to"], third);
    assert_eq!(emu.posted_messages().len(), 3, "withheld replies are still posted");
    emu.release_withheld(Target::All);
    assert_eq!(c.recv_json().await["reply_to"], a);
    assert_eq!(c.recv_json().await["reply_to"], b);
}

#[tokio::test]
async fn replies_delayed_and_reversed() {
    let emu = start(quick()).await;
    let ch = emu.general_channel();
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.set_reply_fault(Target::All, ReplyFault::Delay(Duration::from_millis(150)));
    let t = Instant::now();
    let id = c.message(ch.as_str(), "slow").await;
    assert_eq!(c.recv_json().await["reply_to"], id);
    assert!(t.elapsed() >= Duration::from_millis(140));
    emu.set_reply_fault(Target::All, ReplyFault::Reverse(3));
    let ids = [
        c.message(ch.as_str(), "1").await,
        c.message(ch.as_str(), "2").await,
        c.message(ch.as_str(), "3").await,
    ];
    for expected in ids.iter().rev() {
        assert_eq!(c.recv_json().await["reply_to"], *expected);
    }
    // Back to normal.
    let id = c.message(ch.as_str(), "4").await;
    assert_eq!(c.recv_json().await["reply_to"], id);
}

#[tokio::test]
async fn raw_fault_frames() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.send_raw(Target::All, RawFrame::malformed_json());
    match c.recv().await {
        Recv::Raw(OpCode::Text, b) => assert!(serde_json::from_slice::<Value>(&b).is_err()),
        other => panic!("{other:?}"),
    }
    emu.send_raw(Target::All, RawFrame::binary());
    assert!(matches!(c.recv().await, Recv::Raw(OpCode::Binary, _)));
    emu.send_raw(Target::All, RawFrame::oversized(100_000));
    match c.recv().await {
        Recv::Text(v) => assert_eq!(v["type"], "message"),
        other => panic!("{other:?}"),
    }
    let frame_len = match RawFrame::oversized(100_000) {
        RawFrame::Text(b) => b.len(),
        _ => unreachable!(),
    };
    assert_eq!(frame_len, 100_000);
    emu.send_raw(Target::All, RawFrame::invalid_utf8());
    match c.recv().await {
        Recv::Error(e) => assert!(e.contains("UTF-8"), "{e}"),
        other => panic!("expected a UTF-8 error, got {other:?}"),
    }
}

#[tokio::test]
async fn hello_delayed_or_never_sent() {
    let emu = start(quick().hello(HelloMode::Delay(Duration::from_millis(150)))).await;
    let url = socket_url(&emu, &emu.token(), "").await;
    let t = Instant::now();
    let mut c = Client::open(&url).await;
    emu.wait_for_connections(1, WAIT).await.unwrap();
    emu.send_event_text(Target::All, r#"{"type":"early"}"#);
    assert_eq!(c.recv_json().await["type"], "hello", "events wait for hello");
    assert!(t.elapsed() >= Duration::from_millis(140));
    assert_eq!(c.recv_json().await["type"], "early");

    emu.set_hello(HelloMode::Never);
    let url = socket_url(&emu, &emu.token(), "").await;
    let mut c = Client::open(&url).await;
    assert_eq!(c.sync().await, Vec::<Value>::new(), "no hello");
}

// ---------------------------------------------------------------- rtm.connect

#[tokio::test]
async fn rtm_connect_success_shape_and_headers() {
    let emu = start(quick().enterprise("E0EMU00001", "Acme Grid")).await;
    let r = connect_call(&emu, &emu.token(), "?batch_presence_aware=1&presence_sub=true").await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-slack-req-id").is_some_and(|v| !v.is_empty()));
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert!(v.get("warning").is_none());
    assert_eq!(v["self"]["id"], emu.bot_user().as_str());
    assert_eq!(v["self"]["name"], "emubot");
    assert_eq!(v["team"]["domain"], "emulated");
    assert_eq!(v["team"]["enterprise_id"], "E0EMU00001");
    assert_eq!(v["team"]["enterprise_name"], "Acme Grid");
    let url = v["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("ws://{}/websocket/", emu.local_addr())), "{url}");
    // The codec accepts the answer.
    let config = slack_rtm_codec::ConnectConfig::with_api_base(&emu.api_url(), true).unwrap();
    let resp = http::Response::builder().status(200).body(r.body.clone()).unwrap();
    let parsed = config.parse_response(&resp, Instant::now()).unwrap();
    assert_eq!(parsed.connected.team.enterprise_id.unwrap().as_str(), "E0EMU00001");

    let calls = emu.rtm_connect_calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].ok() && calls[0].bearer && !calls[0].token_in_url);
    assert_eq!(
        calls[0].args,
        vec![("batch_presence_aware".into(), "1".into()), ("presence_sub".into(), "true".into())]
    );
    // Every answer has a request id, even a 404.
    assert!(get(&emu, "/nowhere", &[]).await.header("x-slack-req-id").is_some());
    let unknown = get(&emu, "/api/chat.nothing", &[]).await;
    assert_eq!(unknown.error(), "unknown_method");
    assert!(unknown.header("x-slack-req-id").is_some());
}

#[tokio::test]
async fn rtm_connect_auth_errors() {
    let emu = start(quick()).await;
    let r = get(&emu, "/api/rtm.connect", &[]).await;
    assert_eq!((r.status, r.error()), (200, "not_authed".to_owned()));
    assert!(r.header("x-slack-req-id").is_some());
    assert_eq!(connect_call(&emu, "xoxb-unknown", "").await.error(), "invalid_auth");
    let carol = emu.add_user("carol");
    assert!(carol.token.starts_with("xoxp-"));
    assert!(!format!("{carol:?}").contains(&carol.token));
    emu.set_token_active(&carol.token, false);
    assert_eq!(connect_call(&emu, &carol.token, "").await.error(), "account_inactive");
    let granular = emu.add_token(&emu.bot_user(), TokenFlavor::Granular).unwrap();
    assert_eq!(connect_call(&emu, &granular, "").await.error(), "not_allowed_token_type");
    // auth.test works for a granular token.
    let at = get(&emu, "/api/auth.test", &[("Authorization", &format!("Bearer {granular}"))]).await;
    assert_eq!(at.json()["ok"], true);
    let calls = emu.rtm_connect_calls();
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|c| !c.ok()));
    assert_eq!(calls[3].error.as_deref(), Some("not_allowed_token_type"));
}

#[tokio::test]
async fn rtm_connect_token_in_form_body_or_query() {
    let emu = start(quick()).await;
    let body = format!("token={}&presence_sub=false", emu.token());
    let r = post(&emu, "/api/rtm.connect", Some("application/x-www-form-urlencoded"), body.as_bytes(), None)
        .await;
    assert_eq!(r.json()["ok"], true);
    assert_eq!(emu.tokens_seen_in_urls(), 0);
    let r = get(&emu, &format!("/api/rtm.connect?token={}", emu.token()), &[]).await;
    assert_eq!(r.json()["ok"], true);
    assert_eq!(emu.tokens_seen_in_urls(), 1);
    let calls = emu.rtm_connect_calls();
    assert!(calls[1].token_in_url);
    // The token never lands in the records.
    let dump = format!("{calls:?}");
    assert!(!dump.contains(&emu.token()), "{dump}");
    assert!(calls[0].args.contains(&("token".into(), "<redacted>".into())));
    // multipart/form-data works too.
    let mp = format!(
        "--B0und\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{}\r\n--B0und--\r\n",
        emu.token()
    );
    let r = post(&emu, "/api/rtm.connect", Some("multipart/form-data; boundary=B0und"), mp.as_bytes(), None)
        .await;
    assert_eq!(r.json()["ok"], true, "{:?}", r.json());
}

#[tokio::test]
async fn rtm_connect_request_validation_errors() {
    let emu = start(quick()).await;
    let t = emu.token();
    let form = Some("application/x-www-form-urlencoded");
    let cases: Vec<(&str, HttpResp)> = vec![
        ("invalid_arg_name", connect_call(&emu, &t, "?bad-name=1").await),
        ("invalid_arg_name", connect_call(&emu, &t, &format!("?{}=1", "a".repeat(101))).await),
        ("invalid_array_arg", connect_call(&emu, &t, "?foo[7]=1").await),
        ("invalid_array_arg", post(&emu, "/api/rtm.connect", form, b"ids%5B%5D=1", Some(&t)).await),
        (
            "invalid_charset",
            post(&emu, "/api/rtm.connect", Some("text/plain; charset=koi8-r"), b"a=1", Some(&t)).await,
        ),
        ("invalid_form_data", post(&emu, "/api/rtm.connect", form, b"a=%zz", Some(&t)).await),
        (
            "invalid_form_data",
            post(&emu, "/api/rtm.connect", Some("multipart/form-data; boundary=x"), b"junk", Some(&t)).await,
        ),
        (
            "invalid_post_type",
            post(&emu, "/api/rtm.connect", Some("application/json"), b"{}", Some(&t)).await,
        ),
        ("missing_post_type", post(&emu, "/api/rtm.connect", None, b"a=1", Some(&t)).await),
    ];
    for (expected, r) in cases {
        assert_eq!(r.status, 200);
        assert_eq!(r.error(), expected, "{:?}", r.json());
        assert!(r.header("x-slack-req-id").is_some());
    }
    // 100 characters is still a valid name.
    assert_eq!(connect_call(&emu, &t, &format!("?{}=1", "a".repeat(100))).await.json()["ok"], true);
    // A POST without body and without Content-Type is fine (token in the header).
    assert_eq!(post(&emu, "/api/rtm.connect", None, b"", Some(&t)).await.json()["ok"], true);
}

#[tokio::test]
async fn rtm_connect_truncated_body_is_request_timeout() {
    let emu = start(quick().body_timeout(Duration::from_millis(300))).await;
    let auth = format!("Bearer {}", emu.token());
    // Content-Length promises more than is sent, then the client half-closes.
    let raw = format!(
        "POST /api/rtm.connect HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\npresence_sub=1"
    );
    let tcp = TcpStream::connect(emu.local_addr()).await.unwrap();
    let r = exchange(tcp, raw.as_bytes(), true).await;
    assert_eq!(r.error(), "request_timeout");
    // ... or stalls: answered after the body timeout.
    let tcp = TcpStream::connect(emu.local_addr()).await.unwrap();
    let t = Instant::now();
    let r = exchange(tcp, raw.as_bytes(), false).await;
    assert_eq!(r.error(), "request_timeout");
    assert!(t.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn rtm_connect_charset_warnings_in_both_places() {
    let emu = start(quick()).await;
    let t = emu.token();
    let r = post(
        &emu,
        "/api/rtm.connect",
        Some("application/x-www-form-urlencoded; charset=utf-8"),
        b"presence_sub=1",
        Some(&t),
    )
    .await;
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["warning"], "superfluous_charset");
    assert_eq!(v["response_metadata"]["warnings"], json!(["superfluous_charset"]));
    assert!(v["response_metadata"]["messages"][0].as_str().unwrap().starts_with("[WARN]"));

    let r = post(&emu, "/api/rtm.connect", Some("text/plain"), b"presence_sub=1", Some(&t)).await;
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["warning"], "missing_charset");
    assert_eq!(v["response_metadata"]["warnings"], json!(["missing_charset"]));

    let r =
        post(&emu, "/api/rtm.connect", Some("text/plain; charset=iso-8859-1"), b"presence_sub=1", Some(&t))
            .await;
    assert!(r.json().get("warning").is_none());
    let r = post(
        &emu,
        "/api/rtm.connect",
        Some("multipart/form-data; boundary=Q; charset=utf-8"),
        b"--Q--\r\n",
        Some(&t),
    )
    .await;
    assert_eq!(r.json()["warning"], "superfluous_charset");
    // Warnings ride on errors too.
    let r = post(&emu, "/api/rtm.connect", Some("text/plain"), b"token=xoxb-nope", None).await;
    assert_eq!(
        (r.error(), r.json()["warning"].clone()),
        ("invalid_auth".to_owned(), json!("missing_charset"))
    );
    let warnings: Vec<Vec<String>> = emu.rtm_connect_calls().into_iter().map(|c| c.warnings).collect();
    assert_eq!(warnings[0], vec!["superfluous_charset".to_owned()]);
}

#[tokio::test]
async fn rtm_connect_rate_limit_answers_429_with_retry_after() {
    let emu = start(quick().connect_rate_limit(Some(RateLimit::new(2, Duration::from_secs(60))))).await;
    let t = emu.token();
    assert_eq!(connect_call(&emu, &t, "").await.status, 200);
    assert_eq!(connect_call(&emu, &t, "").await.status, 200);
    let r = connect_call(&emu, &t, "").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error(), "ratelimited");
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((59..=60).contains(&secs), "{secs}");
    assert!(r.header("x-slack-req-id").is_some());
}

#[tokio::test]
async fn rtm_connect_scripted_rejections() {
    let emu = start(quick()).await;
    let t = emu.token();
    emu.reject_next_connects(1, Rejection::Api(ApiError::MigrationInProgress));
    emu.reject_next_connects(1, Rejection::Status(503));
    emu.reject_next_connects(1, Rejection::Html(502));
    emu.reject_next_connects(1, Rejection::RateLimited { retry_after: Duration::from_secs(7) });
    emu.reject_next_connects(1, Rejection::Truncated);

    assert_eq!(connect_call(&emu, &t, "").await.error(), "migration_in_progress");
    let r = connect_call(&emu, &t, "").await;
    assert_eq!((r.status, r.error()), (503, "fatal_error".to_owned()));
    let r = connect_call(&emu, &t, "").await;
    assert_eq!(r.status, 502);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("<html>"));
    let r = connect_call(&emu, &t, "").await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("7")));
    let r = connect_call(&emu, &t, "").await;
    let claimed: usize = r.header("content-length").unwrap().parse().unwrap();
    assert!(r.body.len() < claimed, "body of {} bytes for a Content-Length of {claimed}", r.body.len());
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    // Then back to normal.
    assert_eq!(connect_call(&emu, &t, "").await.json()["ok"], true);
    let calls = emu.rtm_connect_calls();
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), vec![200, 503, 502, 429, 200, 200]);
    emu.reject_next_connects(3, Rejection::Status(500));
    emu.clear_rejections();
    assert_eq!(connect_call(&emu, &t, "").await.status, 200);
}

#[tokio::test]
async fn auth_test_answers_like_slack() {
    let emu = start(quick()).await;
    let r = post(&emu, "/api/auth.test", Some("application/x-www-form-urlencoded"), b"", Some(&emu.token()))
        .await;
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["url"], "https://emulated.slack.com/");
    assert_eq!(v["team"], "Emulated Workspace");
    assert_eq!(v["user"], "emubot");
    assert_eq!(v["team_id"], emu.team().id.as_str());
    assert_eq!(v["user_id"], emu.bot_user().as_str());
    assert!(v["bot_id"].as_str().unwrap().starts_with('B'));
    assert!(r.header("x-slack-req-id").is_some());
    let alice = emu.second_user();
    let v =
        get(&emu, "/api/auth.test", &[("Authorization", &format!("Bearer {}", alice.token))]).await.json();
    assert_eq!(v["user_id"], alice.user.as_str());
    assert!(v.get("bot_id").is_none());
    assert_eq!(get(&emu, "/api/auth.test", &[]).await.error(), "not_authed");
    assert_eq!(
        post(&emu, "/api/auth.test", Some("application/json"), b"{}", Some("xoxb-x")).await.error(),
        "invalid_auth"
    );
    assert_eq!(emu.auth_test_calls(), 4);
}

// ---------------------------------------------------------------- blast, TLS, shutdown

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
