//! HTTP mode's receiver benchmark: signed Events API requests over loopback to one of three
//! servers, and the requests/s and latency (request written → complete answer read) the load
//! generator sees.
//!
//! - `naive`: a plain hyper 1 HTTP/1.1 server whose handler reads the body and checks the `v0`
//!   HMAC (hmac + sha2, constant-time compare), nothing else: the floor.
//! - `receiver`: `slack_rtm_hyper::server::HttpServer` + `SlackReceiver` (method, content type,
//!   body cap, timestamp window, signature, classification of the body) with a handler that
//!   answers 200 at once.
//! - `app`: a `slack_rtm::App` on HTTP (`HttpApp`) with one trivial `message` listener: the
//!   receiver, then per-process dedupe of the `event_id` and the dispatcher (the event is
//!   acked, so answered, before its listener runs). Every event must reach the listener.
//!
//! Each request is a distinct `message` event (`event_callback`, about 730 bytes, its own
//! `event_id`), signed beforehand. The server runs on its own current-thread runtime on its
//! own OS thread; the load generator on another (current-thread), over `--connections`
//! keep-alive HTTP/1.1 connections.
//!
//! - Full speed (`--rate 0`): each connection sends its next request as soon as the previous
//!   one is answered (closed loop; latency includes the queue of `--connections` requests).
//! - Paced (`--rate R`): request i is sent at `i / R` s (tokio's timer: millisecond ticks, so
//!   requests leave in small bursts); latency is from the write of the request.
//!
//! ```text
//! http-bench --server naive|receiver|app [--n N] [--rate R] [--connections C] [--warmup W]
//! ```
//!
//! Prints one JSON line: `{"server","rate","n","per_sec","p50_us","p99_us","max_us",
//! "server_cpu_us_per_req","errors"}`; exits 1 on any answer but 200 or a lost event.
//! Run it with `cargo xtask bench --http`.

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use slack_rtm::Client;
use slack_rtm::app::http::{
    HttpApp, HttpConfig, Inbound, InboundHandler, SigningSecret, SlackReceiver, Verifier,
};
use slack_rtm::app::{App, BotIdentity};
use slack_rtm::types::UserId;
use slack_rtm_bench::fleet::percentile;
use slack_rtm_hyper::server::HttpServer;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SECRET: &str = "bench-signing-secret-0123456789abcdef";
const PATH: &str = "/slack/events";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Server {
    Naive,
    Receiver,
    App,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Naive => "naive",
            Server::Receiver => "receiver",
            Server::App => "app",
        }
    }
}

struct Args {
    server: Server,
    n: u64,
    rate: u64,
    connections: u64,
    warmup: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { server: Server::Naive, n: 50_000, rate: 0, connections: 16, warmup: 2_000 };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        if k == "--server" {
            a.server = match v.as_str() {
                "naive" => Server::Naive,
                "receiver" => Server::Receiver,
                "app" => Server::App,
                other => return Err(format!("--server: naive, receiver or app, not {other}")),
            };
            continue;
        }
        let n: u64 = v.parse().map_err(|_| format!("{k}: not a number: {v}"))?;
        match k.as_str() {
            "--n" => a.n = n.max(1),
            "--rate" => a.rate = n,
            "--connections" => a.connections = n.clamp(1, 1024),
            "--warmup" => a.warmup = n,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

/// One prepared request: body and its signature headers.
struct Prepared {
    body: Bytes,
    ts: String,
    signature: String,
}

fn prepare(count: u64) -> Vec<Prepared> {
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0).to_string();
    let secret = SigningSecret::new(SECRET);
    (0..count)
        .map(|i| {
            let body = format!(
                r#"{{"token":"XXYYZZ","team_id":"T0BENCH01","api_app_id":"A0BENCH01","event":{{"type":"message","channel":"C0BENCH01","user":"U0BENCH0{u}","text":"benchmark message number {i}: the quick brown fox jumps over the lazy dog","ts":"1765000000.{i:06}","event_ts":"1765000000.{i:06}","channel_type":"channel","client_msg_id":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","team":"T0BENCH01"}},"type":"event_callback","event_id":"Ev0BENCH{i:010}","event_time":1765000000,"authorizations":[{{"enterprise_id":null,"team_id":"T0BENCH01","user_id":"U0BOT0001","is_bot":true,"is_enterprise_install":false}}],"is_ext_shared_channel":false,"event_context":"4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMEJFTkNIMDEiLCJhaWQiOiJBMEJFTkNIMDEiLCJjaWQiOiJDMEJFTkNIMDEifQ"}}"#,
                u = i % 10
            );
            let signature = secret.sign(&ts, body.as_bytes());
            Prepared { body: Bytes::from(body), ts: ts.clone(), signature }
        })
        .collect()
}

// ------------------------------------------------------------------------------ the servers

/// The naive handler: the HMAC over `v0:{ts}:{body}`, nothing else.
async fn naive(req: Request<Incoming>, key: Arc<[u8]>) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |n: &str| req.headers().get(n).map(|v| v.as_bytes().to_vec()).unwrap_or_default();
    let (ts, sig) = (header("x-slack-request-timestamp"), header("x-slack-signature"));
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(status(StatusCode::BAD_REQUEST)),
    };
    let expected = sig.strip_prefix(b"v0=").and_then(unhex);
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
        return Ok(status(StatusCode::UNAUTHORIZED));
    };
    mac.update(b"v0:");
    mac.update(&ts);
    mac.update(b":");
    mac.update(&body);
    match expected {
        Some(e) if mac.verify_slice(&e).is_ok() => Ok(status(StatusCode::OK)),
        _ => Ok(status(StatusCode::UNAUTHORIZED)),
    }
}

fn unhex(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.chunks(2).map(|p| Some((digit(p[0])? << 4) | digit(p[1])?)).collect()
}

fn status(s: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = s;
    r
}

async fn serve_naive(listener: tokio::net::TcpListener) {
    let key: Arc<[u8]> = SECRET.as_bytes().into();
    loop {
        let Ok((tcp, _)) = listener.accept().await else { return };
        let _ = tcp.set_nodelay(true);
        let key = key.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| naive(req, key.clone()));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), svc).await;
        });
    }
}

/// The receiver's handler: answers 200 at once.
struct Answer200;

impl InboundHandler for Answer200 {
    async fn handle(&self, inbound: Inbound) -> Response<Bytes> {
        std::hint::black_box(inbound.payload());
        Response::new(Bytes::new())
    }
}

/// A running server: its address, how many events its listener saw, its thread's CPU time.
struct Running {
    addr: SocketAddr,
    handled: Arc<AtomicU64>,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<Duration>,
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(stat.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Starts `server` on its own thread and current-thread runtime. The thread returns its CPU
/// time from `go` to the stop.
fn start(server: Server, go: Arc<tokio::sync::Notify>) -> Running {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handled = Arc::new(AtomicU64::new(0));
    let count = handled.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async move {
            let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
            let verifier = || Verifier::new(SigningSecret::new(SECRET)).expect("secret");
            let shutdown: Box<dyn FnOnce() -> std::pin::Pin<Box<dyn Future<Output = ()>>>> = match server {
                Server::Naive => {
                    let listener = tokio::net::TcpListener::bind(any).await.expect("bind");
                    addr_tx.send(listener.local_addr().expect("addr")).expect("send");
                    let task = tokio::spawn(serve_naive(listener));
                    Box::new(move || Box::pin(async move { task.abort() }))
                }
                Server::Receiver => {
                    let receiver = SlackReceiver::new(verifier(), Answer200);
                    let s = HttpServer::bind(any, PATH, receiver).await.expect("bind");
                    addr_tx.send(s.local_addr()).expect("send");
                    Box::new(move || {
                        Box::pin(async move {
                            s.shutdown(Duration::from_secs(1)).await;
                        })
                    })
                }
                Server::App => {
                    let mut app = App::new();
                    app.message("", move |m, _ctx| {
                        let count = count.clone();
                        async move {
                            std::hint::black_box(&m);
                            count.fetch_add(1, Ordering::Relaxed);
                            Ok(())
                        }
                    });
                    let web = Client::builder("xoxb-bench")
                        .api_url("http://127.0.0.1:9/api/")
                        .allow_insecure(true)
                        .build_web()
                        .expect("web client");
                    let me = BotIdentity { user_id: Some(UserId::from("U0BOT0001")), bot_id: None };
                    let dispatcher = app.into_dispatcher_with(web, me);
                    let config = HttpConfig::new(SECRET).expect("config");
                    let s = HttpApp::serve(dispatcher, any, config).await.expect("bind");
                    addr_tx.send(s.local_addr()).expect("send");
                    Box::new(move || {
                        Box::pin(async move {
                            s.shutdown(Duration::from_secs(5)).await;
                        })
                    })
                }
            };
            go.notified().await;
            let cpu0 = thread_cpu();
            let _ = stopped.await;
            let cpu = thread_cpu().saturating_sub(cpu0);
            shutdown().await;
            cpu
        })
    });
    let addr = addr_rx.recv().expect("the server started");
    Running { addr, handled, stop, thread }
}

// ------------------------------------------------------------------------- the load generator

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.expect("handshake");
    tokio::spawn(conn);
    sender
}

/// Sends one request; its latency, or the failure.
async fn send(sender: &mut Sender, addr: SocketAddr, p: &Prepared) -> Result<Duration, String> {
    let req = Request::post(PATH)
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", &p.ts)
        .header("x-slack-signature", &p.signature)
        .body(Full::new(p.body.clone()))
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    sender.ready().await.map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    resp.into_body().collect().await.map_err(|e| e.to_string())?;
    let took = started.elapsed();
    if status != StatusCode::OK {
        return Err(format!("answered {status}"));
    }
    Ok(took)
}

/// Sends `reqs` (request i on connection i mod C), paced at `rate` (0: closed loop). Latencies
/// in µs and the number of failures.
async fn load(
    addr: SocketAddr,
    reqs: Arc<Vec<Prepared>>,
    range: std::ops::Range<u64>,
    c: u64,
    rate: u64,
) -> (Vec<u64>, u64) {
    let t0 = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for k in 0..c {
        let (reqs, range) = (reqs.clone(), range.clone());
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let (mut lat, mut errors) = (Vec::new(), 0u64);
            let mut i = range.start + k;
            while i < range.end {
                if let Some(offset) = ((i - range.start) * 1_000_000_000).checked_div(rate) {
                    tokio::time::sleep_until(t0 + Duration::from_nanos(offset)).await;
                }
                match send(&mut sender, addr, &reqs[i as usize]).await {
                    Ok(d) => lat.push(d.as_micros() as u64),
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("http-bench: request {i}: {e}");
                        }
                        errors += 1;
                        sender = connect(addr).await;
                    }
                }
                i += c;
            }
            (lat, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (lat, e) = t.await.expect("load task");
        all.extend(lat);
        errors += e;
    }
    (all, errors)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("http-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let reqs = Arc::new(prepare(args.warmup + args.n));
    let go = Arc::new(tokio::sync::Notify::new());
    let server = start(args.server, go.clone());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (warm, measured) = (0..args.warmup, args.warmup..args.warmup + args.n);
    let (lat, errors, elapsed) = rt.block_on(async {
        let (_, warm_errors) = load(server.addr, reqs.clone(), warm, args.connections, 0).await;
        go.notify_one();
        let t0 = Instant::now();
        let (lat, errors) = load(server.addr, reqs.clone(), measured, args.connections, args.rate).await;
        (lat, errors + warm_errors, t0.elapsed())
    });
    let _ = server.stop.send(());
    let server_cpu = server.thread.join().unwrap_or_default();
    let total = args.warmup + args.n;
    let handled = server.handled.load(Ordering::Relaxed);
    let lost = if args.server == Server::App { total.saturating_sub(handled) } else { 0 };
    let mut sorted = lat;
    sorted.sort_unstable();
    let line = serde_json::json!({
        "server": args.server.name(),
        "rate": args.rate,
        "n": args.n,
        "connections": args.connections,
        "per_sec": args.n as f64 / elapsed.as_secs_f64(),
        "p50_us": percentile(&sorted, 0.50),
        "p99_us": percentile(&sorted, 0.99),
        "max_us": sorted.last().copied().unwrap_or(0),
        "server_cpu_us_per_req": server_cpu.as_secs_f64() * 1e6 / args.n as f64,
        "errors": errors,
        "lost": lost,
    });
    println!("{line}");
    if errors > 0 || lost > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
