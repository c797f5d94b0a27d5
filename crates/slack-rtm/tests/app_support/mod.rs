//! Helpers for the app tests that drive a `Dispatcher` directly: requests built as Slack
//! sends them, and an acknowledger that records what was acked and when.

#![allow(dead_code)]

use serde_json::{Value, json};
use slack_rtm::Client;
use slack_rtm::app::{AckFuture, App, AppRequest, BotIdentity, Dispatcher, RequestKind};
use slack_rtm::types::RawJson;
use slack_rtm::types::UserId;
use slack_rtm::{SocketModeClient, WebClient};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The bot user the tests' events are delivered to.
pub const BOT: &str = "UBOT";

/// One recorded ack: its body and when it was sent.
#[derive(Clone, Debug)]
pub struct Acked {
    pub body: Option<Value>,
    pub at: Instant,
}

/// What an acknowledger recorded.
#[derive(Clone, Default)]
pub struct Acks(Arc<Mutex<Vec<Acked>>>);

impl Acks {
    pub fn acknowledger(&self) -> Box<dyn slack_rtm::app::Acknowledger> {
        let acks = self.0.clone();
        Box::new(move |body: Option<Value>| -> AckFuture {
            acks.lock().unwrap().push(Acked { body, at: Instant::now() });
            Box::pin(async { Ok(()) })
        })
    }

    pub fn all(&self) -> Vec<Acked> {
        self.0.lock().unwrap().clone()
    }
}

/// A dispatcher for `app` with a Web client that is never called (nothing listens there)
/// and a known bot.
pub fn dispatcher(app: App) -> Dispatcher {
    let web = Client::builder("xoxb-test")
        .api_url("http://127.0.0.1:9/api/")
        .allow_insecure(true)
        .build_web()
        .expect("a web client");
    app.into_dispatcher_with(web, BotIdentity { user_id: Some(UserId::from(BOT)), bot_id: None })
}

/// An `events_api` request around `event`.
pub fn event(event: Value) -> AppRequest {
    let payload = json!({
        "type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": "Ev1", "event_time": 1,
        "authorizations": [{"team_id": "T1", "user_id": BOT, "is_bot": true}],
        "event": event,
    });
    AppRequest::new(RequestKind::EventsApi, RawJson::from_value(&payload).unwrap())
}

/// A `message` event from `user` in `channel`.
pub fn message(user: &str, channel: &str, text: &str) -> AppRequest {
    event(json!({"type": "message", "user": user, "channel": channel, "text": text, "ts": "1.000001"}))
}

/// A slash command.
pub fn command(name: &str, text: &str) -> AppRequest {
    let payload =
        json!({"command": name, "text": text, "user_id": "U1", "channel_id": "C1", "team_id": "T1"});
    AppRequest::new(RequestKind::SlashCommands, RawJson::from_value(&payload).unwrap())
}

/// An `interactive` request.
pub fn interactive(payload: Value) -> AppRequest {
    AppRequest::new(RequestKind::Interactive, RawJson::from_value(&payload).unwrap())
}

/// A `block_actions` with one button.
pub fn block_action(action_id: &str, block_id: &str) -> AppRequest {
    interactive(json!({
        "type": "block_actions", "user": {"id": "U1"}, "team": {"id": "T1"}, "channel": {"id": "C1"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": block_id, "value": "v"}],
    }))
}

/// Sends a request and the time it was dispatched.
pub async fn send(d: &Dispatcher, req: AppRequest, acks: &Acks) -> Instant {
    let at = Instant::now();
    d.dispatch(req, acks.acknowledger()).await.expect("taken");
    at
}

/// Lets spawned tasks run until they are all waiting (paused clock: time does not move).
pub async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

/// Registers a listener of every message on `app` that sends the message's text to `tx`.
pub fn texts_to(app: &mut App, tx: tokio::sync::mpsc::UnboundedSender<String>) {
    app.message("", move |m, _| {
        let tx = tx.clone();
        async move {
            tx.send(m.text.unwrap_or_default()).unwrap();
            Ok(())
        }
    });
}

/// What listeners did, in order.
pub type Log = Arc<Mutex<Vec<String>>>;

/// Registers a message listener that logs `start TEXT`, waits `pause(TEXT)`, then logs
/// `end TEXT`.
pub fn log_start_and_end(app: &mut App, log: &Log, pause: fn(&str) -> Duration) {
    let l = log.clone();
    app.message("", move |m, _| {
        let l = l.clone();
        async move {
            let text = m.text.unwrap_or_default();
            l.lock().unwrap().push(format!("start {text}"));
            tokio::time::sleep(pause(&text)).await;
            l.lock().unwrap().push(format!("end {text}"));
            Ok(())
        }
    });
}

/// A fresh emulator and `app` running on Socket Mode against it, with the app's Web client.
pub async fn start_on_emulator(app: App) -> (Emulator, slack_rtm::app::SocketModeApp, WebClient) {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let builder = SocketModeClient::builder(emu.app_token())
        .web_token(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true);
    let running = app.start_socket_mode(builder).await.unwrap();
    let web = running.dispatcher().web().clone();
    (emu, running, web)
}

/// Waits (up to 10 s each) until the listeners sent every text of `sent` to `rx` once, and
/// every envelope the emulator sent was acked once; then checks that nothing comes twice.
pub async fn each_handled_and_acked_once(
    emu: &Emulator,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    sent: &[String],
) {
    const T: Duration = Duration::from_secs(10);
    let mut got = Vec::new();
    while got.len() < sent.len() {
        got.push(tokio::time::timeout(T, rx.recv()).await.unwrap().unwrap());
    }
    let mut sent_sorted = sent.to_vec();
    got.sort();
    sent_sorted.sort();
    assert_eq!(got, sent_sorted, "each once");
    let deadline = Instant::now() + T;
    loop {
        let records = emu.envelopes();
        if records.len() >= sent.len() && records.iter().all(|r| r.acked) {
            assert!(records.iter().all(|r| r.attempts.len() == 1), "{records:?}");
            break;
        }
        assert!(Instant::now() < deadline, "not acked: {records:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(tokio::time::timeout(Duration::from_millis(200), rx.recv()).await.is_err(), "nothing twice");
}

/// A log sink for the test's subscriber.
#[derive(Clone, Default)]
pub struct Logs(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// This thread's logs, captured while the guard lives.
pub fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber =
        tracing_subscriber::fmt().with_writer(move || sink.clone()).with_ansi(false).without_time().finish();
    (logs, tracing::subscriber::set_default(subscriber))
}
