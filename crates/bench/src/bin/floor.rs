//! The floors slack-rtm is measured against: a naive RTM client built from raw fastwebsockets,
//! one task, no session logic.
//!
//! - `floor value` (Floor A): parses every frame into a `serde_json::Value`, the practical
//!   limit of a naive Rust client.
//! - `floor raw` (Floor B): reads frames without parsing them, the I/O limit.
//!
//! `rtm.connect` goes through the same codec and hyper transport as slack-rtm, so connect
//! latency is compared like for like.

use fastwebsockets::{Frame, OpCode, Payload};
use slack_rtm_bench::{BenchArgs, Mode, Report, cpu_time, open_naive_socket};
use slack_rtm_codec::{ConnectConfig, Token, connect_once};
use std::time::Instant;

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
    if args.mode == Mode::Envelopes {
        eprintln!("floor: RTM only (events|rtt); the Socket Mode floor is sm-floor");
        std::process::exit(2);
    }
    // The floors run on tokio's current-thread runtime; `BENCH_MULTI_THREAD` runs them on the
    // multi-thread one with 2 workers instead (a measurement of what that runtime itself costs,
    // not a row of the bench).
    let rt = if std::env::var_os("BENCH_MULTI_THREAD").is_some() {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    }
    .expect("runtime");
    rt.block_on(run(args, parse));
}

async fn run(args: BenchArgs, parse: bool) {
    let started = Instant::now();
    let transport = slack_rtm_hyper::HyperTransport::builder().allow_http(true).build().expect("transport");
    let config = ConnectConfig::with_api_base(&args.api_url, true).expect("api url");
    let answer =
        connect_once(&transport, &Token::new(args.token.as_str()), &config).await.expect("rtm.connect");
    let mut ws = open_naive_socket(&answer.connected.url).await;

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
        Mode::Envelopes => unreachable!("refused in main"),
        Mode::RoundTrips => {
            let (channel, n) = (args.channel.clone(), args.n);
            let round_trips = async move {
                for id in 1..=n {
                    let msg = serde_json::json!({"id": id, "type": "message", "channel": channel, "text": "round trip"});
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
                }
                n
            };
            done = slack_rtm_bench::run_round_trips(round_trips).await;
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
