//! A Slack app installed into many workspaces, served over HTTP: the install flow
//! (`/slack/install`, `/slack/oauth_redirect`), one SQLite file of installations, and each
//! event answered with its own workspace's token.
//!
//! ```text
//! SLACK_SIGNING_SECRET=… SLACK_CLIENT_ID=… SLACK_CLIENT_SECRET=… SLACK_SCOPES=chat:write,channels:history \\
//!   cargo run -p slack-rtm --example multi_workspace -- --http 127.0.0.1:3000 --store sqlite:installs.db
//! ```
//!
//! The first line of stdout is the Request URL. `SLACK_API_URL` points it at another Slack
//! (an emulator): the authorize page is then at that URL's origin.

use slack_rtm::app::http::HttpConfig;
use slack_rtm::app::{App, Regex};
use std::io::Write;

#[path = "support/oauth_setup.rs"]
mod oauth_setup;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

use oauth_setup::is_loopback;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr: std::net::SocketAddr = match args.iter().position(|a| a == "--http") {
        Some(i) => args.get(i + 1).ok_or("--http needs an address")?.parse()?,
        None => "127.0.0.1:3000".parse()?,
    };
    if !oauth_setup::wanted() {
        return Err(
            "set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SCOPES (and --store sqlite:PATH)".into()
        );
    }
    let secret = std::env::var("SLACK_SIGNING_SECRET").map_err(|_| "SLACK_SIGNING_SECRET is not set")?;
    let api = std::env::var("SLACK_API_URL").ok();
    let loopback = api.as_deref().is_some_and(is_loopback);

    let mut app = App::new();
    app.message(Regex::new("^ping")?, |_, ctx| async move {
        let team = ctx.team_id().unwrap_or("?").to_owned();
        ctx.say(format!("pong from {team}")).await?;
        Ok(())
    });
    let config = oauth_setup::setup(&mut app, HttpConfig::new(secret)?, loopback)?;
    // Only the transport and API base of this client are used: tokens come from the store.
    let mut web = slack_rtm::Client::builder("xoxb-from-the-store");
    if let Some(url) = &api {
        web = web.api_url(url).allow_insecure(loopback);
    }
    let running = app.start_http(web.build_web()?, addr, config).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", running.url())?;
    out.flush()?;
    drop(out);
    running
        .run_until(
            async { tokio::signal::ctrl_c().await.unwrap_or_default() },
            std::time::Duration::from_secs(5),
        )
        .await;
    Ok(())
}
