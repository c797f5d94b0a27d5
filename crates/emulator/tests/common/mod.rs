//! Shared helpers of the emulator's integration tests: a raw HTTP/1.1 client (so malformed
//! requests can be sent) and a raw fastwebsockets client, both over real loopback sockets.
#![allow(dead_code, unused_imports)]

pub use bytes::Bytes;
pub use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload};
pub use http_body_util::Empty;
pub use hyper::upgrade::Upgraded;
pub use hyper_util::rt::TokioIo;
pub use serde_json::{Value, json};
pub use slack_rtm_emulator::{
    CloseReason, ConnectionId, Dispatch, Emulator, EmulatorConfig, HelloMode, Presence, RateLimit, RawFrame,
    Rejection, ReplyFault, SendRateLimit, SocketId, SocketModeServerConfig, SocketTarget, Target,
    TokenFlavor,
};
pub use slack_rtm_types::{ApiError, Event};
pub use std::future::Future;
pub use std::pin::Pin;
pub use std::sync::Arc;
pub use std::time::{Duration, Instant};
pub use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
pub use tokio::net::TcpStream;

pub const WAIT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- raw HTTP/1.1 client

/// An answer read off the raw socket (the shared parser of the workspace's tests).
pub type HttpResp = slack_rtm_test_support::http::HttpAnswer;

pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    raw: &[u8],
    shutdown_write: bool,
) -> HttpResp {
    s.write_all(raw).await.unwrap();
    s.flush().await.unwrap();
    if shutdown_write {
        s.shutdown().await.unwrap();
    }
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut buf)).await.expect("HTTP answer in time");
    HttpResp::parse(&buf)
}

pub async fn http_raw(emu: &Emulator, raw: &[u8]) -> HttpResp {
    exchange(TcpStream::connect(emu.local_addr()).await.unwrap(), raw, false).await
}

pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
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

pub async fn get(emu: &Emulator, path: &str, headers: &[(&str, &str)]) -> HttpResp {
    http_raw(emu, &request("GET", path, headers, b"")).await
}

pub async fn post(
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

pub async fn connect_call(emu: &Emulator, token: &str, query: &str) -> HttpResp {
    let auth = format!("Bearer {token}");
    get(emu, &format!("/api/rtm.connect{query}"), &[("Authorization", &auth)]).await
}

pub async fn socket_url(emu: &Emulator, token: &str, query: &str) -> String {
    let r = connect_call(emu, token, query).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    v["url"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------- raw WebSocket client

#[derive(Debug)]
pub enum Recv {
    Text(Value),
    Raw(OpCode, Vec<u8>),
    Close(Option<u16>),
    Error(String),
}

pub struct Client {
    pub ws: FragmentCollector<TokioIo<Upgraded>>,
    pub next_id: u64,
}

type BoxedIo = Pin<Box<dyn AsyncReadWrite>>;
trait AsyncReadWrite: AsyncRead + AsyncWrite + Send {}
impl<T: AsyncRead + AsyncWrite + Send> AsyncReadWrite for T {}

impl Client {
    pub async fn open_with(url: &str, tls: Option<rustls::ClientConfig>, auto_pong: bool) -> Client {
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
        let (mut ws, resp) = slack_rtm_test_support::ws::handshake(io, &uri).await.unwrap();
        assert!(resp.headers().contains_key("x-slack-req-id"));
        ws.set_auto_pong(auto_pong);
        Client { ws: FragmentCollector::new(ws), next_id: 0 }
    }

    pub async fn open(url: &str) -> Client {
        Client::open_with(url, None, true).await
    }

    /// rtm.connect + open + hello.
    pub async fn connect(emu: &Emulator, token: &str) -> Client {
        Client::connect_with(emu, token, "").await
    }

    pub async fn connect_with(emu: &Emulator, token: &str, query: &str) -> Client {
        let url = socket_url(emu, token, query).await;
        let mut c = Client::open_with(&url, emu.tls_client_config(), true).await;
        assert_eq!(c.recv_json().await["type"], "hello");
        c
    }

    /// The next frame (a failure guard: panics after 5 s).
    pub async fn recv(&mut self) -> Recv {
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

    pub async fn recv_json(&mut self) -> Value {
        match self.recv().await {
            Recv::Text(v) => v,
            other => panic!("expected a JSON text frame, got {other:?}"),
        }
    }

    pub async fn send(&mut self, v: Value) {
        self.send_text(v.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws.write_frame(Frame::text(Payload::Owned(text.into_bytes()))).await.unwrap();
    }

    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub async fn message(&mut self, channel: &str, text: &str) -> u64 {
        let id = self.id();
        self.send(json!({"id": id, "type": "message", "channel": channel, "text": text})).await;
        id
    }

    /// Sends a ping and returns every frame received before its pong: proves that nothing else
    /// was sent (the server handles a connection's frames in order).
    pub async fn sync(&mut self) -> Vec<Value> {
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

    pub async fn expect_close(&mut self) -> Option<u16> {
        loop {
            match self.recv().await {
                Recv::Close(code) => return code,
                Recv::Text(_) | Recv::Raw(..) => continue,
                Recv::Error(e) => panic!("expected a close frame, got error {e}"),
            }
        }
    }
}

pub async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.unwrap()
}

pub fn quick() -> EmulatorConfig {
    EmulatorConfig::default().send_rate(None)
}

// ---------------------------------------------------------------- Socket Mode

/// An emulator without send-rate limit nor server pings, with this Socket Mode config.
pub async fn start_sm(sm: SocketModeServerConfig) -> Emulator {
    start(quick().socket_mode(sm)).await
}

/// Socket Mode defaults for tests: no server pings (they would interleave with frames).
pub fn sm() -> SocketModeServerConfig {
    SocketModeServerConfig::default().ping_interval(None)
}

/// `POST apps.connections.open` with this token as bearer.
pub async fn open_call(emu: &Emulator, token: &str) -> HttpResp {
    post(emu, "/api/apps.connections.open", None, b"", Some(token)).await
}

/// A fresh Socket Mode URL.
pub async fn sm_url(emu: &Emulator) -> String {
    let r = open_call(emu, &emu.app_token()).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    v["url"].as_str().unwrap().to_owned()
}

impl Client {
    /// apps.connections.open + open + hello; returns the hello too.
    pub async fn socket_mode(emu: &Emulator) -> (Client, Value) {
        let url = sm_url(emu).await;
        let mut c = Client::open_with(&url, emu.tls_client_config(), true).await;
        let hello = c.recv_json().await;
        assert_eq!(hello["type"], "hello", "{hello}");
        (c, hello)
    }

    /// The next envelope (skips nothing: panics on anything else).
    pub async fn envelope(&mut self) -> Value {
        let v = self.recv_json().await;
        assert!(v["envelope_id"].is_string(), "not an envelope: {v}");
        v
    }

    /// Acks an envelope, with an optional response payload.
    pub async fn ack(&mut self, envelope: &Value, payload: Option<Value>) {
        let mut ack = json!({"envelope_id": envelope["envelope_id"]});
        if let Some(p) = payload {
            ack["payload"] = p;
        }
        self.send(ack).await;
    }

    /// Nothing arrives for `d`.
    pub async fn quiet_for(&mut self, d: Duration) -> bool {
        tokio::time::timeout(d, self.ws.read_frame()).await.is_err()
    }
}
