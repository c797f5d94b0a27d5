//! Shared pieces of the benchmark clients: arguments, the naive WebSocket connect used by the
//! floors, and process measurements (CPU time and peak RSS from `/proc/self`).
//!
//! Every client prints one JSON line on stdout:
//! `{"client":…,"mode":…,"n":…,"connect_to_hello_us":…,"elapsed_us":…,"cpu_us":…,"peak_rss_kb":…}`.

use bytes::Bytes;
use http_body_util::Empty;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// The naive floors' WebSocket: fastwebsockets over plain TCP, frames reassembled.
pub type NaiveSocket = fastwebsockets::FragmentCollector<TokioIo<Upgraded>>;

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

/// Opens a `ws://` URL the naive way: TCP (no Nagle), the HTTP/1.1 upgrade, auto pong.
/// Panics on failure: a benchmark client has nothing better to do.
pub async fn open_naive_socket(url: &str) -> NaiveSocket {
    let uri: hyper::Uri = url.parse().expect("socket url");
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
    fastwebsockets::FragmentCollector::new(ws)
}

/// What a benchmark run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Count `n` `message` events sent by the emulator's blast mode after `hello`.
    Events,
    /// Send `n` messages one at a time, awaiting each ack.
    RoundTrips,
    /// Socket Mode: take (and ack) `n` `events_api` envelopes sent by the emulator's envelope
    /// blast after `hello`; `--token` is then the app-level token.
    Envelopes,
}

impl Mode {
    /// Its name on the command line and in the result line.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Events => "events",
            Mode::RoundTrips => "rtt",
            Mode::Envelopes => "envelopes",
        }
    }
}

/// The arguments every benchmark client takes: `--api-url URL --token T --mode
/// events|rtt|envelopes --n N [--channel C]`.
#[derive(Clone, Debug)]
pub struct BenchArgs {
    /// The emulator's API base.
    pub api_url: String,
    /// A valid token.
    pub token: String,
    /// What to measure.
    pub mode: Mode,
    /// How many events or round trips.
    pub n: u64,
    /// The channel for round trips.
    pub channel: String,
}

impl BenchArgs {
    /// Parses the process arguments; exits with a usage message on error.
    pub fn from_env() -> Self {
        Self::from_args(std::env::args().skip(1).collect())
    }

    /// Parses these arguments; exits with a usage message on error.
    pub fn from_args(args: Vec<String>) -> Self {
        let mut api_url = None;
        let mut token = std::env::var("SLACK_TOKEN").ok();
        let mut mode = Mode::Events;
        let mut n = 10_000;
        let mut channel = "C0GENERAL".to_owned();
        let mut args = args.into_iter();
        while let Some(a) = args.next() {
            let mut val = || args.next().unwrap_or_else(|| usage(&format!("{a} needs a value")));
            match a.as_str() {
                "--api-url" => api_url = Some(val()),
                "--token" => token = Some(val()),
                "--mode" => {
                    mode = match val().as_str() {
                        "events" => Mode::Events,
                        "rtt" => Mode::RoundTrips,
                        "envelopes" => Mode::Envelopes,
                        other => usage(&format!("unknown mode {other}")),
                    }
                }
                "--n" => n = val().parse().unwrap_or_else(|_| usage("--n takes a number")),
                "--channel" => channel = val(),
                other => usage(&format!("unknown argument {other}")),
            }
        }
        BenchArgs {
            api_url: api_url.unwrap_or_else(|| usage("--api-url is required")),
            token: token.unwrap_or_else(|| usage("--token (or SLACK_TOKEN) is required")),
            mode,
            n,
            channel,
        }
    }
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "bench client: {msg}\nusage: --api-url URL --token T [--mode events|rtt|envelopes] [--n N] [--channel C]"
    );
    std::process::exit(2)
}

/// CPU time of a process so far: the sum over its threads of the nanosecond run time in
/// `/proc/<pid>/task/*/schedstat` (precise, unlike the 10 ms ticks of `/proc/<pid>/stat`).
pub fn cpu_time_of(pid: &str) -> Duration {
    let mut total = 0u64;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let stat = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
            total += stat.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    Duration::from_nanos(total)
}

/// CPU time of this process so far (see [`cpu_time_of`]).
pub fn cpu_time() -> Duration {
    cpu_time_of("self")
}

/// Peak resident set size of this process in KiB (`VmHWM`).
pub fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The result line of a run.
pub struct Report {
    /// The client's name.
    pub client: &'static str,
    /// What was measured.
    pub mode: Mode,
    /// Events or round trips completed.
    pub n: u64,
    /// From the rtm.connect call to `hello`.
    pub connect_to_hello: Duration,
    /// From `hello` to the last event (events) or over all round trips.
    pub elapsed: Duration,
    /// CPU time (user + system) during `elapsed`.
    pub cpu: Duration,
}

impl Report {
    /// Prints the JSON line.
    pub fn print(&self) {
        let line = serde_json::json!({
            "client": self.client,
            "mode": self.mode.name(),
            "n": self.n,
            "connect_to_hello_us": self.connect_to_hello.as_micros() as u64,
            "elapsed_us": self.elapsed.as_micros() as u64,
            "cpu_us": self.cpu.as_micros() as u64,
            "peak_rss_kb": peak_rss_kb(),
        });
        println!("{line}");
    }
}

/// Runs a round-trip loop the way an application's sender runs: in a spawned task (a handler,
/// a worker), or — with `BENCH_RTT_BLOCK_ON` set — as the `block_on` future on the main thread,
/// as this bench did before. Every RTM client (slack-rtm and the floors) goes through here, so
/// they are measured on the same footing. Returns what the loop returns.
///
/// The two differ in tokio, not in the clients: the `block_on` future is not a task. On the
/// current-thread runtime, when a task wakes it, the scheduler polls the I/O driver once
/// (`epoll_wait(0)`) before polling it; on the multi-thread runtime it runs on the main thread,
/// not a worker, so every wake-up between it and a task is a cross-thread one. A client whose
/// socket is read in its own task (slack-rtm's session) pays that on every ack; a client that
/// reads the socket in the caller (the floors) does not.
pub async fn run_round_trips<F>(round_trips: F) -> u64
where
    F: std::future::Future<Output = u64> + Send + 'static,
{
    if std::env::var_os("BENCH_RTT_BLOCK_ON").is_some() {
        round_trips.await
    } else {
        tokio::spawn(round_trips).await.expect("the round-trip task panicked")
    }
}

pub mod faults;
pub mod fleet;

/// The session's byte bound on what waits for the application, from `BENCH_CAPACITY_BYTES`
/// (unset: the builder's default), so a run can show what the bound costs and saves.
pub fn capacity_bytes() -> Option<usize> {
    std::env::var("BENCH_CAPACITY_BYTES").ok().and_then(|v| v.parse().ok())
}

/// The runtime of the Socket Mode bench clients: tokio's current-thread runtime, or the
/// multi-thread one with 2 workers when `BENCH_MULTI_THREAD` is set (the bench reports both).
pub fn sm_runtime() -> tokio::runtime::Runtime {
    if std::env::var_os("BENCH_MULTI_THREAD").is_some() {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    }
    .expect("runtime")
}
