//! An AI assistant over Socket Mode: when a user opens an assistant thread it offers suggested
//! prompts; when the user writes in the thread it shows a status ("is thinking…") and answers
//! with a reply streamed from a model as the model writes it (`WebClient::chat_stream`), with
//! feedback buttons at the end. The "model" is a local stand-in: a generator yielding words at
//! a set rate (no network, no weights). Plug a real LLM client's token stream in the same way
//! (see docs/ai.md).
//!
//! ```text
//! cargo run -p slack-rtm --example ai_agent                  # scripted, local emulator
//! SLACK_APP_TOKEN=xapp-… SLACK_BOT_TOKEN=xoxb-… cargo run -p slack-rtm --example ai_agent
//! ```
//!
//! Without `SLACK_APP_TOKEN`, it starts the emulator (with Slack's rate limits), has `alice`
//! open an assistant thread and ask a question, prints `prompts <n>`, `status <text>` and
//! `replied <chars> chars in <n> message(s), <calls> calls`, checks the emulator's record (the
//! whole answer, in order, after the status) and exits.

use serde_json::json;
use slack_rtm::rtm::Event;
use slack_rtm::socket_mode::SocketModeItem;
use slack_rtm::socket_mode::{ApiEvent, Payload};
use slack_rtm::types::ChannelId;
use slack_rtm::types::Ts;
use slack_rtm::types::UserId;
use slack_rtm::types::web::SuggestedPrompt;
use slack_rtm::{SocketModeClient, SocketModeItems, WebClient};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::error::Error;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// The stand-in model: yields the answer's words at `words_per_sec`, like an LLM client's
/// token stream (any `futures_core::Stream` of text works the same).
struct Model(mpsc::Receiver<String>);

impl Model {
    fn answer(question: &str, words: usize, words_per_sec: u32) -> (Self, String) {
        let text: Vec<String> = (0..words)
            .map(|i| match i % 12 {
                0 => format!("About \"{}\": ", question.chars().take(40).collect::<String>()),
                11 => "streaming.\n".to_owned(),
                n => format!(
                    "{} ",
                    ["a", "reply", "is", "written", "as", "the", "model", "thinks,", "shown", "while"]
                        [n % 10]
                ),
            })
            .collect();
        let full = text.concat();
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1) / words_per_sec.max(1));
            for w in text {
                tick.tick().await;
                if tx.send(w).await.is_err() {
                    return; // the reply was cancelled
                }
            }
        });
        (Model(rx), full)
    }
}

impl futures_core::Stream for Model {
    type Item = String;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        self.0.poll_recv(cx)
    }
}

fn prompts() -> Vec<SuggestedPrompt> {
    vec![
        SuggestedPrompt::new("Summarize", "Summarize this channel"),
        SuggestedPrompt::new("Explain streaming", "How do streamed replies work?"),
    ]
}

/// Answers one user message: status, then the streamed reply with feedback buttons.
async fn answer(
    web: WebClient,
    channel: ChannelId,
    thread: Ts,
    user: UserId,
    question: String,
) -> BoxResult<usize> {
    web.set_status(channel.clone(), thread.clone(), "is thinking…", &["Reading the thread", "Writing"])
        .await?;
    let (model, _) = Model::answer(&question, 120, 100);
    let mut reply = web.chat_stream(channel).in_thread(thread).recipient(user, None).start();
    reply.pipe(model).await?;
    let feedback = json!([{"type": "context_actions", "elements": [{"type": "feedback_buttons",
        "action_id": "feedback", "positive_button": {"text": {"type": "plain_text", "text": "Good"}, "value": "up"},
        "negative_button": {"text": {"type": "plain_text", "text": "Bad"}, "value": "down"}}]}]);
    let report = reply.finish(Some(feedback)).await?;
    println!(
        "replied {} chars in {} message(s), {} calls",
        report.chars,
        report.messages.len(),
        report.calls
    );
    Ok(report.chars)
}

/// Serves until the items end, or after `limit` answers.
async fn serve(client: SocketModeClient, mut items: SocketModeItems, limit: Option<usize>) -> BoxResult<()> {
    let web = client.web().ok_or("no web token")?.clone();
    let me = web.auth_test().await?.user_id;
    let mut answers = tokio::task::JoinSet::new();
    let mut answered = 0;
    while let Some(item) = items.next().await {
        let SocketModeItem::Envelope(delivery) = item else { continue };
        let payload = delivery.payload();
        delivery.ack().await?; // first: Slack waits 3 s at most
        let Payload::EventsApi(cb) = payload else { continue };
        match cb.event {
            ApiEvent::AssistantThreadStarted(e) => {
                let t = e.assistant_thread;
                web.set_suggested_prompts(t.channel_id, t.thread_ts, prompts(), Some("Try:".into())).await?;
                println!("prompts {}", prompts().len());
            }
            ApiEvent::AssistantThreadContextChanged(e) => {
                println!("context {:?}", e.assistant_thread.context.channel_id);
            }
            ApiEvent::Rtm(Event::Message(m))
                if m.subtype.is_none() && m.thread_ts.is_some() && m.user.is_some() && m.user != me =>
            {
                let (Some(channel), Some(thread), Some(user)) =
                    (m.channel.clone(), m.thread_ts.clone(), m.user.clone())
                else {
                    continue;
                };
                println!("status is thinking…");
                answers.spawn(answer(web.clone(), channel, thread, user, m.text.clone().unwrap_or_default()));
                answered += 1;
                if limit.is_some_and(|n| answered >= n) {
                    break;
                }
            }
            _ => {}
        }
    }
    while let Some(done) = answers.join_next().await {
        done??;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let app_token = std::env::var("SLACK_APP_TOKEN").ok().filter(|t| !t.trim().is_empty());
    let bot_token = std::env::var("SLACK_BOT_TOKEN").ok().filter(|t| !t.trim().is_empty());
    match (app_token, bot_token) {
        (Some(app), Some(bot)) => {
            let (client, items) =
                SocketModeClient::builder(app.trim()).web_token(bot.trim()).connect().await?;
            println!("connected; answering assistant threads until Ctrl-C");
            let app = tokio::spawn(serve(client.clone(), items, None));
            tokio::signal::ctrl_c().await?;
            client.shutdown().await;
            app.await??;
            Ok(())
        }
        (Some(_), None) => Err("set SLACK_BOT_TOKEN too".into()),
        _ => scripted().await,
    }
}

/// Plays a user against a local emulator and checks its record.
async fn scripted() -> BoxResult<()> {
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    emu.use_slack_web_rate_limits();
    let (client, items) = SocketModeClient::builder(emu.app_token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .web_token(emu.token())
        .connect()
        .await?;
    let app = tokio::spawn(serve(client.clone(), items, Some(1)));
    let (alice, dm) = (emu.second_user().user, emu.add_channel("alice-assistant"));
    let thread = emu.start_assistant_thread(&alice, &dm, Some(&emu.general_channel()));
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while emu.assistant_thread(&dm, &thread).is_none_or(|t| t.prompts.is_empty()) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    waited.map_err(|_| "no suggested prompts")?;
    let question = "How do streamed replies work?";
    emu.say_in_thread(&alice, &dm, &thread, question).ok_or("could not post")?;
    tokio::time::timeout(Duration::from_secs(25), app).await???;
    client.shutdown().await;

    let (_, expected) = Model::answer(question, 120, 100);
    let streamed: Vec<_> = emu
        .streamed_messages()
        .into_iter()
        .filter(|m| m.thread_ts.as_deref() == Some(thread.as_str()))
        .collect();
    let text: String = streamed.iter().map(|m| m.text.as_str()).collect();
    if text != expected || streamed.iter().any(|m| m.streaming) {
        return Err(format!(
            "the emulator's reply differs from the model's answer:\n{text}\n---\n{expected}"
        )
        .into());
    }
    let record = emu.assistant_thread(&dm, &thread).ok_or("no thread")?;
    let (Some((status_at, _)), Some(first)) = (record.statuses.first(), streamed.first()) else {
        return Err("no status or no reply".into());
    };
    if *status_at > first.started || record.status.is_some() {
        return Err("the status must come before the reply, which clears it".into());
    }
    println!("checked: {} words, whole and in order, after the status", expected.split_whitespace().count());
    emu.shutdown().await;
    Ok(())
}
