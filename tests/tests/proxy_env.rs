//! `proxy_from_env` on the Socket Mode builder, which has its own settings (not an RTM builder
//! with an empty token): on (the default), `HTTPS_PROXY` or `ALL_PROXY` carry both
//! `apps.connections.open` and the socket; off, nothing goes to the proxy. One test in its own
//! binary: it sets the process environment.

use slack_rtm::SocketModeClient;
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use slack_rtm_tests::proxy::{Asked, asked, connect_proxy};
use std::sync::Arc;
use std::time::Duration;

const VARS: &[&str] = &[
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "http_proxy",
    "HTTP_PROXY",
];

fn set_env(name: &str, value: Option<&str>) {
    // SAFETY: the only test of this binary; nothing else reads the environment meanwhile.
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

async fn connect_and_stop(emu: &Emulator, tls: &Arc<rustls::ClientConfig>, from_env: bool) {
    let (client, _items) = SocketModeClient::builder(emu.app_token())
        .api_url(&emu.api_url())
        .tls_config(tls.clone())
        .proxy_from_env(from_env)
        .connections(1)
        .connect_timeout(Some(Duration::from_secs(10)))
        .connect()
        .await
        .expect("Socket Mode connects");
    client.shutdown().await;
}

#[tokio::test]
async fn socket_mode_honours_proxy_from_env() {
    VARS.iter().for_each(|v| set_env(v, None));
    let emu = Emulator::start(EmulatorConfig::default().tls(true)).await.unwrap();
    let tls = Arc::new(emu.tls_client_config().unwrap());
    let emu_addr = emu.local_addr().to_string();
    let through = |log: &[Asked]| log.iter().all(|a| a.target == emu_addr && a.auth.is_none());

    for var in ["HTTPS_PROXY", "ALL_PROXY"] {
        let (proxy, log) = connect_proxy(None, false).await;
        set_env(var, Some(&format!("http://{proxy}")));

        connect_and_stop(&emu, &tls, false).await;
        assert!(asked(&log).is_empty(), "{var}, proxy_from_env(false): no tunnel: {:?}", asked(&log));

        let opens = emu.apps_connections_open_calls().len();
        connect_and_stop(&emu, &tls, true).await;
        let log = asked(&log);
        // One tunnel for apps.connections.open, one for the socket.
        assert_eq!(log.len(), 2, "{var}: {log:?}");
        assert!(through(&log), "{var}: {log:?}");
        assert_eq!(emu.apps_connections_open_calls().len(), opens + 1);
        set_env(var, None);
    }
}
