//! A Slack app on [`App`]: a slash command, messages, mentions, a button, a shortcut opening a
//! modal, its submission, an external select's options — and a listener that panics.
//!
//! ```text
//! cargo run -p slack-rtm --example app          # a scene played against a local emulator
//! SLACK_APP_TOKEN=xapp-… SLACK_BOT_TOKEN=xoxb-… [SLACK_API_URL=…] cargo run -p slack-rtm --example app
//! SLACK_SIGNING_SECRET=… SLACK_BOT_TOKEN=xoxb-… [SLACK_API_URL=…] cargo run -p slack-rtm --example app -- --http 127.0.0.1:3000
//! ```
//!
//! On HTTP the first line of stdout is the Request URL it serves (events, commands,
//! interactions and options all at `/slack/events`); `--http 127.0.0.1:0` takes a free port.
//!
//! The listeners are all in [`app`]: whatever receives Slack's requests runs the same app.

use serde_json::{Value, json};
use slack_rtm::SocketModeClient;
use slack_rtm::app::http::HttpConfig;
use slack_rtm::app::{App, MessageResponse, OptionsResponse, Regex, ViewResponse};
use std::io::Write;

#[path = "support/app_scene.rs"]
mod scene;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const FRUITS: [&str; 5] = ["apple", "banana", "cherry", "date", "elderberry"];

/// Every listener of the app.
fn app() -> App {
    let mut app = App::new(); // ignores its own messages by default
    app.command(
        "/echo",
        |cmd, ack, _| async move { Ok(ack.ack_with(MessageResponse::text(cmd.text)).await?) },
    );
    app.message(Regex::new("^ping").expect("a valid pattern"), |msg, ctx| async move {
        let (Some(channel), Some(ts)) = (msg.channel, msg.ts) else { return Ok(()) };
        ctx.web().post_message(channel, "pong").in_thread(ts).await?;
        Ok(())
    });
    app.message(
        Regex::new("^panic$").expect("a valid pattern"),
        |_, _| async move { panic!("asked to panic") },
    );
    app.app_mention(|m, ctx| async move {
        let user = m.user.map(|u| u.to_string()).unwrap_or_default();
        let thread = m.thread_ts.unwrap_or(m.ts);
        ctx.web().post_message(m.channel, format!("hi <@{user}>")).in_thread(thread).await?;
        Ok(())
    });
    app.action("approve", |action, ack, ctx| async move {
        ack.ack().await?;
        ctx.respond(MessageResponse::replace_original(format!("Approved by <@{}>", action.user.id))).await?;
        Ok(())
    });
    app.shortcut("open_form", |shortcut, ack, ctx| async move {
        ack.ack().await?;
        let trigger = shortcut.trigger_id.ok_or("no trigger_id")?;
        ctx.web().open_view(trigger, form()).await?;
        Ok(())
    });
    app.view_submission("form", |sub, ack, ctx| async move {
        let name = sub.view.state.text("name", "value").unwrap_or_default().to_owned();
        if name.trim().is_empty() {
            return Ok(ack.ack_with(ViewResponse::errors([("name", "Please enter a name")])).await?);
        }
        ack.ack().await?;
        ctx.web().post_message(sub.user.id.as_str(), format!("Thanks, {name}")).await?;
        Ok(())
    });
    app.options("pick", |req, ack, _| async move {
        let typed = req.value.to_lowercase();
        let matching = FRUITS.into_iter().filter(|f| f.contains(typed.as_str()));
        Ok(ack.ack_with(OptionsResponse::from_values(matching)).await?)
    });
    app
}

/// The modal `open_form` opens.
fn form() -> Value {
    json!({
        "type": "modal", "callback_id": "form",
        "title": {"type": "plain_text", "text": "Your name"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [{"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
                    "element": {"type": "plain_text_input", "action_id": "value"}}]
    })
}

/// Plain `http://` (and `ws://`) only for an API on this machine.
fn is_loopback(url: &str) -> bool {
    let host = url.parse::<slack_rtm::transport::http::Uri>().ok().and_then(|u| u.host().map(str::to_owned));
    host.is_some_and(|h| {
        h == "localhost"
            || h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    })
}

/// `--http ADDR` from the command line.
fn http_addr() -> Result<Option<std::net::SocketAddr>, BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().position(|a| a == "--http") {
        Some(i) => Ok(Some(args.get(i + 1).ok_or("--http needs an address, e.g. 127.0.0.1:3000")?.parse()?)),
        None => Ok(None),
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.trim().is_empty());
    let ctrl_c = async { tokio::signal::ctrl_c().await.unwrap_or_default() };
    if let Some(addr) = http_addr()? {
        let secret = var("SLACK_SIGNING_SECRET").ok_or("--http needs SLACK_SIGNING_SECRET")?;
        let bot_token = var("SLACK_BOT_TOKEN").unwrap_or_else(|| "xoxb-none".to_owned());
        let mut web = slack_rtm::Client::builder(bot_token.trim());
        if let Some(url) = var("SLACK_API_URL") {
            web = web.api_url(url.trim()).allow_insecure(is_loopback(url.trim()));
        }
        let running = app().start_http(web.build_web()?, addr, HttpConfig::new(secret)?).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", running.url())?;
        out.flush()?;
        drop(out);
        running.run_until(ctrl_c, std::time::Duration::from_secs(5)).await;
        return Ok(());
    }
    let (Some(app_token), Some(bot_token)) = (var("SLACK_APP_TOKEN"), var("SLACK_BOT_TOKEN")) else {
        return scene::play(app()).await;
    };
    let mut builder = SocketModeClient::builder(app_token.trim()).web_token(bot_token.trim());
    if let Some(url) = var("SLACK_API_URL") {
        builder = builder.api_url(url.trim()).allow_insecure(is_loopback(url.trim()));
    }
    let running = app().start_socket_mode(builder).await?;
    println!("app: running on Socket Mode until Ctrl-C");
    running.run_until(ctrl_c, std::time::Duration::from_secs(5)).await;
    Ok(())
}
