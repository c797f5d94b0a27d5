//! slack-rtm through its facade, as an application uses it: events from `Events` read lazily
//! (`Events::next_lazy`: each event's type, and a message's channel, user and text, borrowed),
//! or every event decoded to a typed `Event` (`Events::next`) when `BENCH_TYPED_EVENTS` is set;
//! messages acknowledged through `Client::send_message`.
//!
//! Runs on tokio's multi-thread runtime with 2 workers, or on the current-thread runtime when
//! `BENCH_CURRENT_THREAD` is set (the bench reports both).

use slack_rtm::Client;
use slack_rtm::rtm::Event;
use slack_rtm::rtm::LazySessionEvent;
use slack_rtm::rtm::SendRate;
use slack_rtm::rtm::SessionEvent;
use slack_rtm_bench::{BenchArgs, Mode, Report, cpu_time};
use std::time::{Duration, Instant};

fn main() {
    let args = BenchArgs::from_env();
    if args.mode == Mode::Envelopes {
        eprintln!("bench-client: RTM only (events|rtt); Socket Mode is sm-client");
        std::process::exit(2);
    }
    let rt = if std::env::var_os("BENCH_CURRENT_THREAD").is_some() {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
    }
    .expect("runtime");
    rt.block_on(run(args));
}

async fn run(args: BenchArgs) {
    let started = Instant::now();
    let builder = Client::builder(args.token.as_str())
        .api_url(&args.api_url)
        .allow_insecure(true)
        // The benchmark measures the client, not Slack's 1 message/s limit.
        .send_rate(SendRate::new(Duration::from_micros(1), 1_000_000))
        .capacity(std::env::var("BENCH_EVENT_CAPACITY").ok().and_then(|v| v.parse().ok()).unwrap_or(1024));
    let builder = match slack_rtm_bench::capacity_bytes() {
        Some(bytes) => builder.capacity_bytes(bytes),
        None => builder,
    };
    let (client, mut events) = builder.connect().await.expect("connect");
    let connect_to_hello = started.elapsed();
    let t0 = Instant::now();
    let cpu0 = cpu_time();
    let mut done = 0u64;
    let typed = std::env::var_os("BENCH_TYPED_EVENTS").is_some();
    match args.mode {
        // Typed: every event decoded to `Event` (`Events::next`), as before the lazy stream.
        Mode::Events if typed => {
            while done < args.n {
                match events.next().await {
                    Some(SessionEvent::Rtm(Event::Message(m))) => {
                        std::hint::black_box(&m);
                        done += 1;
                    }
                    Some(_) => {}
                    None => break,
                }
            }
        }
        // Lazy, as an application routing on the type and reading a message's channel, user
        // and text would (`Events::next_lazy`).
        Mode::Events => {
            while done < args.n {
                match events.next_lazy().await {
                    Some(LazySessionEvent::Rtm(e)) if e.is_message() => {
                        if let Ok(Some(m)) = e.message() {
                            std::hint::black_box((m.channel(), m.user(), m.text()));
                            done += 1;
                        }
                    }
                    Some(LazySessionEvent::Rtm(e)) => {
                        std::hint::black_box(e.kind());
                    }
                    Some(_) => {}
                    None => break,
                }
            }
        }
        Mode::Envelopes => unreachable!("refused in main"),
        Mode::RoundTrips => {
            tokio::spawn(async move { while events.next().await.is_some() {} });
            let (sender, channel, n) = (client.clone(), args.channel.clone(), args.n);
            let round_trips = async move {
                for _ in 0..n {
                    sender.send_message(channel.as_str(), "round trip").await.expect("ack");
                }
                n
            };
            done = slack_rtm_bench::run_round_trips(round_trips).await;
        }
    }
    let elapsed = t0.elapsed();
    let cpu = cpu_time().saturating_sub(cpu0);
    Report { client: "slack-rtm", mode: args.mode, n: done, connect_to_hello, elapsed, cpu }.print();
    // Leave without the graceful shutdown's grace period skewing nothing measured above.
    client.shutdown_with(Duration::ZERO).await;
}
