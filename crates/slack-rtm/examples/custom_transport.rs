//! Plugging in your own HTTP transport for `rtm.connect`.
//!
//! ```text
//! cargo run -p slack-rtm --example custom_transport                 # scripted, local emulator
//! SLACK_BOT_TOKEN=xoxb-… cargo run -p slack-rtm --example custom_transport   # for real, until Ctrl-C
//! ```
//!
//! A transport is anything implementing `slack_rtm::transport::HttpTransport`: it sends one
//! `http::Request<Vec<u8>>` and returns the whole response. Retries, backoff, `Retry-After`,
//! decoding and error classification stay in the session, so a transport is only a few lines.
//! Any `Fn(Request) -> impl Future<Output = Result<Response, E>>` qualifies: here a closure
//! wraps the built-in hyper transport to log each call (method, URL without query, status,
//! duration — never the `Authorization` header, which carries the token) and count them.
//!
//! Without `SLACK_BOT_TOKEN` (or `SLACK_TOKEN`), the example starts the emulator, connects through the logging
//! transport, makes the server say `goodbye` (so the session calls `rtm.connect` again through
//! the same transport), checks the count against the emulator's record, and exits.

use slack_rtm::Client;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::transport::HttpTransport;
use slack_rtm::transport::HyperTransport;
use slack_rtm::transport::http::{Request, Response};
use slack_rtm_emulator::{Emulator, EmulatorConfig, Target};
use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// A transport that logs and counts calls, sending them with `inner`.
fn logging_transport(inner: HyperTransport, calls: Arc<AtomicUsize>) -> impl HttpTransport + 'static {
    let inner = Arc::new(inner);
    move |request: Request<Vec<u8>>| {
        let inner = inner.clone();
        let calls = calls.clone();
        async move {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            // Log only the method and the path: headers carry the token.
            let what = format!("{} {}", request.method(), request.uri().path());
            let start = Instant::now();
            let result: Result<Response<Vec<u8>>, _> = inner.send(request).await;
            match &result {
                Ok(r) => println!("transport call {n}: {what} -> {} in {:?}", r.status(), start.elapsed()),
                Err(e) => println!("transport call {n}: {what} failed: {e}"),
            }
            result
        }
    }
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let calls = Arc::new(AtomicUsize::new(0));
    match std::env::var("SLACK_BOT_TOKEN").or_else(|_| std::env::var("SLACK_TOKEN")) {
        Ok(token) if !token.trim().is_empty() => {
            let url = std::env::var("SLACK_API_URL").ok();
            let insecure = url.as_deref().is_some_and(|u| u.starts_with("http://"));
            let inner = HyperTransport::builder().allow_http(insecure).proxy_from_env().build()?;
            let mut builder =
                Client::builder(token.trim()).transport(logging_transport(inner, calls.clone()));
            if let Some(url) = &url {
                builder = builder.api_url(url).allow_insecure(insecure);
            }
            let (client, mut events) = builder.connect().await?;
            println!("connected through the logging transport; Ctrl-C to stop");
            let printer = tokio::spawn(async move {
                while let Some(event) = events.next().await {
                    if let SessionEvent::Rtm(e) = event {
                        println!("event {}", e.event_type());
                    }
                }
            });
            tokio::signal::ctrl_c().await?;
            client.shutdown().await;
            printer.await?;
            Ok(())
        }
        _ => scripted(calls).await,
    }
}

async fn scripted(calls: Arc<AtomicUsize>) -> BoxResult<()> {
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    let inner = HyperTransport::builder().allow_http(true).build()?;
    let (client, mut events) = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .transport(logging_transport(inner, calls.clone()))
        .connect()
        .await?;
    // A goodbye makes the session fetch a new socket URL, through our transport again.
    emu.goodbye(Target::All);
    let reconnected = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(event) = events.next().await {
            if let SessionEvent::Connected { reconnect: true, .. } = event {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    if !reconnected {
        return Err("no reconnection after goodbye".into());
    }
    client.shutdown().await;
    let made = calls.load(Ordering::SeqCst);
    let recorded = emu.rtm_connect_call_count();
    if made as u64 != recorded || made != 2 {
        return Err(format!("the transport made {made} calls, the emulator recorded {recorded}").into());
    }
    println!("custom_transport: {made} rtm.connect calls went through the custom transport");
    emu.shutdown().await;
    Ok(())
}
