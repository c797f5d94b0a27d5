//! An [`App`] mounted in a server of your own: [`App::into_http_service`] is a `tower`
//! service (and a hyper one), here routed by a few lines of plain hyper at `/slack/events`
//! beside the server's own `/healthz`. An axum `Router` takes the same service with
//! `.route_service("/slack/events", service)`.
//!
//! ```text
//! cargo run -p slack-rtm --example http_mount     # a short scene against a local emulator
//! SLACK_SIGNING_SECRET=… SLACK_BOT_TOKEN=xoxb-… [SLACK_API_URL=…] cargo run -p slack-rtm --example http_mount -- 127.0.0.1:3000
//! ```
//!
//! The first line of stdout is the Request URL.

use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use slack_rtm::app::http::{Bytes, HttpConfig, HttpHandler, SlackReceiver};
use slack_rtm::app::{App, MessageResponse};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The app: its listeners do not know how Slack's requests reach them.
fn app() -> App {
    let mut app = App::new();
    app.command("/echo", |cmd, ack, _| async move {
        Ok(ack.ack_with(MessageResponse::text(format!("echo: {}", cmd.text))).await?)
    });
    app
}

/// The server's router: Slack's requests to the app's service, the rest to the server.
async fn route(
    mut slack: SlackReceiver<HttpHandler>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    match (req.method(), req.uri().path()) {
        // Any method: the service itself answers 405 to what is not a POST.
        (_, "/slack/events") => {
            // A tower service is driven as always: ready, then call.
            std::future::poll_fn(|cx| Service::<Request<Incoming>>::poll_ready(&mut slack, cx)).await?;
            slack.call(req).await
        }
        (&Method::GET, "/healthz") => Ok(Response::new(Full::new(Bytes::from_static(b"ok\n")))),
        _ => {
            let mut not_found = Response::new(Full::new(Bytes::new()));
            *not_found.status_mut() = StatusCode::NOT_FOUND;
            Ok(not_found)
        }
    }
}

/// Serves the router on `listener` (HTTP/1.1 and HTTP/2) until the task is dropped.
async fn serve(listener: TcpListener, slack: SlackReceiver<HttpHandler>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let slack = slack.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| route(slack.clone(), req));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let _ = builder.serve_connection(TokioIo::new(tcp), svc).await;
        });
    }
}

/// Binds `addr`, prints the Request URL, serves.
async fn start(addr: SocketAddr, slack: SlackReceiver<HttpHandler>) -> Result<SocketAddr, BoxError> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    println!("http://{addr}/slack/events");
    tokio::spawn(serve(listener, slack));
    Ok(addr)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.trim().is_empty());
    let Some(secret) = var("SLACK_SIGNING_SECRET") else { return scene().await };
    let addr: SocketAddr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".into()).parse()?;
    let mut web =
        slack_rtm::Client::builder(var("SLACK_BOT_TOKEN").ok_or("SLACK_BOT_TOKEN is needed")?.trim());
    if let Some(url) = var("SLACK_API_URL") {
        web = web.api_url(url.trim()).allow_insecure(url.starts_with("http://127.0.0.1"));
    }
    let service = app().into_http_service(web.build_web()?, HttpConfig::new(secret.trim())?).await;
    start(addr, service).await?;
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Without a signing secret: the emulator takes the mounted URL as its Request URL (the
/// `url_verification` handshake), a user runs `/echo`, and the server's own route still answers.
async fn scene() -> Result<(), BoxError> {
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    let web =
        slack_rtm::Client::builder(emu.token()).api_url(&emu.api_url()).allow_insecure(true).build_web()?;
    let service = app().into_http_service(web, HttpConfig::new(emu.signing_secret())?).await;
    let addr = start("127.0.0.1:0".parse()?, service).await?;
    emu.set_request_url(Some(&format!("http://{addr}/slack/events"))).await?;
    println!("request URL verified by the emulator");
    let alice = emu.second_user().user;
    let cmd = emu.user(&alice).run_command(&emu.general_channel(), "/echo", "mounted");
    let ack = emu.wait_for_ack(cmd.seq, Duration::from_secs(10)).await?;
    let reply = ack.payload.as_ref().and_then(|p| p["text"].as_str()).unwrap_or_default().to_owned();
    println!("/echo answered: {reply}");
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").await?;
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await?;
    println!("GET /healthz: {}", answer.lines().next().unwrap_or_default());
    Ok(())
}
