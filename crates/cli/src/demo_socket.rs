//! `slack-rtm demo --socket-mode`: the embedded emulator, a Socket Mode bot (two sockets,
//! manual acks) that answers a slash command through its ack payload and a mention through
//! the Web API, simulated users, a socket refresh halfway (make-before-break), then a summary
//! compared with the emulator's own records.

use crate::cli::exit;
use crate::commands::Failure;
use serde_json::{Value, json};
use slack_rtm::emulator::{Emulator, EmulatorConfig, SocketTarget};
use slack_rtm::{AckMode, Delivery, SocketModeClient, SocketModeItem};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// What the bot saw and did.
#[derive(Default)]
struct Tally {
    envelopes: BTreeMap<String, u64>,
    acks: u64,
    ack_payloads: u64,
    ack_failed: u64,
    web_replies: u64,
    web_failed: u64,
    lifecycle: Vec<String>,
}

/// The simulated users: slash commands, mentions, plain messages, a button click; one
/// refresh of the first socket halfway.
async fn script(emu: Arc<Emulator>, duration: Duration) {
    let channel = emu.general_channel();
    let alice = emu.second_user().user;
    let bob = emu.add_user("bob").user;
    let bot = emu.bot_user();
    let start = tokio::time::Instant::now();
    let mut refreshed = false;
    let mut i = 0u64;
    while start.elapsed() + Duration::from_secs(2) < duration {
        match i % 4 {
            0 => {
                let env = ["staging", "production"][(i / 4 % 2) as usize];
                emu.slash_command(&alice, &channel, "/deploy", env);
            }
            1 => {
                emu.post_message(&channel, &bob, &format!("hey <@{}>, is the deploy done?", bot.as_str()));
            }
            2 => {
                emu.post_message(&channel, &alice, "lunch at noon, anyone?");
            }
            _ => {
                emu.block_action(&bob, &channel, "approve", "deploy_block", "yes");
            }
        }
        i += 1;
        if !refreshed && start.elapsed() >= duration / 2 {
            refreshed = true;
            if let Some(first) = emu.open_sockets().first() {
                emu.refresh_socket(SocketTarget::Socket(*first));
            }
        }
        tokio::time::sleep(Duration::from_millis(900)).await;
    }
}

/// The payload field `key` as a string (or "").
fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// Answers one envelope; returns the line to print.
async fn answer(d: Delivery, client: &SocketModeClient, bot: &str, tally: &mut Tally) -> String {
    *tally.envelopes.entry(d.envelope_type().to_owned()).or_default() += 1;
    let whole = d.to_json();
    let p = &whole["payload"];
    let (line, acked) = match d.envelope_type() {
        "slash_commands" => {
            let text = format!("Deploying {} … done :white_check_mark:", field(p, "text"));
            let line =
                format!("{}: /deploy {}\n    bot, in the ack: {text}", field(p, "user_id"), field(p, "text"));
            let ack = d.ack_with(json!({"response_type": "in_channel", "text": text})).await;
            tally.ack_payloads += u64::from(ack.is_ok());
            (line, ack)
        }
        "events_api" => {
            let event = p["event"].clone();
            let kind = field(&event, "type").to_owned();
            let ack = d.ack().await;
            let user = field(&event, "user");
            let mut line = format!("event {kind} from {user}: {}", field(&event, "text"));
            if kind == "app_mention"
                && user != bot
                && let Some(web) = client.web()
            {
                let reply = format!("Hi <@{user}>! Yes, the deploy is done.");
                let channel = field(&event, "channel").to_owned();
                match web.post_message(channel, reply.as_str()).in_thread(field(&event, "ts")).await {
                    Ok(_) => {
                        tally.web_replies += 1;
                        line.push_str(&format!("\n    bot, in the thread (chat.postMessage): {reply}"));
                    }
                    Err(e) => {
                        tally.web_failed += 1;
                        line.push_str(&format!(" → reply failed: {e}"));
                    }
                }
            }
            (line, ack)
        }
        other => {
            let line = format!("{other} {} from {}", field(p, "type"), field(&p["user"], "id"));
            (line, d.ack().await)
        }
    };
    match acked {
        Ok(()) => tally.acks += 1,
        Err(_) => tally.ack_failed += 1,
    }
    line
}

pub async fn run(duration: Duration, json_out: bool) -> Result<u8, Failure> {
    let emu = Arc::new(
        Emulator::start(EmulatorConfig::default())
            .await
            .map_err(|e| Failure::other(format!("cannot start the embedded emulator: {e}")))?,
    );
    eprintln!(
        "slack-rtm demo (Socket Mode): local Slack at {} — running for {} s (Ctrl-C to stop early)",
        emu.api_url(),
        duration.as_secs()
    );
    let (client, mut items) = SocketModeClient::builder(emu.app_token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .web_token(emu.token())
        .connections(2)
        .ack_mode(AckMode::Manual)
        .connect()
        .await?;
    let bot = emu.bot_user().as_str().to_owned();
    let users = tokio::spawn(script(emu.clone(), duration));
    let mut tally = Tally::default();
    let deadline = tokio::time::Instant::now() + duration;
    let mut ctrl_c = crate::commands::interrupted();
    loop {
        let item = tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = &mut ctrl_c => break,
            item = items.next() => item,
        };
        let Some(item) = item else { break };
        let line = match item {
            SocketModeItem::Envelope(d) => answer(d, &client, &bot, &mut tally).await,
            SocketModeItem::Stopped { reason } => {
                users.abort();
                return Err(Failure::from(slack_rtm::Error::SocketMode(reason)));
            }
            lifecycle => {
                let Some(line) = crate::socket_lines::lifecycle_line(&lifecycle) else { continue };
                tally.lifecycle.push(line.clone());
                line
            }
        };
        if !json_out {
            println!("{line}");
        }
    }
    users.abort();
    client.shutdown().await;
    while items.next().await.is_some() {}
    let records = emu.envelopes();
    let acks = emu.acks();
    let summary = json!({
        "bot": {
            "envelopes": tally.envelopes,
            "acks": tally.acks,
            "acks_with_payload": tally.ack_payloads,
            "acks_failed": tally.ack_failed,
            "web_replies": tally.web_replies,
            "web_failed": tally.web_failed,
            "lifecycle": tally.lifecycle,
        },
        "emulator": {
            "envelopes": records.len(),
            "redeliveries": records.iter().map(|r| r.attempts.len().saturating_sub(1)).sum::<usize>(),
            "unacked": records.iter().filter(|r| !r.acked).count(),
            "acks": acks.len(),
            "late_acks": acks.iter().filter(|a| a.late).count(),
            "acks_with_payload": acks.iter().filter(|a| a.payload.is_some()).count(),
            "chat_post_message_calls": emu.web_calls_of("chat.postMessage").len(),
            "sockets_opened": emu.sockets().len(),
        },
    });
    if json_out {
        println!("{summary}");
    } else {
        crate::demo_table::print_socket_summary(&summary, duration);
    }
    if let Ok(emu) = Arc::try_unwrap(emu) {
        emu.shutdown().await;
    }
    Ok(exit::OK)
}
