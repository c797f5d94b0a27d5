//! Shared by the OAuth end-to-end tests: an emulator delivering to a Request URL, an app
//! serving many workspaces over HTTP with the install flow, and a browser (cookies by hand).
#![allow(dead_code)]

#[path = "../../../../tests/tests/http_support/mod.rs"]
pub mod http_support;

pub use http_support::{Answer, SECRET, raw};
use slack_rtm::app::App;
use slack_rtm::app::http::{HttpApp, HttpConfig};
use slack_rtm::app::oauth::{ClientSecret, InstallConfig, Installations, OAuthClient, StateSecret};
use slack_rtm::codec::ApiBase;
use slack_rtm_emulator::{Emulator, EmulatorConfig, HttpDeliveryConfig};
use std::net::SocketAddr;
use std::time::Duration;

/// The state secret of the apps under test.
pub const STATE_SECRET: &[u8] = b"state-secret-for-the-oauth-tests-0123";
pub const WAIT: Duration = Duration::from_secs(10);

/// An emulator signing its deliveries with [`SECRET`].
pub async fn emulator() -> Emulator {
    let config =
        EmulatorConfig::default().http_delivery(HttpDeliveryConfig::default().signing_secret(SECRET));
    Emulator::start(config).await.unwrap()
}

/// The app's OAuth client for `emu`.
pub fn oauth_client(emu: &Emulator) -> OAuthClient {
    OAuthClient {
        client_id: emu.oauth_client_id(),
        client_secret: ClientSecret::new(emu.oauth_client_secret()),
        scopes: vec!["chat:write".into(), "channels:history".into()],
        user_scopes: vec![],
        redirect_uri: None,
        api_base: ApiBase::parse(&emu.api_url(), true).unwrap(),
    }
}

/// The app's Web client on `emu`: only its transport and API base are used (tokens come from
/// the installations).
pub fn base_web(emu: &Emulator) -> slack_rtm::WebClient {
    slack_rtm::Client::builder("xoxb-none").api_url(&emu.api_url()).allow_insecure(true).build_web().unwrap()
}

/// Serves `app` over HTTP with the install flow into `installations`, and points the
/// emulator's Request URL at it.
pub async fn serve(emu: &Emulator, mut app: App, installations: &Installations) -> HttpApp {
    app.installations(installations.clone());
    let web = base_web(emu);
    let install =
        InstallConfig::new(oauth_client(emu), StateSecret::new(STATE_SECRET.to_vec()), installations);
    let config = HttpConfig::new(SECRET).unwrap().install(install);
    let running = app.start_http(web, "127.0.0.1:0".parse().unwrap(), config).await.unwrap();
    emu.set_request_url(Some(&running.url())).await.unwrap();
    running
}

/// An app answering `ping` with `pong` through `say` (the request's workspace's token).
pub fn pong_app() -> App {
    let mut app = App::new();
    app.message(slack_rtm::app::Regex::new("^ping").unwrap(), |_, ctx| async move {
        ctx.say("pong").await?;
        Ok(())
    });
    app
}

/// `http://host:port/path?query` → (address, path and query).
pub fn split(url: &str) -> (SocketAddr, String) {
    let rest = url.strip_prefix("http://").expect(url);
    let (host, path) = rest.split_once('/').expect(url);
    (host.parse().expect(url), format!("/{path}"))
}

pub async fn get(addr: SocketAddr, path: &str, cookie: Option<&str>) -> Answer {
    let headers: Vec<(String, String)> =
        cookie.map(|c| ("Cookie".to_owned(), c.to_owned())).into_iter().collect();
    raw(addr, "GET", path, &headers, b"").await
}

/// What a browser keeps between the install page and the redirect.
pub struct Started {
    /// `name=value` of the browser cookie.
    pub cookie: String,
    /// The `Set-Cookie` header as sent.
    pub set_cookie: String,
    /// The authorize URL.
    pub authorize: String,
}

/// `GET /slack/install`.
pub async fn start_install(app: SocketAddr) -> Started {
    let a = get(app, "/slack/install", None).await;
    assert_eq!(a.status, 302, "{}", a.text());
    let set_cookie = a.header("set-cookie").expect("a cookie").to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    Started { cookie, set_cookie, authorize: a.header("location").expect("a redirect").to_owned() }
}

/// The authorize page's redirect back to the app (path and query on the app).
pub async fn authorize(started: &Started) -> String {
    let (emu_addr, path) = split(&started.authorize);
    let a = get(emu_addr, &path, None).await;
    assert_eq!(a.status, 302, "{}", a.text());
    split(a.header("location").unwrap()).1
}

/// A whole install approved into `target` (a team or an org): the final page.
pub async fn install(emu: &Emulator, app: SocketAddr, target: &str) -> Answer {
    emu.oauth().approve_next(target);
    let started = start_install(app).await;
    let back = authorize(&started).await;
    get(app, &back, Some(&started.cookie)).await
}

/// The query parameter `name` of a path.
pub fn param(path: &str, name: &str) -> Option<String> {
    // Codes, states and errors are `[A-Za-z0-9._-]`: nothing to decode.
    let query = path.split_once('?')?.1;
    query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
}

/// A fresh temporary directory.
pub fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("slack-rtm-oauth-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Waits until `f` holds (polling every 20 ms) or panics with `what`.
pub async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
