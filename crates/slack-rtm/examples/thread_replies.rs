//! A bot that answers in threads: every message from a person gets a reply in its thread (a
//! message that is itself in a thread gets its answer in that same thread).
//!
//! ```text
//! cargo run -p slack-rtm --example thread_replies                 # scripted, local emulator
//! SLACK_BOT_TOKEN=xoxb-… cargo run -p slack-rtm --example thread_replies   # for real, until Ctrl-C
//! ```
//!
//! Without `SLACK_BOT_TOKEN` (or `SLACK_TOKEN`), the example starts the emulator, has `alice` ask two questions,
//! prints `replied in thread <parent> with <ts>` for each answer, checks the emulator recorded
//! each answer with the right `thread_ts`, and exits.

use slack_rtm::rtm::Event;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::types::Ts;
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
                builder = builder.api_url(&url).allow_insecure(url.starts_with("http://"));
            }
            let (client, events) = builder.connect().await?;
            println!("connected; answering in threads until Ctrl-C");
            let bot = tokio::spawn(answer(client.clone(), events, None));
            tokio::signal::ctrl_c().await?;
            client.shutdown().await;
            bot.await??;
            Ok(())
        }
        _ => scripted().await,
    }
}

/// Answers in threads until the stream ends or after `limit` answers. Returns
/// `(parent, reply)` timestamps.
async fn answer(client: Client, mut events: Events, limit: Option<usize>) -> BoxResult<Vec<(Ts, Ts)>> {
    let me = client.self_info().map(|s| s.id);
    let mut replies = Vec::new();
    while let Some(event) = events.next().await {
        match event {
            SessionEvent::Rtm(Event::Message(msg)) => {
                if msg.user.is_none() || msg.user == me || msg.bot_id.is_some() || msg.subtype.is_some() {
                    continue;
                }
                let (Some(channel), Some(ts)) = (msg.channel, msg.ts) else { continue };
                // Stay in the thread the message belongs to, or start one under it.
                let parent = msg.thread_ts.unwrap_or(ts);
                let words = msg.text.as_deref().unwrap_or("").split_whitespace().count();
                let text = format!("Thanks! Your message had {words} words.");
                match client.send_message(channel, text).in_thread(parent.clone()).await {
                    Ok(posted) => {
                        let Some(reply) = posted.ts else { continue };
                        println!("replied in thread {parent} with {reply}");
                        replies.push((parent, reply));
                    }
                    Err(e) => eprintln!("reply failed: {e}"),
                }
                if limit.is_some_and(|n| replies.len() >= n) {
                    client.shutdown().await;
                }
            }
            SessionEvent::Stopped { reason } if reason.is_error() => return Err(reason.into()),
            _ => {}
        }
    }
    Ok(replies)
}

async fn scripted() -> BoxResult<()> {
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    let (client, events) =
        Client::builder(emu.token()).api_url(&emu.api_url()).allow_insecure(true).connect().await?;
    let alice = emu.second_user();
    let channel = emu.general_channel();
    let mut questions = Vec::new();
    for text in ["how do threads work?", "and can a bot use them too?"] {
        questions.push(emu.post_message(&channel, &alice.user, text).ok_or("the emulator refused the post")?);
    }
    let replies = answer(client, events, Some(questions.len())).await?;
    // Each answer is recorded by the emulator in the thread of its question.
    let recorded: Vec<(Ts, Ts)> = emu
        .posted_messages()
        .into_iter()
        .filter(|m| m.user == emu.bot_user())
        .filter_map(|m| Some((m.thread_ts?, m.ts)))
        .collect();
    let parents: Vec<Ts> = replies.iter().map(|(p, _)| p.clone()).collect();
    if recorded != replies || parents != questions {
        return Err(format!("recorded {recorded:?}, acked {replies:?}, questions {questions:?}").into());
    }
    println!("thread_replies: {} answers, each in its question's thread", replies.len());
    emu.shutdown().await;
    Ok(())
}
