//! The whole session through a proxy: the facade's `rtm.connect` call and its WebSocket take the
//! same proxy route (one decision in the built-in transport), with TLS end to end; a refusing
//! proxy is reported with its status and without its credentials.

use slack_rtm::rtm::SessionEvent;
use slack_rtm::socket_mode::SocketModeItem;
use slack_rtm::{Client, SocketModeClient};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use slack_rtm_tests::proxy::{Asked, asked, basic, connect_proxy};
use std::sync::Arc;
use std::time::Duration;

const PASSWORD: &str = "S3ssionPr0xy";

async fn tls_emulator() -> (Emulator, Arc<rustls::ClientConfig>) {
    let emu = Emulator::start(EmulatorConfig::default().tls(true)).await.unwrap();
    let tls = Arc::new(emu.tls_client_config().unwrap());
    (emu, tls)
}

#[tokio::test]
async fn the_api_call_and_the_websocket_are_both_tunnelled_through_the_configured_proxy() {
    let (emu, tls) = tls_emulator().await;
    let (proxy, log) = connect_proxy(None, false).await;
    let (client, mut events) = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .tls_config(tls)
        .proxy(&format!("http://bot:{PASSWORD}@{proxy}"))
        .connect_timeout(Some(Duration::from_secs(10)))
        .connect()
        .await
        .expect("the session connects through the proxy");
    // Events flow over the tunnelled socket.
    let general = emu.general_channel();
    let user = emu.second_user().user;
    emu.post_message(&general, &user, "through the tunnel");
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(ev) = events.next().await {
            if let SessionEvent::Rtm(slack_rtm::rtm::Event::Message(m)) = ev
                && m.text.as_deref() == Some("through the tunnel")
            {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(seen, "the message arrives over the proxied socket");
    assert_eq!(emu.connection_count(), 1);

    let auth = Some(basic(&format!("bot:{PASSWORD}")));
    let emu_addr = emu.local_addr().to_string();
    let log = asked(&log);
    // One tunnel for the API call (rtm.connect), one for the socket: nothing went around it.
    assert_eq!(
        log,
        vec![
            Asked { target: emu_addr.clone(), auth: auth.clone(), by_name: false },
            Asked { target: emu_addr, auth, by_name: false },
        ],
        "both the API host and the socket host must be tunnelled"
    );
    client.shutdown().await;
}

#[tokio::test]
async fn a_refusing_proxy_is_reported_with_its_status_and_without_credentials() {
    let (emu, tls) = tls_emulator().await;
    let (proxy, log) = connect_proxy(Some("HTTP/1.1 403 Forbidden\r\n\r\n"), false).await;
    let err = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .tls_config(tls)
        .proxy(&format!("http://bot:{PASSWORD}@{proxy}"))
        .connect_timeout(Some(Duration::from_secs(2)))
        .connect()
        .await
        .expect_err("a proxy that refuses every tunnel cannot connect");
    let shown = format!("{err} / {err:?}");
    assert!(shown.contains("403"), "the proxy's status is named: {shown}");
    assert!(!shown.contains(PASSWORD), "credentials never shown: {shown}");
    assert!(!asked(&log).is_empty(), "the proxy was asked");
    assert_eq!(emu.connection_count(), 0);
}

#[tokio::test]
async fn socket_mode_opens_and_every_socket_are_tunnelled_through_the_configured_proxy() {
    let (emu, tls) = tls_emulator().await;
    let (proxy, log) = connect_proxy(None, false).await;
    let (client, mut items) = SocketModeClient::builder(emu.app_token())
        .api_url(&emu.api_url())
        .tls_config(tls)
        .proxy(&format!("http://bot:{PASSWORD}@{proxy}"))
        .connections(2)
        .connect_timeout(Some(Duration::from_secs(10)))
        .connect()
        .await
        .expect("Socket Mode connects through the proxy");
    // An envelope arrives over a proxied socket.
    emu.send_api_event(serde_json::json!({"type": "app_mention", "text": "via proxy", "channel": "C1", "user": "U1", "ts": "1.1"}));
    let delivered = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(item) = items.next().await {
            if let SocketModeItem::Envelope(d) = item {
                return Some(d.envelope_type().to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    assert_eq!(delivered.as_deref(), Some("events_api"));
    // Wait for the second socket too, then compare: every apps.connections.open call and every
    // socket went through the proxy, nothing around it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while emu.open_sockets().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(emu.open_sockets().len(), 2);
    let auth = Some(basic(&format!("bot:{PASSWORD}")));
    let emu_addr = emu.local_addr().to_string();
    let log = asked(&log);
    let sockets = emu.sockets().len();
    let opens = emu.apps_connections_open_calls().len();
    assert_eq!(sockets, 2);
    assert!(opens >= 2, "{opens}");
    // The API calls share pooled tunnels; each socket has its own.
    assert!(log.len() > sockets && log.len() <= sockets + opens, "{log:?}");
    assert!(
        log.iter().all(|a| *a == Asked { target: emu_addr.clone(), auth: auth.clone(), by_name: false }),
        "{log:?}"
    );
    client.shutdown().await;
}
