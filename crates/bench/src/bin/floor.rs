//! The floors slack-rtm is measured against: a naive RTM client built from raw fastwebsockets,
//! one task, no session logic.
//!
//! - `floor value` (Floor A): parses every frame into a `serde_json::Value`, the practical
//!   limit of a naive Rust client.
//! - `floor raw` (Floor B): reads frames without parsing them, the I/O limit.
//!
//! `rtm.connect` goes through the same codec and hyper transport as slack-rtm, so connect
//! latency is compared like for like.

use bytes::Bytes;
use fastwebsockets::{Frame, OpCode, Payload};
use http_body_util::Empty;
use slack_rtm_bench::{BenchArgs, Mode, Report, cpu_time};
use slack_rtm_codec::{ConnectConfig, Token, connect_once};
use std::time::Instant;

struct SpawnExecutor;

impl<Fut> hyper::rt::Executor<Fut> for SpawnExecutor
where
    Fut: std::future::Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn execute(&self, fut: Fut) {
        tokio::spawn(fut);
    }
}

fn main() {
    let parse = match std::env::args().nth(1).as_deref() {
        Some("value") => true,
        Some("raw") => false,
        _ => {
            eprintln!("usage: floor value|raw --api-url URL --token T [--mode events|rtt] [--n N]");
            std::process::exit(2);
        }
    };
    // Drop the mode word so BenchArgs sees only flags.
    let args: Vec<String> = std::env::args().collect();
    let args = BenchArgs::from_args(args[2..].to_vec());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(run(args, parse));
}

async fn run(args: BenchArgs, parse: bool) {
    let started = Instant::now();
    let transport = slack_rtm_hyper::HyperTransport::builder().allow_http(true).build().expect("transport");
    let config = ConnectConfig::with_api_base(&args.api_url, true).expect("api url");
    let answer =
        connect_once(&transport, &Token::new(args.token.as_str()), &config).await.expect("rtm.connect");
    let uri: hyper::Uri = answer.connected.url.parse().expect("socket url");
    let host = uri.host().expect("host").to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await.expect("tcp");
    stream.set_nodelay(true).expect("nodelay");
    let req = hyper::Request::builder()
        .method("GET")
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header("Host", format!("{host}:{port}"))
        .header("Upgrade", "websocket")
        .header("Connection", "upgrade")
        .header("Sec-WebSocket-Key", fastwebsockets::handshake::generate_key())
        .header("Sec-WebSocket-Version", "13")
        .body(Empty::<Bytes>::new())
        .expect("request");
    let (mut ws, _) =
        fastwebsockets::handshake::client(&SpawnExecutor, req, stream).await.expect("handshake");
    ws.set_auto_pong(true);
    let mut ws = fastwebsockets::FragmentCollector::new(ws);

    // hello
    loop {
        let frame = ws.read_frame().await.expect("read");
        if frame.opcode == OpCode::Text {
            let v: serde_json::Value = serde_json::from_slice(&frame.payload).expect("json");
            if v["type"] == "hello" {
                break;
            }
        }
    }
    let connect_to_hello = started.elapsed();
    let t0 = Instant::now();
    let cpu0 = cpu_time();
    let mut done = 0u64;
    match args.mode {
        Mode::Events => {
            while done < args.n {
                let frame = ws.read_frame().await.expect("read");
                if frame.opcode != OpCode::Text {
                    continue;
                }
                if parse {
                    let v: serde_json::Value = serde_json::from_slice(&frame.payload).expect("json");
                    if v["type"] == "message" {
                        done += 1;
                    }
                } else {
                    done += 1;
                }
            }
        }
        Mode::RoundTrips => {
            for id in 1..=args.n {
                let msg = serde_json::json!({"id": id, "type": "message", "channel": args.channel, "text": "round trip"});
                let bytes = serde_json::to_vec(&msg).expect("encode");
                ws.write_frame(Frame::text(Payload::Owned(bytes))).await.expect("write");
                loop {
                    let frame = ws.read_frame().await.expect("read");
                    if frame.opcode != OpCode::Text {
                        continue;
                    }
                    if parse {
                        let v: serde_json::Value = serde_json::from_slice(&frame.payload).expect("json");
                        if v["reply_to"] == id {
                            break;
                        }
                    } else if memfind(&frame.payload, br#""reply_to""#) {
                        break;
                    }
                }
                done += 1;
            }
        }
    }
    let report = Report {
        client: if parse { "floor-a-value" } else { "floor-b-raw" },
        mode: args.mode,
        n: done,
        connect_to_hello,
        elapsed: t0.elapsed(),
        cpu: cpu_time().saturating_sub(cpu0),
    };
    report.print();
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
