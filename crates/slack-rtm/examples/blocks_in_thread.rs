//! A bot that listens on RTM and answers through the Web API: every question gets a Block Kit
//! reply in its thread (`chat.postMessage` with `blocks` and `thread_ts`, over the session's
//! own transport with `client.web()`), and a 👀 reaction on the question.
//!
//! ```text
//! cargo run -p slack-rtm --example blocks_in_thread                 # scripted, local emulator
//! SLACK_BOT_TOKEN=xoxb-… cargo run -p slack-rtm --example blocks_in_thread   # for real, until Ctrl-C
//! ```
//!
//! Without `SLACK_BOT_TOKEN` (or `SLACK_TOKEN`), the example starts the emulator, has `alice` ask two questions,
//! prints `answered <question> with blocks in thread: <reply>` for each, checks the emulator's
//! history has each answer in its question's thread with its blocks, and exits.

use serde_json::json;
use slack_rtm::rtm::Event;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::types::Ts;
use slack_rtm::types::web::RepliesQuery;
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
            println!("connected; answering with blocks until Ctrl-C");
            let bot = tokio::spawn(answer(client.clone(), events, None));
            tokio::signal::ctrl_c().await?;
            client.shutdown().await;
            bot.await??;
            Ok(())
        }
        _ => scripted().await,
    }
}

/// The answer to a question, as Block Kit.
fn blocks_for(question: &str) -> serde_json::Value {
    json!([
        {"type": "section", "text": {"type": "mrkdwn", "text": format!("*You asked:* {question}")}},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "answered by slack-rtm"}]}
    ])
}

/// Answers until the stream ends or after `limit` answers. Returns `(question, reply)`.
async fn answer(client: Client, mut events: Events, limit: Option<usize>) -> BoxResult<Vec<(Ts, Ts)>> {
    let me = client.self_info().map(|s| s.id);
    let web = client.web().clone();
    let mut answered = Vec::new();
    while let Some(event) = events.next().await {
        match event {
            SessionEvent::Rtm(Event::Message(msg)) => {
                if msg.user.is_none() || msg.user == me || msg.bot_id.is_some() || msg.subtype.is_some() {
                    continue;
                }
                let (Some(channel), Some(ts)) = (msg.channel, msg.ts) else { continue };
                let question = msg.text.unwrap_or_default();
                let parent = msg.thread_ts.unwrap_or_else(|| ts.clone());
                let reply = web
                    .post_message(channel.clone(), format!("You asked: {question}"))
                    .blocks(blocks_for(&question))
                    .in_thread(parent)
                    .await;
                match reply {
                    Ok(posted) => {
                        println!("answered {ts} with blocks in thread: {}", posted.ts);
                        web.add_reaction(channel, ts.clone(), "eyes").await?;
                        answered.push((ts, posted.ts));
                    }
                    // Never retried blindly: it may have been posted.
                    Err(e) if e.may_have_been_applied() => eprintln!("reply may have been posted: {e}"),
                    Err(e) => eprintln!("reply failed: {e}"),
                }
                if limit.is_some_and(|n| answered.len() >= n) {
                    client.shutdown().await;
                }
            }
            SessionEvent::Stopped { reason } if reason.is_error() => return Err(reason.into()),
            _ => {}
        }
    }
    Ok(answered)
}

async fn scripted() -> BoxResult<()> {
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    let (client, events) =
        Client::builder(emu.token()).api_url(&emu.api_url()).allow_insecure(true).connect().await?;
    let web = client.web().clone();
    let alice = emu.second_user();
    let channel = emu.general_channel();
    let mut questions = Vec::new();
    for text in ["is the build green?", "when is the next release?"] {
        questions.push(emu.post_message(&channel, &alice.user, text).ok_or("the emulator refused the post")?);
    }
    let answered = answer(client, events, Some(questions.len())).await?;
    let asked: Vec<Ts> = answered.iter().map(|(q, _)| q.clone()).collect();
    if asked != questions {
        return Err(format!("answered {asked:?}, asked {questions:?}").into());
    }
    // Read each thread back: the question, then our answer with its blocks.
    for (question, reply) in &answered {
        let mut pages = web.replies(RepliesQuery::new(channel.clone(), question.clone()));
        let mut thread = Vec::new();
        while let Some(page) = pages.next().await {
            thread.extend(page?.messages);
        }
        let found =
            thread.iter().find(|m| m.ts.as_ref() == Some(reply)).ok_or("the answer is not in the thread")?;
        let blocks = found.blocks.as_ref().ok_or("the answer has no blocks")?.to_value();
        if blocks.as_array().map(Vec::len) != Some(3) || thread[0].reactions.is_none() {
            return Err(format!("unexpected thread: {thread:?}").into());
        }
    }
    println!("blocks_in_thread: {} answers with blocks, each in its question's thread", answered.len());
    emu.shutdown().await;
    Ok(())
}
