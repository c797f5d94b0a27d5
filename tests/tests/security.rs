//! Security properties, end to end over loopback:
//!
//! - a token (the RTM token, Socket Mode's app-level token, the Web API token) never appears
//!   in any `tracing` output (TRACE level, every crate, the emulator
//!   included), in any event, nor in any error's `Display` or `Debug`; the emulator never sees
//!   it in a URL;
//! - TLS is always verified: a self-signed server is refused unless the application supplied a
//!   config trusting it, for the HTTP call and for the WebSocket alike;
//! - `http://` and `ws://` need the explicit insecure option, and a secure API base never
//!   accepts a `ws://` socket URL.
//!
//! This file installs a process-wide `tracing` subscriber: it must stay its own test binary.

use slack_rtm::rtm::SendRate;
use slack_rtm::rtm::SessionConfig;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::types::ApiError;
use slack_rtm::{Client, ErrorKind};
use slack_rtm_emulator::{Emulator, EmulatorConfig, RawFrame, Rejection, Target};
use slack_rtm_hyper::HyperTransport;
use slack_rtm_tests::session::fast_session_config;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);
const MS: Duration = Duration::from_millis(1);

/// Everything every `tracing` subscriber call wrote in this process, at TRACE level.
fn trace_buffer() -> Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer_buf = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_target(true)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_writer(move || SharedWriter(writer_buf.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this binary");
        buf
    })
    .clone()
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn fast_session() -> SessionConfig {
    let mut c = fast_session_config(3);
    c.send_rate = SendRate::new(MS, 10);
    c
}

/// The parts of a token that must never leak: the whole, and its secret tail.
fn secrets(token: &str) -> Vec<String> {
    let mut s = vec![token.to_owned()];
    if let Some(tail) = token.rsplit('-').next().filter(|t| t.len() >= 8) {
        s.push(tail.to_owned());
    }
    s
}

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(!text.contains(s.as_str()), "the token appears in {what}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_traces_events_or_errors() {
    let buf = trace_buffer();
    let emu = Emulator::start(EmulatorConfig::default().send_rate(None)).await.expect("emulator");
    let token = emu.token();
    let secret = secrets(&token);
    let mut seen: Vec<String> = Vec::new(); // every Display and Debug collected

    // A bad token first: a fatal error at connect.
    let wrong = format!("xoxb-1111-2222-{}", "s3cr3tWRONGt0kenVALUE");
    let err = Client::builder(wrong.as_str())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .session_config(fast_session())
        .connect()
        .await
        .expect_err("invalid_auth");
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.api_error(), Some(&ApiError::InvalidAuth));
    for s in secrets(&wrong) {
        let text = format!("{err} {err:?}");
        assert!(!text.contains(&s), "the wrong token leaked: {text}");
    }

    // `rtm_connect` alone, and the builder's Debug.
    let builder = Client::builder(token.as_str())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .session_config(fast_session());
    seen.push(format!("{builder:?}"));
    let answer = builder.rtm_connect().await.expect("rtm.connect");
    seen.push(format!("{answer:?}"));

    // A full session: traffic, bad frames, a drop, a 429, then invalid_auth.
    let (client, mut events) = builder.connect().await.expect("connects");
    seen.push(format!("{client:?} {events:?}"));
    let posted = client.send_message(emu.general_channel(), "hello").await.expect("acked");
    seen.push(format!("{posted:?}"));
    let err = client.send_message("", "no channel").await.expect_err("invalid");
    seen.push(format!("{err} {err:?}"));
    emu.send_raw_to_connection(Target::All, RawFrame::malformed_json());
    emu.send_raw_to_connection(Target::All, RawFrame::binary());
    emu.send_raw_to_connection(Target::All, RawFrame::invalid_utf8());
    // The frames are written before the drop below discards the emulator's output buffer.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut warnings = 0;
    while warnings < 3 {
        let event = tokio::time::timeout_at(deadline, events.next()).await.expect("warnings").expect("open");
        seen.push(format!("{event:?}"));
        if let SessionEvent::Warning(w) = &event {
            seen.push(format!("{w}"));
            warnings += 1;
        }
    }
    emu.reject_next_connects(1, Rejection::RateLimited { retry_after: Duration::from_secs(1) });
    emu.reject_next_connects(1, Rejection::Html(502));
    emu.drop_connection(Target::All);
    let mut stopped = None;
    let mut reconnected = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.next()).await.expect("the session goes on");
        let Some(event) = event else { break };
        seen.push(format!("{event:?}"));
        match &event {
            SessionEvent::Reconnecting { reason, .. } | SessionEvent::Disconnected { reason } => {
                seen.push(format!("{reason}"));
            }
            SessionEvent::Warning(w) => seen.push(format!("{w}")),
            SessionEvent::Connected { reconnect: true, .. } if !reconnected => {
                reconnected = true;
                let posted = client.send_message(emu.general_channel(), "again").await.expect("acked");
                seen.push(format!("{posted:?}"));
                // The token is revoked: the next reconnect ends the session.
                emu.reject_next_connects(1, Rejection::Api(ApiError::InvalidAuth));
                emu.drop_connection(Target::All);
            }
            SessionEvent::Stopped { reason } => {
                seen.push(format!("{reason} {reason:?}"));
                stopped = Some(reason.clone());
            }
            _ => {}
        }
    }
    let fatal = stopped.filter(|r| r.is_error()).expect("stopped on invalid_auth");
    assert_eq!(fatal.api_error(), Some(&ApiError::InvalidAuth));
    let facade: slack_rtm::Error = fatal.into();
    seen.push(format!("{facade} {facade:?}"));
    let late = client.send_message(emu.general_channel(), "late").await.expect_err("stopped");
    seen.push(format!("{late} {late:?}"));
    client.shutdown().await;

    // The failures really happened.
    let calls = emu.rtm_connect_calls();
    assert!(calls.iter().any(|c| c.status == 429), "{calls:#?}");
    assert!(calls.iter().any(|c| c.error.as_deref() == Some("invalid_auth")), "{calls:#?}");
    assert!(seen.iter().any(|s| s.contains("Undecodable")), "the bad frames were reported");

    // The judge: every trace line and every rendering.
    let traces = String::from_utf8_lossy(&buf.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(
        traces.lines().count() > 50,
        "the subscriber captured the session: {} lines",
        traces.lines().count()
    );
    assert!(traces.contains("TRACE") || traces.contains("DEBUG"), "verbose levels were captured");
    assert_clean("the trace output", &traces, &secret);
    assert_clean("the trace output", &traces, &secrets(&wrong));
    for s in &seen {
        assert_clean("a Display/Debug rendering", s, &secret);
    }
    assert_eq!(emu.tokens_seen_in_urls(), 0);
    let calls = emu.rtm_connect_calls();
    assert!(calls.iter().all(|c| !c.token_in_url), "{calls:#?}");
    // Scripted rejections answer before authenticating; every authenticated call used Bearer.
    assert!(calls.iter().filter(|c| c.ok()).all(|c| c.bearer), "{calls:#?}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_server_is_refused_unless_trusted() {
    let _ = trace_buffer();
    let emu = Emulator::start(EmulatorConfig::default().tls(true).send_rate(None)).await.expect("emulator");
    let token = emu.token();

    // Default trust (webpki roots): the HTTPS call is refused, typed, no panic.
    let err = Client::builder(token.as_str())
        .api_url(&emu.api_url())
        .proxy_from_env(false)
        .session_config(fast_session())
        .connect_timeout(Some(Duration::from_millis(500)))
        .connect()
        .await
        .expect_err("untrusted certificate");
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(emu.rtm_connect_call_count(), 0, "no request got through the TLS handshake");

    // The HTTP call trusts the emulator, the socket does not: the wss:// handshake is refused.
    let trusting_http = HyperTransport::builder()
        .tls_config(Arc::new(emu.tls_client_config().expect("tls")))
        .build()
        .expect("transport");
    let err = Client::builder(token.as_str())
        .api_url(&emu.api_url())
        .transport(trusting_http)
        .session_config(fast_session())
        .connect_timeout(Some(Duration::from_millis(500)))
        .connect()
        .await
        .expect_err("untrusted socket");
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert!(emu.rtm_connect_call_count() >= 1);
    assert_eq!(emu.connection_count(), 0, "no socket was admitted");

    // Trusted explicitly: works over https:// and wss://.
    let (client, _events) = Client::builder(token.as_str())
        .api_url(&emu.api_url())
        .proxy_from_env(false)
        .tls_config(Arc::new(emu.tls_client_config().expect("tls")))
        .session_config(fast_session())
        .connect()
        .await
        .expect("trusted");
    let posted = client.send_message(emu.general_channel(), "over tls").await.expect("acked");
    assert!(posted.ts.is_some());
    assert_eq!(emu.connection_count(), 1);
    client.shutdown().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_and_ws_need_the_insecure_option() {
    let _ = trace_buffer();
    let emu = Emulator::start(EmulatorConfig::default().send_rate(None)).await.expect("emulator");
    let err = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .proxy_from_env(false)
        .connect()
        .await
        .expect_err("http:// without allow_insecure");
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert_eq!(emu.rtm_connect_call_count(), 0, "refused before any request");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secure_api_base_never_accepts_a_ws_socket_url() {
    let _ = trace_buffer();
    let emu = Emulator::start(EmulatorConfig::default().send_rate(None)).await.expect("emulator");
    // An https:// API base whose answers really come from the plain emulator: a live ws:// URL.
    let forward = HyperTransport::builder().allow_http(true).build().expect("transport");
    let forward = Arc::new(forward);
    let api = emu.api_url();
    let transport = move |mut req: http::Request<Vec<u8>>| {
        let forward = forward.clone();
        let api = api.clone();
        async move {
            let path_and_query =
                req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
            let rest = path_and_query.trim_start_matches("/api/");
            *req.uri_mut() = format!("{api}{rest}").parse().expect("uri");
            slack_rtm::transport::HttpTransport::send(&*forward, req).await
        }
    };
    let err = Client::builder(emu.token())
        .api_url("https://slack.example.invalid/api/")
        .allow_insecure(true)
        .transport(transport)
        .session_config(fast_session())
        .connect_timeout(Some(Duration::from_millis(500)))
        .connect()
        .await
        .expect_err("downgrade refused");
    assert!(format!("{err}").contains("socket URL"), "{err}");
    assert!(emu.rtm_connect_call_count() >= 1, "the answers were real");
    assert_eq!(emu.connection_count(), 0, "no ws:// socket was opened");
    assert_eq!(emu.expired_socket_attempts(), 0, "no ws:// upgrade was even attempted");
    emu.shutdown().await;
}

/// The same judge for Socket Mode and the Web API: the app-level token (`xapp-…`) and the bot
/// token given for `client.web()` never appear in traces, items, errors, the driver configs'
/// or the clients' `Debug`, nor in a URL the emulator saw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_and_web_tokens_never_appear_in_traces_items_or_errors() {
    use slack_rtm::SocketModeClient;
    use slack_rtm::socket_mode::SocketModeConfig;
    use slack_rtm::socket_mode::SocketModeItem;
    use slack_rtm_codec::{AppToken, Token};
    use slack_rtm_emulator::SocketModeServerConfig as EmuSm;
    use slack_rtm_session::DriverConfig;
    use slack_rtm_session::driver::SocketModeDriverConfig;

    let buf = trace_buffer();
    let emu = Emulator::start(EmulatorConfig::default().send_rate(None).socket_mode(EmuSm::default()))
        .await
        .expect("emulator");
    let (app, bot) = (emu.app_token(), emu.token());
    let mut secret = secrets(&app);
    secret.extend(secrets(&bot));
    let mut seen: Vec<String> = Vec::new();
    let mut fast = SocketModeConfig::default();
    fast.reconnect = fast_session_config(5).reconnect;

    // A revoked app token: refused at connect.
    let revoked = emu.add_app_token(true);
    assert!(emu.revoke_app_token(&revoked));
    secret.extend(secrets(&revoked));
    let err = SocketModeClient::builder(revoked.as_str())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .session_config(fast.clone())
        .connect()
        .await
        .expect_err("token_revoked");
    seen.push(format!("{err} {err:?}"));

    // The driver configurations hold the tokens.
    let transport: Arc<dyn slack_rtm_codec::DynHttpTransport> =
        Arc::new(HyperTransport::builder().allow_http(true).build().expect("transport"));
    let rtm = DriverConfig::new(SessionConfig::default(), Token::new(bot.clone()), transport.clone());
    seen.push(format!("{rtm:?}"));
    let sm = SocketModeDriverConfig::new(fast.clone(), AppToken::new(app.clone()).expect("xapp"), transport);
    seen.push(format!("{sm:?}"));

    // A session with a Web API client: an open refused once, envelopes, a failing Web call.
    emu.reject_next_opens(1, Rejection::Status(500));
    let builder = SocketModeClient::builder(app.as_str())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .web_token(bot.as_str())
        .session_config(fast);
    seen.push(format!("{builder:?}"));
    let (client, mut items) = builder.connect().await.expect("connects");
    let web = client.web().expect("a web client");
    seen.push(format!("{client:?} {items:?} {web:?}"));
    let posted = web.post_message(emu.general_channel(), "from the app").await.expect("posted");
    seen.push(format!("{posted:?}"));
    let err = web.post_message("CNOSUCH", "nowhere").await.expect_err("channel_not_found");
    seen.push(format!("{err} {err:?}"));
    emu.post_message(&emu.general_channel(), &emu.second_user().user, "hello app");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let item = tokio::time::timeout_at(deadline, items.next()).await.expect("an envelope").expect("open");
        seen.push(format!("{item:?}"));
        if let SocketModeItem::Envelope(d) = item {
            seen.push(format!("{:?}", d.to_json()));
            break;
        }
    }
    client.shutdown().await;
    while let Some(item) = tokio::time::timeout(WAIT, items.next()).await.expect("the items end") {
        seen.push(format!("{item:?}"));
    }

    // The judge.
    let opens = emu.apps_connections_open_calls();
    assert!(opens.iter().any(|c| c.status == 500), "{opens:#?}");
    assert!(opens.iter().all(|c| !c.token_in_url), "{opens:#?}");
    assert_eq!(emu.tokens_seen_in_urls(), 0);
    let traces = String::from_utf8_lossy(&buf.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(traces.contains("apps.connections.open") || traces.contains("Socket Mode"), "traces captured");
    assert_clean("the trace output", &traces, &secret);
    for s in &seen {
        assert_clean("a Display/Debug rendering", s, &secret);
    }
    emu.shutdown().await;
}
