//! An `App` on HTTP (`App::start_http`) against the emulator's delivery to a Request URL, as
//! Slack would drive it: the `url_verification` handshake, events handled once, a command's and
//! an interaction's acks carried by the HTTP response, a slow listener making the emulator
//! retry (the retry handed over once), 500s and dropped connections in front of the app (a
//! faulty load balancer), `X-Slack-No-Retry`, `app_rate_limited`.

use slack_rtm::app::http::{HttpApp, HttpConfig};
use slack_rtm::app::{App, MessageResponse, RequestKind};
use slack_rtm::{Client, WebClient};
use slack_rtm_emulator::{
    Emulator, EmulatorConfig, EmulatorError, HttpDeliveryConfig, SocketModeServerConfig,
};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const T: Duration = Duration::from_secs(10);

/// What the listeners saw: a name, the retry attempt and reason.
type Seen = mpsc::UnboundedReceiver<(String, u32, Option<String>)>;
type SeenTx = mpsc::UnboundedSender<(String, u32, Option<String>)>;

/// An emulator delivering over HTTP with a short timeout and quick retries.
async fn emulator(timeout: Duration) -> Emulator {
    let delivery =
        HttpDeliveryConfig::default().timeout(timeout).retry_delays(vec![Duration::from_millis(10); 3]);
    let config = EmulatorConfig::default()
        .send_rate(None)
        .socket_mode(SocketModeServerConfig::default().ping_interval(None))
        .http_delivery(delivery);
    Emulator::start(config).await.unwrap()
}

fn web(emu: &Emulator) -> WebClient {
    Client::builder(emu.token()).api_url(&emu.api_url()).allow_insecure(true).build_web().unwrap()
}

async fn start(emu: &Emulator, app: App, config: HttpConfig) -> HttpApp {
    app.start_http(web(emu), "127.0.0.1:0".parse().unwrap(), config).await.unwrap()
}

fn record(tx: &SeenTx, what: String, ctx: &slack_rtm::app::Context) {
    let _ = tx.send((what, ctx.retry_attempt(), ctx.retry_reason().map(str::to_owned)));
}

/// Messages are recorded (`message <text>`); "ping" is answered with "pong" through the Web
/// API; `/echo` replies with its text as the ack; the `open_form` shortcut is acked.
fn app(tx: SeenTx) -> App {
    let mut app = App::new();
    let t = tx.clone();
    app.message("", move |m, ctx| {
        let t = t.clone();
        async move {
            let text = m.text.clone().unwrap_or_default();
            record(&t, format!("message {text}"), &ctx);
            if text == "ping" {
                let posted = ctx.say("pong").await?;
                let _ = t.send((format!("said {}", posted.ts.as_str()), 0, None));
            }
            Ok(())
        }
    });
    app.command("/echo", |cmd, ack, _| async move {
        Ok(ack.ack_with(MessageResponse::text(format!("echo: {}", cmd.text))).await?)
    });
    let t = tx.clone();
    app.shortcut("open_form", move |_, ack, ctx| {
        let t = t.clone();
        async move {
            ack.ack().await?;
            record(&t, "shortcut".into(), &ctx);
            Ok(())
        }
    });
    let t = tx;
    app.fallback(move |ctx| {
        let t = t.clone();
        async move {
            if let RequestKind::Other(kind) = ctx.kind() {
                record(&t, format!("fallback {kind}"), &ctx);
            }
            Ok(())
        }
    });
    app
}

/// Waits for the next thing a listener saw.
async fn next(seen: &mut Seen) -> (String, u32, Option<String>) {
    tokio::time::timeout(T, seen.recv()).await.expect("a listener ran").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_event_command_and_interaction_through_the_emulators_delivery() {
    let emu = emulator(Duration::from_secs(3)).await;
    let (tx, mut seen) = mpsc::unbounded_channel();
    let running = start(&emu, app(tx), HttpConfig::new(emu.signing_secret()).unwrap()).await;

    // The handshake: the app's receiver answers the challenge, so the URL is taken.
    emu.set_request_url(Some(&running.url())).await.unwrap();
    let hs = &emu.http_deliveries()[0];
    assert_eq!((hs.kind.as_str(), hs.status, hs.ok()), ("url_verification", Some(200), true));

    // An event: answered 200, handled once, and the listener's `say` reached the workspace.
    let (alice, ch) = (emu.second_user().user, emu.general_channel());
    let said = emu.user(&alice).say(&ch, "ping").unwrap();
    assert_eq!(emu.wait_for_ack(said.seq, T).await.unwrap().payload, None);
    assert_eq!(next(&mut seen).await, ("message ping".to_owned(), 0, None));
    let (posted, _, _) = next(&mut seen).await;
    let ts = posted.strip_prefix("said ").unwrap();
    let pong = emu.message(&ch, &ts.into()).expect("the app's answer was posted");
    assert_eq!(pong["text"], "pong");

    // A command: the listener's ack is the HTTP response, applied as the command's reply.
    let cmd = emu.user(&alice).run_command(&ch, "/echo", "hi");
    let ack = emu.wait_for_ack(cmd.seq, T).await.unwrap();
    assert_eq!(ack.payload, Some(serde_json::json!({"text": "echo: hi"})));
    assert_eq!(emu.ephemeral_messages_for(&alice)[0].text.as_deref(), Some("echo: hi"));

    // An interaction (a `payload=` form): acked through the response, handled once.
    let sc = emu.user(&alice).global_shortcut("open_form");
    emu.wait_for_ack(sc.seq, T).await.unwrap();
    assert_eq!(next(&mut seen).await.0, "shortcut");

    // app_rate_limited reaches the app (its fallback) and is answered 200.
    let limited = emu.send_app_rate_limited().await.unwrap();
    assert_eq!(limited.status, Some(200));
    assert_eq!(next(&mut seen).await.0, "fallback app_rate_limited");

    // Every delivery was answered 2xx at the first attempt.
    assert!(emu.http_deliveries().iter().all(|d| d.ok() && d.retry_num == 0), "{:?}", emu.http_deliveries());
    assert!(running.shutdown(T).await);
    assert!(seen.try_recv().is_err(), "nothing was handled twice");

    // An app with another signing secret refuses the handshake: the URL is not taken.
    let other = emulator(Duration::from_secs(3)).await;
    let (tx, _seen) = mpsc::unbounded_channel();
    let wrong = start(&other, app(tx), HttpConfig::new("not-the-emulators-secret").unwrap()).await;
    assert!(matches!(other.set_request_url(Some(&wrong.url())).await, Err(EmulatorError::RequestUrl(_))));
    let refused = other.http_deliveries();
    assert_eq!(refused[0].status, Some(401));
    wrong.shutdown(T).await;
}

/// One listener slot, held by a slow listener: the next event's answer waits for the slot past
/// the emulator's timeout, so the emulator retries it with `X-Slack-Retry-Num`. The event is
/// handed to the listeners once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_listener_makes_the_emulator_retry_and_the_event_is_handled_once() {
    let emu = emulator(Duration::from_millis(300)).await;
    let (tx, mut seen) = mpsc::unbounded_channel::<(String, u32, Option<String>)>();
    let mut app = App::new();
    app.concurrency(1);
    app.message("", move |m, ctx| {
        let t = tx.clone();
        async move {
            let text = m.text.clone().unwrap_or_default();
            record(&t, text.clone(), &ctx);
            if text == "slow" {
                tokio::time::sleep(Duration::from_millis(800)).await;
            }
            Ok(())
        }
    });
    let running = start(&emu, app, HttpConfig::new(emu.signing_secret()).unwrap()).await;
    emu.set_request_url(Some(&running.url())).await.unwrap();
    let (alice, ch) = (emu.second_user().user, emu.general_channel());

    let slow = emu.user(&alice).say(&ch, "slow").unwrap();
    emu.wait_for_ack(slow.seq, T).await.unwrap();
    assert_eq!(next(&mut seen).await.0, "slow");
    let after = emu.user(&alice).say(&ch, "after").unwrap();
    emu.wait_for_ack(after.seq, T).await.unwrap();
    let (text, _attempt, _reason) = next(&mut seen).await;
    assert_eq!(text, "after");

    let recs: Vec<_> = emu.http_deliveries().into_iter().filter(|d| d.seq == after.seq).collect();
    assert!(recs.len() >= 2, "the emulator retried: {recs:?}");
    assert_eq!((recs[0].retry_num, recs[0].failure.as_deref()), (0, Some("http_timeout")));
    assert_eq!((recs[1].retry_num, recs[1].retry_reason.as_deref()), (1, Some("http_timeout")));
    assert!(recs.last().unwrap().ok());
    // Whichever attempt was handed over, it was handed over once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(running.shutdown(T).await);
    let rest: Vec<_> = std::iter::from_fn(|| seen.try_recv().ok()).collect();
    assert!(rest.is_empty(), "handled again: {rest:?}");
}

/// What the faulty load balancer does with its next connection.
#[derive(Clone, Copy, Debug)]
enum Lb {
    Status500,
    Drop,
}

/// A TCP proxy in front of the app: each connection takes the next scripted fault, or is
/// forwarded to the app when the script is empty.
async fn load_balancer(app: SocketAddr, script: Arc<Mutex<VecDeque<Lb>>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else { return };
            let fault = script.lock().unwrap().pop_front();
            tokio::spawn(async move {
                let mut buf = vec![0; 64 * 1024];
                match fault {
                    Some(Lb::Drop) => {
                        let _ = inbound.read(&mut buf).await;
                        drop(inbound);
                    }
                    Some(Lb::Status500) => {
                        let _ = inbound.read(&mut buf).await;
                        let answer = "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                        let _ = inbound.write_all(answer.as_bytes()).await;
                        let _ = inbound.shutdown().await;
                    }
                    None => {
                        let Ok(mut outbound) = tokio::net::TcpStream::connect(app).await else { return };
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_and_a_dropped_connection_are_retried_and_the_event_is_handled_once() {
    let emu = emulator(Duration::from_secs(3)).await;
    let (tx, mut seen) = mpsc::unbounded_channel();
    let running = start(&emu, app(tx), HttpConfig::new(emu.signing_secret()).unwrap()).await;
    let script = Arc::new(Mutex::new(VecDeque::new()));
    let lb = load_balancer(running.local_addr(), script.clone()).await;
    emu.set_request_url(Some(&format!("http://{lb}/slack/events"))).await.unwrap();

    script.lock().unwrap().extend([Lb::Status500, Lb::Drop]);
    let said = emu.user(&emu.second_user().user).say(&emu.general_channel(), "through faults").unwrap();
    emu.wait_for_ack(said.seq, T).await.unwrap();
    let recs: Vec<_> = emu.http_deliveries().into_iter().filter(|d| d.seq == said.seq).collect();
    let got: Vec<_> = recs.iter().map(|r| (r.retry_num, r.status, r.failure.as_deref())).collect();
    assert_eq!(
        got,
        [(0, Some(500), Some("http_error")), (1, None, Some("connection_failed")), (2, Some(200), None)]
    );
    // Handed over once, with the retry's headers in the context.
    let (text, attempt, reason) = next(&mut seen).await;
    assert_eq!(
        (text.as_str(), attempt, reason.as_deref()),
        ("message through faults", 2, Some("connection_failed"))
    );
    assert!(running.shutdown(T).await);
    assert!(seen.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_app_asks_the_emulator_for_no_retry_when_configured() {
    for no_retry in [false, true] {
        let emu = emulator(Duration::from_secs(3)).await;
        let (tx, _seen) = mpsc::unbounded_channel();
        let config = HttpConfig::new(emu.signing_secret()).unwrap().no_retry_on_failure(no_retry);
        let running = start(&emu, app(tx), config).await;
        emu.set_request_url(Some(&running.url())).await.unwrap();
        // The app stops taking requests while its server still answers: 503.
        assert!(running.dispatcher().shutdown(T).await);
        let said = emu.user(&emu.second_user().user).say(&emu.general_channel(), "refused").unwrap();
        let attempts = if no_retry { 1 } else { 4 };
        emu.wait_for_http_deliveries(1 + attempts, T).await.unwrap();
        assert!(emu.wait_for_http_deliveries(2 + attempts, Duration::from_millis(300)).await.is_err());
        let recs: Vec<_> = emu.http_deliveries().into_iter().filter(|d| d.seq == said.seq).collect();
        assert_eq!(recs.len(), attempts as usize);
        assert!(recs.iter().all(|r| r.status == Some(503) && r.no_retry == no_retry), "{recs:?}");
        assert!(emu.envelopes().iter().any(|e| e.seq == said.seq && e.gave_up && !e.acked));
        running.shutdown(T).await;
    }
}
