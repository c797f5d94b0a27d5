//! Opening the socket: every WebSocket the session opens goes through the driver's pluggable
//! dialer, whose failures (e.g. a proxy's) reach the application with their message; and TLS
//! comes only from the configuration the caller gives.

use slack_rtm::rtm::Reason;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::transport::BoxedIo;
use slack_rtm::transport::DialFuture;
use slack_rtm::transport::Dialer;
use slack_rtm::transport::DirectDialer;
use slack_rtm::transport::HyperTransport;
use slack_rtm::{Client, Error};
use slack_rtm_emulator::{Emulator, Target};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// Dials directly, recording every `host:port` asked for.
#[derive(Debug, Default)]
struct Recording {
    dialed: Mutex<Vec<(String, u16)>>,
}

impl Dialer for Recording {
    fn dial<'a>(&'a self, host: &'a str, port: u16) -> DialFuture<'a> {
        self.dialed.lock().unwrap().push((host.to_owned(), port));
        DirectDialer.dial(host, port)
    }
}

#[tokio::test]
async fn every_socket_is_opened_through_the_dialer() {
    let emu = Emulator::start(Default::default()).await.expect("emulator");
    let dialer = Arc::new(Recording::default());
    let (client, mut events) = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .dialer(dialer.clone())
        .connect()
        .await
        .expect("connected");
    let port = emu.local_addr().port();
    assert_eq!(*dialer.dialed.lock().unwrap(), vec![("127.0.0.1".to_owned(), port)]);

    // A reconnect opens its socket through the same dialer.
    emu.goodbye(Target::All);
    let reconnected = tokio::time::timeout(WAIT, async {
        while let Some(e) = events.next().await {
            if matches!(e, SessionEvent::Connected { reconnect: true, .. }) {
                return true;
            }
        }
        false
    });
    assert!(reconnected.await.expect("reconnected in time"));
    assert_eq!(*dialer.dialed.lock().unwrap(), vec![("127.0.0.1".to_owned(), port); 2]);
    client.shutdown().await;
    emu.shutdown().await;
}

/// A proxy's own error, as a transport would put it inside an `io::Error`.
#[derive(Debug)]
struct ProxyRefused;

impl std::fmt::Display for ProxyRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the proxy answered 407 Proxy Authentication Required")
    }
}

impl std::error::Error for ProxyRefused {}

#[derive(Debug)]
struct Refusing;

impl Dialer for Refusing {
    fn dial<'a>(&'a self, _host: &'a str, _port: u16) -> DialFuture<'a> {
        Box::pin(async { Err::<BoxedIo, _>(std::io::Error::other(ProxyRefused)) })
    }
}

#[tokio::test]
async fn a_dialer_failure_reaches_the_application_with_its_message_and_no_token() {
    let emu = Emulator::start(Default::default()).await.expect("emulator");
    let token = emu.token();
    let err = Client::builder(token.clone())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .dialer(Arc::new(Refusing))
        .connect_timeout(Some(Duration::from_secs(1)))
        .connect()
        .await
        .expect_err("no socket can open");
    let Error::ConnectTimeout(_, problem) = &err else { panic!("{err:?}") };
    let port = emu.local_addr().port();
    let expected = format!(
        "could not open the socket: could not reach 127.0.0.1:{port}: the proxy answered 407 Proxy Authentication Required"
    );
    assert_eq!(problem, &expected);
    assert!(!format!("{err} {err:?}").contains(&token));
    emu.shutdown().await;
}

/// The session crate picks no TLS configuration of its own: a `wss://` URL without one fails to
/// open, with a reason that says what is missing (and the session keeps retrying).
#[tokio::test]
async fn wss_without_a_tls_configuration_says_so() {
    use slack_rtm::codec::ConnectConfig;
    use slack_rtm::rtm::SessionConfig;
    use slack_rtm::types::Token;
    use slack_rtm_session::driver::{DriverConfig, connect};

    let emu =
        Emulator::start(slack_rtm_emulator::EmulatorConfig::default().tls(true)).await.expect("emulator");
    let tls = Arc::new(emu.tls_client_config().expect("TLS is on"));
    let transport = HyperTransport::builder().tls_config(tls).build().expect("transport");
    let mut dc = DriverConfig::new(SessionConfig::default(), Token::new(emu.token()), Arc::new(transport));
    dc.connect = ConnectConfig::with_api_base(&emu.api_url(), false).expect("api base");
    let (handle, mut events) = connect(dc).expect("driver");
    let reason = tokio::time::timeout(WAIT, async {
        while let Some(e) = events.recv().await {
            if let SessionEvent::Reconnecting { reason, .. } = e {
                return Some(reason);
            }
        }
        None
    })
    .await
    .expect("in time");
    assert_eq!(
        reason,
        Some(Reason::OpenFailed("no TLS configuration for a wss:// URL (set LoopConfig::tls)".into()))
    );
    assert!(emu.open_connections().is_empty());
    handle.shutdown(Duration::ZERO).await;
    emu.shutdown().await;
}
