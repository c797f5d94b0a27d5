//! A Socket Mode app that answers a slash command by opening a modal: `/ticket <summary>`
//! opens a "New ticket" form prefilled with the summary (`views.open` with the command's
//! `trigger_id`, through `client.web()`), and the form's submission is answered in its ack
//! (`response_action: clear` closes the modal).
//!
//! ```text
//! cargo run -p slack-rtm --example slash_modal                  # scripted, local emulator
//! SLACK_APP_TOKEN=xapp-… SLACK_BOT_TOKEN=xoxb-… cargo run -p slack-rtm --example slash_modal
//! ```
//!
//! Without `SLACK_APP_TOKEN`, the example starts the emulator, has `alice` run
//! `/ticket printer on fire` twice, prints `opened <view id> for <summary>` for each, checks the
//! emulator's record of opened views, and exits.
//!
//! The ack must reach Slack within 3 s and a `trigger_id` is valid for 3 s: the app acks the
//! command first (manual ack mode, so that a view submission can be answered in its ack), then
//! opens the modal.

use serde_json::{Value, json};
use slack_rtm::socket_mode::AckMode;
use slack_rtm::socket_mode::SocketModeItem;
use slack_rtm::socket_mode::{Interactive, Payload};
use slack_rtm::{SocketModeClient, SocketModeItems};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::error::Error;

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

#[tokio::main]
async fn main() -> BoxResult<()> {
    let app_token = std::env::var("SLACK_APP_TOKEN").ok().filter(|t| !t.trim().is_empty());
    let bot_token = std::env::var("SLACK_BOT_TOKEN").ok().filter(|t| !t.trim().is_empty());
    match (app_token, bot_token) {
        (Some(app), Some(bot)) => {
            let mut builder =
                SocketModeClient::builder(app.trim()).web_token(bot.trim()).ack_mode(AckMode::Manual);
            if let Ok(url) = std::env::var("SLACK_API_URL") {
                builder = builder.api_url(&url).allow_insecure(url.starts_with("http://"));
            }
            let (client, items) = builder.connect().await?;
            println!("connected; answering /ticket until Ctrl-C");
            let app = tokio::spawn(serve(client.clone(), items, None));
            tokio::signal::ctrl_c().await?;
            client.shutdown().await;
            app.await??;
            Ok(())
        }
        (Some(_), None) => Err("set SLACK_BOT_TOKEN too: views.open needs a bot token".into()),
        _ => scripted().await,
    }
}

/// The "New ticket" modal, prefilled with the command's text.
fn ticket_modal(summary: &str) -> Value {
    json!({
        "type": "modal",
        "callback_id": "new_ticket",
        "title": {"type": "plain_text", "text": "New ticket"},
        "submit": {"type": "plain_text", "text": "Create"},
        "blocks": [{
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {"type": "plain_text_input", "action_id": "value", "initial_value": summary}
        }]
    })
}

/// Serves until the stream ends, or after `limit` modals. Returns `(view id, summary)` of each.
async fn serve(
    client: SocketModeClient,
    mut items: SocketModeItems,
    limit: Option<usize>,
) -> BoxResult<Vec<(String, String)>> {
    let web = client.web().ok_or("no web token")?.clone();
    let mut opened = Vec::new();
    while let Some(item) = items.next().await {
        let SocketModeItem::Envelope(delivery) = item else { continue };
        match delivery.payload() {
            Payload::SlashCommand(cmd) if cmd.command == "/ticket" => {
                delivery.ack().await?; // within 3 s, before anything slow
                let Some(trigger) = cmd.trigger_id else { continue };
                match web.open_view(trigger, ticket_modal(&cmd.text)).await {
                    Ok(view) => {
                        let id = view.view.id.unwrap_or_default();
                        println!("opened {id} for {}", cmd.text);
                        opened.push((id, cmd.text.clone()));
                    }
                    Err(e) => eprintln!("views.open failed: {e}"),
                }
                if limit.is_some_and(|n| opened.len() >= n) {
                    break;
                }
            }
            Payload::Interactive(i) if matches!(*i, Interactive::ViewSubmission(_)) => {
                // Close the modal: the answer travels in the ack.
                delivery.ack_with(json!({"response_action": "clear"})).await?;
            }
            _ => delivery.ack().await?,
        }
    }
    Ok(opened)
}

/// Plays the script against a local emulator and checks its record.
async fn scripted() -> BoxResult<()> {
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    let (client, items) = SocketModeClient::builder(emu.app_token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .web_token(emu.token())
        .ack_mode(AckMode::Manual)
        .connect()
        .await?;
    let app = tokio::spawn(serve(client.clone(), items, Some(2)));
    let (alice, general) = (emu.second_user(), emu.general_channel());
    for summary in ["printer on fire", "printer still on fire"] {
        emu.send_slash_command(&alice.user, &general, "/ticket", summary);
    }
    let opened = tokio::time::timeout(std::time::Duration::from_secs(20), app).await???;
    client.shutdown().await;

    let record = emu.opened_views();
    if record.len() != 2 || opened.len() != 2 {
        return Err(
            format!("expected 2 modals, emulator saw {}, app opened {}", record.len(), opened.len()).into()
        );
    }
    for ((id, summary), view) in opened.iter().zip(&record) {
        let prefilled = view.view.pointer("/blocks/0/element/initial_value").and_then(Value::as_str);
        if &view.id != id || prefilled != Some(summary.as_str()) || view.view["type"] != "modal" {
            return Err(format!("the emulator's view {} does not match {id} / {summary}", view.id).into());
        }
    }
    let acked = emu.acks().len();
    println!("checked: {} modals opened with their commands' triggers, {acked} acks", record.len());
    emu.shutdown().await;
    Ok(())
}
