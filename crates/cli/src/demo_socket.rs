//! `slack-rtm demo --socket-mode`: the embedded emulator, a Socket Mode bot built on
//! `slack_rtm::App` (two sockets) that answers a slash command through its ack payload and a mention through
//! the Web API, simulated users, a socket refresh halfway (make-before-break), then a summary
//! compared with the emulator's own records.

use crate::cli::exit;
use crate::commands::Failure;
use serde_json::json;
use slack_rtm::SocketModeClient;
use slack_rtm::app::{App, Context, MessageResponse, Next};
use slack_rtm::emulator::{Emulator, EmulatorConfig, SocketTarget};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
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
                emu.send_slash_command(&alice, &channel, "/deploy", env);
            }
            1 => {
                emu.post_message(&channel, &bob, &format!("hey <@{}>, is the deploy done?", bot.as_str()));
            }
            2 => {
                emu.post_message(&channel, &alice, "lunch at noon, anyone?");
            }
            _ => {
                emu.send_block_action(&bob, &channel, "approve", "deploy_block", "yes");
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

/// The app: `/deploy` answered in its ack, a mention answered through the Web API in its
/// thread, a button acked; every request printed and counted.
fn app(tally: Arc<Mutex<Tally>>, bot: String, json_out: bool) -> App {
    let mut app = App::new();
    // The demo shows and counts every envelope, its own messages included (the mention
    // listener skips the bot's).
    app.ignore_self(false);
    let t = tally.clone();
    app.middleware(move |ctx: Context, next: Next| {
        let t = t.clone();
        async move {
            let kind = ctx.kind().as_str().to_owned();
            let ctx2 = ctx.clone();
            let result = next.run(ctx).await;
            let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
            *t.envelopes.entry(kind).or_default() += 1;
            t.acks += u64::from(ctx2.is_acked());
            result
        }
    });
    let print = move |line: String| {
        if !json_out {
            println!("{line}");
        }
    };
    let t = tally.clone();
    app.command("/deploy", move |cmd, ack, _| {
        let t = t.clone();
        async move {
            let text = format!("Deploying {} … done :white_check_mark:", cmd.text);
            let acked = ack.ack_with(MessageResponse::in_channel(text.as_str())).await;
            let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
            if acked.is_ok() {
                t.ack_payloads += 1
            } else {
                t.ack_failed += 1
            }
            print(format!("{}: /deploy {}\n    bot, in the ack: {text}", cmd.user_id, cmd.text));
            Ok(())
        }
    });
    let t = tally.clone();
    app.app_mention(move |m, ctx| {
        let (t, bot) = (t.clone(), bot.clone());
        async move {
            let user = m.user.map(|u| u.to_string()).unwrap_or_default();
            let mut line = format!("event app_mention from {user}: {}", m.text);
            if user != bot {
                let reply = format!("Hi <@{user}>! Yes, the deploy is done.");
                let posted = ctx
                    .web()
                    .post_message(m.channel, reply.as_str())
                    .in_thread(m.thread_ts.unwrap_or(m.ts))
                    .await;
                let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
                match posted {
                    Ok(_) => {
                        t.web_replies += 1;
                        line.push_str(&format!("\n    bot, in the thread (chat.postMessage): {reply}"));
                    }
                    Err(e) => {
                        t.web_failed += 1;
                        line.push_str(&format!(" → reply failed: {e}"));
                    }
                }
            }
            print(line);
            Ok(())
        }
    });
    app.message("", move |m, _| async move {
        let user = m.user.map(|u| u.to_string()).unwrap_or_default();
        print(format!("event message from {user}: {}", m.text.unwrap_or_default()));
        Ok(())
    });
    app.action("approve", move |a, ack, _| async move {
        ack.ack().await?;
        print(format!("interactive block_actions from {}", a.user.id));
        Ok(())
    });
    app
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
    let builder = SocketModeClient::builder(emu.app_token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .web_token(emu.token())
        .connections(2);
    let bot = emu.bot_user().as_str().to_owned();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let running = app(tally.clone(), bot, json_out).start_socket_mode(builder).await?;
    let users = tokio::spawn(script(emu.clone(), duration));
    let ctrl_c = crate::commands::interrupted();
    let stop = async move {
        tokio::select! {
            _ = tokio::time::sleep(duration) => {}
            _ = ctrl_c => {}
        }
    };
    let client = running.client().clone();
    running.run_until(stop, Duration::from_secs(5)).await;
    users.abort();
    if let Some(reason) = client.status().stopped.filter(|r| *r != slack_rtm::StopReason::Shutdown) {
        return Err(Failure::from(slack_rtm::Error::Stopped(reason)));
    }
    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|p| p.into_inner()));
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
