//! slack-rtm's Socket Mode client through the app layer (`slack_rtm::App`), beside `sm-client`
//! (the raw `SocketModeItems` loop) on the same blast: each `events_api` envelope is acked by
//! the app before its listener runs, then handed to a listener through the global middleware
//! (the bot's own messages are not filtered: the blast's events carry no bot). Current-thread
//! runtime (multi-thread with `BENCH_MULTI_THREAD`) and one socket, as `sm-client`.
//! Without `BENCH_APP_INLINE` the app keeps its default ([`App::start_inline`]: on for Socket
//! Mode); `BENCH_APP_INLINE=1` turns it on, `BENCH_APP_INLINE=0` off.
//!
//! `sm-app --api-url URL --token XAPP --mode envelopes --n N`

use slack_rtm::SocketModeClient;
use slack_rtm::app::{App, Context, Next};
use slack_rtm_bench::{BenchArgs, Mode, Report, cpu_time};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let args = BenchArgs::from_env();
    if args.mode != Mode::Envelopes {
        eprintln!("sm-app: only --mode envelopes");
        std::process::exit(2);
    }
    let rt = slack_rtm_bench::sm_runtime();
    rt.block_on(run(args));
}

async fn run(args: BenchArgs) {
    let handled = Arc::new(AtomicU64::new(0));
    let all_in = Arc::new(tokio::sync::Notify::new());
    let mut app = App::new();
    app.ignore_self(false);
    // `BENCH_APP_INLINE=1` / `=0`: requests started on the receiver's task or not
    // (`App::start_inline`); unset: the app's default for the runtime.
    match std::env::var("BENCH_APP_INLINE").as_deref() {
        Ok("1") => {
            app.start_inline(true);
        }
        Ok("0") => {
            app.start_inline(false);
        }
        _ => {}
    }
    let (count, n, done) = (handled.clone(), args.n, all_in.clone());
    app.middleware(move |ctx: Context, next: Next| {
        let (count, done) = (count.clone(), done.clone());
        async move {
            std::hint::black_box(ctx.payload());
            if count.fetch_add(1, Ordering::Relaxed) + 1 == n {
                done.notify_one();
            }
            next.run(ctx).await
        }
    });
    app.fallback(|_ctx| async { Ok(()) });
    let started = Instant::now();
    let builder = SocketModeClient::builder(args.token.as_str())
        .api_url(&args.api_url)
        .allow_insecure(true)
        .web_token("xoxb-sm-app-bench")
        .connections(1);
    let builder = match slack_rtm_bench::capacity_bytes() {
        Some(bytes) => builder.capacity_bytes(bytes),
        None => builder,
    };
    let running = app.start_socket_mode(builder).await.expect("connect");
    let connect_to_hello = started.elapsed();
    let t0 = Instant::now();
    let cpu0 = cpu_time();
    let waited = all_in.clone();
    // The clock stops when the last envelope reached its listener; the graceful stop then lets
    // the last acks go out before the socket closes.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<(Duration, Duration)>();
    let stop = async move {
        waited.notified().await;
        let _ = stop_tx.send((t0.elapsed(), cpu_time().saturating_sub(cpu0)));
    };
    running.run_until(stop, Duration::from_secs(1)).await;
    let (elapsed, cpu) = stop_rx.await.unwrap_or((t0.elapsed(), cpu_time().saturating_sub(cpu0)));
    let done = handled.load(Ordering::Relaxed);
    Report { client: "slack-rtm-app", mode: Mode::Envelopes, n: done, connect_to_hello, elapsed, cpu }
        .print();
}
