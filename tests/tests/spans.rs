//! Every session's logs carry a span with its id and, once known, its team (RTM) or app
//! (Socket Mode); every socket's, a span with its index inside it. So the logs of a fleet
//! gateway, or of thousands of sessions in one process, can be told apart.

use slack_rtm::SocketModeClient;
use slack_rtm_emulator::{Emulator, EmulatorConfig, SocketModeServerConfig as EmuSm, SocketTarget, Target};
use slack_rtm_tests::session::{Client, session_config};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything logged on this thread (the tests run on a current-thread runtime).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn lines(&self, containing: &str) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines().filter(|l| l.contains(containing)).map(str::to_owned).collect()
    }
}

#[tokio::test]
async fn an_rtm_session_logs_in_its_span_and_each_socket_in_its_own() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    emu.close_connection(Target::All, 4001, "test");
    c.until("Disconnected", |e| matches!(e, slack_rtm_session::SessionEvent::Disconnected { .. })).await;
    c.connected().await;
    c.handle.shutdown(Duration::from_secs(1)).await;
    let ended = logs.lines("socket ended");
    let team = emu.team().id;
    let line = ended.first().unwrap_or_else(|| panic!("no `socket ended` line: {:?}", logs.lines("")));
    assert!(line.contains("rtm_session{session="), "{line}");
    assert!(line.contains(&format!("team={}", team.as_str())), "the team is recorded once known: {line}");
    assert!(line.contains("}:socket{conn=1}"), "the socket's span inside the session's: {line}");
}

#[tokio::test]
async fn a_socket_mode_session_logs_its_app_and_its_sockets() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let emu = Emulator::start(EmulatorConfig::default().socket_mode(EmuSm::default().ping_interval(None)))
        .await
        .unwrap();
    let builder = SocketModeClient::builder(emu.app_token()).api_url(&emu.api_url()).allow_insecure(true);
    let (client, _items) = builder.connect().await.unwrap();
    emu.drop_socket(SocketTarget::All);
    emu.wait_for_open_sockets(2, Duration::from_secs(10)).await.unwrap();
    client.shutdown().await;
    let ended = logs.lines("socket ended");
    let line = ended.first().unwrap_or_else(|| panic!("no `socket ended` line: {:?}", logs.lines("")));
    assert!(line.contains("socket_mode_session{session="), "{line}");
    assert!(
        line.contains(&format!("app={}", emu.app_id())),
        "the app is recorded once a socket said hello: {line}"
    );
    assert!(line.contains(":socket{conn="), "{line}");
}
