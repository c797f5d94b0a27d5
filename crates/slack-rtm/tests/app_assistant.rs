//! The assistant listener set end to end on the emulator over Socket Mode: thread started →
//! prompts; context changed → kept; user message → status, then a streamed reply (whole, in
//! order, after the status, for the user).

use slack_rtm::SocketModeClient;
use slack_rtm::app::{App, Assistant};
use slack_rtm::types::ChannelId;
use slack_rtm::types::web::SuggestedPrompt;
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let ok = tokio::time::timeout(Duration::from_secs(15), async {
        while !f() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(ok.is_ok(), "timed out waiting for {what}");
}

#[tokio::test]
async fn the_assistant_flow_end_to_end() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emu.use_slack_web_rate_limits();
    let contexts: Arc<Mutex<Vec<Option<ChannelId>>>> = Arc::default();
    let seen = contexts.clone();
    let assistant = Assistant::new()
        .thread_started(|thread, ctx| async move {
            let prompts = vec![SuggestedPrompt::new("Summarize", "Summarize the channel")];
            ctx.web().set_suggested_prompts(thread.channel_id, thread.thread_ts, prompts, None).await?;
            Ok(())
        })
        .thread_context_changed(move |thread, _ctx| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(thread.context.channel_id);
                Ok(())
            }
        })
        .user_message(|message, ctx| async move {
            // The context kept for the thread is there for the reply.
            let viewing = ctx.assistant_thread().and_then(|t| t.context.channel_id.clone());
            ctx.set_status("is thinking…", &["Reading"]).await?;
            let mut reply = ctx.say_stream()?;
            let question = message.text.unwrap_or_default();
            for i in 0..60 {
                reply.append(format!("part {i} of the answer to {question} ")).await?;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            reply.append(format!("(viewing {})", viewing.map(|c| c.to_string()).unwrap_or_default())).await?;
            reply.finish(None).await?;
            Ok(())
        });
    let mut app = App::new();
    app.assistant(assistant.clone());
    let running = app
        .start_socket_mode(
            SocketModeClient::builder(emu.app_token())
                .api_url(&emu.api_url())
                .allow_insecure(true)
                .web_token(emu.token()),
        )
        .await
        .unwrap();

    let alice = emu.second_user().user;
    let dm = emu.add_channel("alice-assistant");
    let (first, second) = (emu.general_channel(), emu.add_channel("random"));
    let thread = emu.start_assistant_thread(&alice, &dm, Some(&first));
    until("prompts", || emu.assistant_thread(&dm, &thread).is_some_and(|t| !t.prompts.is_empty())).await;
    emu.change_assistant_context(&dm, &thread, &second);
    until("the context change", || contexts.lock().unwrap().len() == 1).await;
    assert_eq!(contexts.lock().unwrap()[0].as_ref(), Some(&second));
    assert_eq!(assistant.context_of(&dm, &thread).and_then(|c| c.channel_id), Some(second.clone()));

    emu.say_in_thread(&alice, &dm, &thread, "why").unwrap();
    until("the reply", || emu.streamed_messages().iter().any(|m| !m.streaming)).await;
    let streamed = emu.streamed_messages();
    assert_eq!(streamed.len(), 1);
    let m = &streamed[0];
    let expected: String = (0..60).map(|i| format!("part {i} of the answer to why ")).collect::<String>()
        + &format!("(viewing {second})");
    assert_eq!(m.text, expected);
    assert_eq!(m.thread_ts.as_deref(), Some(thread.as_str()));
    assert_eq!(m.recipient_user_id.as_deref(), Some(alice.as_str()), "for the user who asked");
    // Coalesced under Slack's limits: a few calls, none refused.
    assert!(m.parts.len() < 15, "{} calls", m.parts.len());
    assert!(emu.web_calls().iter().all(|c| c.status == 200), "no 429");
    let record = emu.assistant_thread(&dm, &thread).unwrap();
    assert_eq!(record.statuses.len(), 1);
    assert!(record.statuses[0].0 <= m.started, "the status came first");
    assert_eq!(record.status, None, "the reply cleared it");
    // Messages outside assistant threads are not the assistant's.
    emu.post_message(&first, &alice, "not for the assistant").unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(emu.streamed_messages().len(), 1);
    running.shutdown(Duration::from_secs(2)).await;
}
