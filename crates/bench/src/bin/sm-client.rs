//! slack-rtm's Socket Mode client through its facade, as an application uses it: envelopes
//! from `SocketModeItems`, acked by the session the moment they are handed over (auto ack
//! mode), on tokio's current-thread runtime (as the naive floor; the multi-thread one with
//! `BENCH_MULTI_THREAD`), one socket (as every other client in the table).
//! `BENCH_RAW_ACK=manual`: manual ack mode, each `events_api` envelope acked by the loop with
//! `Delivery::ack_detached` when it takes it, as an `App` does — the point and the guarantee of
//! an `App`'s event ack (in auto mode the session acks an envelope as it reads it from the
//! socket, before the application has taken it).
//!
//! `sm-client --api-url URL --token XAPP --mode envelopes --n N`

use slack_rtm::SocketModeClient;
use slack_rtm::socket_mode::AckMode;
use slack_rtm::socket_mode::SocketModeItem;
use slack_rtm_bench::{BenchArgs, Mode, Report, cpu_time};
use std::time::{Duration, Instant};

fn main() {
    let args = BenchArgs::from_env();
    if args.mode != Mode::Envelopes {
        eprintln!("sm-client: only --mode envelopes");
        std::process::exit(2);
    }
    let rt = slack_rtm_bench::sm_runtime();
    rt.block_on(run(args));
}

async fn run(args: BenchArgs) {
    let manual = std::env::var("BENCH_RAW_ACK").is_ok_and(|v| v == "manual");
    let started = Instant::now();
    let builder = SocketModeClient::builder(args.token.as_str())
        .api_url(&args.api_url)
        .allow_insecure(true)
        .connections(1)
        .ack_mode(if manual { AckMode::Manual } else { AckMode::Auto });
    let builder = match slack_rtm_bench::capacity_bytes() {
        Some(bytes) => builder.capacity_bytes(bytes),
        None => builder,
    };
    let (client, mut items) = builder.connect().await.expect("connect");
    let connect_to_hello = started.elapsed();
    let t0 = Instant::now();
    let cpu0 = cpu_time();
    let mut done = 0u64;
    while done < args.n {
        match items.next().await {
            Some(SocketModeItem::Envelope(d)) => {
                if d.envelope_type() == "events_api" {
                    std::hint::black_box(d.event_id());
                    if manual {
                        // Acked as an `App` acks an event: once taken, queued for the session.
                        d.ack_detached().expect("ack");
                    }
                    done += 1;
                }
            }
            Some(SocketModeItem::Stopped { reason }) => panic!("stopped after {done} envelopes: {reason}"),
            Some(_) => {}
            None => break,
        }
    }
    let elapsed = t0.elapsed();
    let cpu = cpu_time().saturating_sub(cpu0);
    // The graceful shutdown lets the last acks go out before the sockets close.
    client.shutdown_with(Duration::from_secs(1)).await;
    Report { client: "slack-rtm", mode: Mode::Envelopes, n: done, connect_to_hello, elapsed, cpu }.print();
}
