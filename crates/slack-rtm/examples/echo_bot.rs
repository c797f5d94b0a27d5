//! An echo bot: answers every message from a person with the same text.
//!
//! ```text
//! cargo run -p slack-rtm --example echo_bot                 # scripted, against a local emulator
//! SLACK_BOT_TOKEN=xoxb-… cargo run -p slack-rtm --example echo_bot   # for real, until Ctrl-C
//! ```
//!
//! Without `SLACK_BOT_TOKEN` (or `SLACK_TOKEN`), the example starts the emulator, has the user `alice` post two
//! messages, prints `acked <ts>` for each echo, checks the emulator recorded exactly those
//! echoes, and exits. With `SLACK_BOT_TOKEN` (and optionally `SLACK_API_URL`) it runs until Ctrl-C.

use slack_rtm::rtm::Event;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::{Client, Events};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::error::Error;

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

#[tokio::main]
async fn main() -> BoxResult<()> {
    match std::env::var("SLACK_BOT_TOKEN").or_else(|_| std::env::var("SLACK_TOKEN")) {
        Ok(token) if !token.trim().is_empty() => {
            let mut builder = Client::builder(token.trim());
            if let Ok(url) = std::env::var("SLACK_API_URL") {
                // http:// is only for a local emulator.
                builder = builder.api_url(&url).allow_insecure(url.starts_with("http://"));
            }
            let (client, events) = builder.connect().await?;
            println!("connected; echoing until Ctrl-C");
            let bot = tokio::spawn(echo(client.clone(), events, None));
            tokio::signal::ctrl_c().await?;
            client.shutdown().await;
            bot.await??;
            Ok(())
        }
        _ => scripted().await,
    }
}

/// Echoes messages from people until the stream ends, or after `limit` echoes.
/// Returns the `ts` of every acknowledged echo.
async fn echo(client: Client, mut events: Events, limit: Option<usize>) -> BoxResult<Vec<String>> {
    let me = client.self_info().map(|s| s.id);
    let mut acked = Vec::new();
    while let Some(event) = events.next().await {
        match event {
            SessionEvent::Rtm(Event::Message(msg)) => {
                // Skip our own messages, bots, and subtypes (edits, joins, …).
                if msg.user.is_none() || msg.user == me || msg.bot_id.is_some() || msg.subtype.is_some() {
                    continue;
                }
                let (Some(channel), Some(text)) = (msg.channel, msg.text) else { continue };
                match client.send_message(channel, text).await {
                    Ok(posted) => {
                        let ts = posted.ts.map(|t| t.as_str().to_owned()).unwrap_or_default();
                        println!("acked {ts}");
                        acked.push(ts);
                    }
                    // `Unconfirmed` / `AckTimeout` may have been posted: don't blindly resend.
                    Err(e) => eprintln!("echo failed: {e}"),
                }
                if limit.is_some_and(|n| acked.len() >= n) {
                    client.shutdown().await;
                }
            }
            SessionEvent::Stopped { reason } if reason.is_error() => return Err(reason.into()),
            SessionEvent::Reconnecting { reason, .. } => eprintln!("reconnecting: {reason}"),
            _ => {}
        }
    }
    Ok(acked)
}

/// The scripted run against a local emulator.
async fn scripted() -> BoxResult<()> {
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    let (client, events) =
        Client::builder(emu.token()).api_url(&emu.api_url()).allow_insecure(true).connect().await?;
    let alice = emu.second_user();
    let channel = emu.general_channel();
    // `connect` returned after `hello`: events posted now reach the bot.
    for text in ["hello echo bot", "echo this too"] {
        emu.post_message(&channel, &alice.user, text).ok_or("the emulator refused the post")?;
    }
    let acked = echo(client, events, Some(2)).await?;
    // Compare with the emulator's own record.
    let recorded: Vec<String> = emu
        .posted_messages()
        .into_iter()
        .filter(|m| m.user == emu.bot_user())
        .map(|m| m.ts.as_str().to_owned())
        .collect();
    if recorded != acked {
        return Err(format!("the emulator recorded {recorded:?}, the bot saw acks {acked:?}").into());
    }
    println!("echo_bot: {} echoes acknowledged and recorded by the emulator", acked.len());
    emu.shutdown().await;
    Ok(())
}
