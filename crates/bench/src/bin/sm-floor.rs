//! The Socket Mode floor: a naive client built from raw fastwebsockets, one task, one socket,
//! no session logic. `apps.connections.open` goes through the same codec and hyper transport
//! as slack-rtm; every frame is parsed into a `serde_json::Value`, and every envelope is acked
//! at once with `{"envelope_id":…}` (the practical limit of a naive Rust Socket Mode client).
//!
//! `sm-floor --api-url URL --token XAPP --mode envelopes --n N`

use fastwebsockets::{Frame, OpCode, Payload};
use slack_rtm_bench::{BenchArgs, Mode, Report, cpu_time, open_naive_socket};
use slack_rtm_codec::{AppToken, OpenConfig};
use std::time::Instant;

fn main() {
    let args = BenchArgs::from_env();
    if args.mode != Mode::Envelopes {
        eprintln!("sm-floor: only --mode envelopes");
        std::process::exit(2);
    }
    let rt = slack_rtm_bench::sm_runtime();
    rt.block_on(run(args));
}

async fn run(args: BenchArgs) {
    let started = Instant::now();
    let transport = slack_rtm_hyper::HyperTransport::builder().allow_http(true).build().expect("transport");
    let config = OpenConfig::with_api_base(&args.api_url, true).expect("api url");
    let request =
        config.build_request(&AppToken::new(args.token.as_str()).expect("app token")).expect("request");
    let response = transport.send(request).await.expect("apps.connections.open");
    let opened = config.parse_response(&response, Instant::now()).expect("apps.connections.open answer");
    let mut ws = open_naive_socket(&opened.url).await;
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
    while done < args.n {
        let frame = ws.read_frame().await.expect("read");
        if frame.opcode != OpCode::Text {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&frame.payload).expect("json");
        if let Some(id) = v["envelope_id"].as_str() {
            let ack = serde_json::to_vec(&serde_json::json!({ "envelope_id": id })).expect("encode");
            ws.write_frame(Frame::text(Payload::Owned(ack))).await.expect("write");
            if v["type"] == "events_api" {
                std::hint::black_box(&v["payload"]["event"]);
                done += 1;
            }
        }
    }
    let elapsed = t0.elapsed();
    let cpu = cpu_time().saturating_sub(cpu0);
    let _ = ws.write_frame(Frame::close(1000, b"")).await;
    Report { client: "naive-socket-mode", mode: Mode::Envelopes, n: done, connect_to_hello, elapsed, cpu }
        .print();
}
