//! `App` end to end on Socket Mode against the emulator, acting as users: `respond` in its
//! forms, `say` in a thread, the typed payloads of actions and shortcuts, the App Home, a
//! closed modal, and a graceful shutdown that lets a running listener send its ack.

mod app_support;

use serde_json::json;
use slack_rtm::WebClient;
use slack_rtm::app::{App, MessageResponse, Selection};
use slack_rtm_emulator::{ActionSurface, Emulator, ResponseEffect};
use std::time::Duration;
use tokio::sync::mpsc;

const T: Duration = Duration::from_secs(10);

async fn start(app: App) -> (Emulator, slack_rtm::app::SocketModeApp, WebClient) {
    app_support::start_on_emulator(app).await
}

/// The app posts a message with buttons and a select; returns its ts.
async fn post_buttons(web: &WebClient, channel: &slack_rtm::types::ChannelId) -> slack_rtm::types::Ts {
    let blocks = json!([{"type": "actions", "block_id": "controls", "elements": [
        {"type": "button", "action_id": "ephemeral", "text": {"type": "plain_text", "text": "E"}, "value": "e"},
        {"type": "button", "action_id": "in_channel", "text": {"type": "plain_text", "text": "C"}, "value": "c"},
        {"type": "button", "action_id": "delete", "text": {"type": "plain_text", "text": "D"}, "value": "d"},
        {"type": "static_select", "action_id": "size", "placeholder": {"type": "plain_text", "text": "Size"},
         "options": [{"text": {"type": "plain_text", "text": "Large"}, "value": "large"}]}]}]);
    web.post_message(channel.clone(), "controls").blocks(blocks).await.unwrap().ts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn respond_posts_ephemeral_in_channel_and_deletes_the_original() {
    let mut app = App::new();
    app.action("ephemeral", |_, ack, ctx| async move {
        ack.ack().await?;
        Ok(ctx.respond(MessageResponse::ephemeral("only you")).await?)
    });
    app.action("in_channel", |_, ack, ctx| async move {
        ack.ack().await?;
        Ok(ctx.respond(MessageResponse::in_channel("everyone")).await?)
    });
    app.action("delete", |_, ack, ctx| async move {
        ack.ack().await?;
        Ok(ctx.respond(MessageResponse::delete_original()).await?)
    });
    let (emu, running, web) = start(app).await;
    let (alice, ch) = (emu.user(&emu.second_user().user), emu.general_channel());
    let ts = post_buttons(&web, &ch).await;
    let surface = ActionSurface::message(&ch, &ts);
    for (n, action) in ["ephemeral", "in_channel", "delete"].into_iter().enumerate() {
        let sent = alice.click(&surface, action).unwrap();
        emu.wait_for_ack(sent.seq, T).await.unwrap();
        emu.wait_for_responses(n as u64 + 1, T).await.unwrap();
    }
    let effects: Vec<_> = emu.responses().into_iter().map(|r| r.effect).collect();
    assert!(matches!(effects[0], Some(ResponseEffect::Ephemeral)), "{effects:?}");
    assert!(matches!(effects[1], Some(ResponseEffect::PostedInChannel(_))), "{effects:?}");
    assert!(matches!(&effects[2], Some(ResponseEffect::DeletedOriginal(t)) if *t == ts), "{effects:?}");
    assert!(
        emu.ephemeral_messages()
            .iter()
            .any(|m| m.text.as_deref() == Some("only you") && &m.user == alice.id())
    );
    assert!(emu.message(&ch, &ts).is_none(), "the original was deleted");
    assert!(running.shutdown(T).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn say_answers_in_the_thread_and_actions_are_typed() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.message("hello", |_, ctx| async move {
        ctx.say("hi in the thread").await?;
        Ok(())
    });
    app.action("size", move |a, ack, _| {
        let tx = tx.clone();
        async move {
            ack.ack().await?;
            let action = &a.actions[0];
            let chosen = match action.selection() {
                Selection::Option(o) => o.value.clone(),
                other => format!("{other:?}"),
            };
            let container = a.container.as_ref().map(|c| (c.container_type.clone(), c.message_ts.clone()));
            tx.send((action.element(), chosen, container, a.message.and_then(|m| m.text))).unwrap();
            Ok(())
        }
    });
    let (emu, running, web) = start(app).await;
    let (alice, ch) = (emu.user(&emu.second_user().user), emu.general_channel());
    let parent = alice.say(&ch, "a question").unwrap().ts.unwrap();
    alice.say_in_thread(&ch, &parent, "hello bot").unwrap();
    let reply = loop {
        let found = emu.posted_messages().into_iter().find(|m| m.text == "hi in the thread");
        if let Some(m) = found {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(emu.message(&ch, &reply.ts).unwrap()["thread_ts"], json!(parent.as_str()));

    let ts = post_buttons(&web, &ch).await;
    alice.select(&ActionSurface::message(&ch, &ts), "size", "large").unwrap();
    let (kind, chosen, container, text) = tokio::time::timeout(T, rx.recv()).await.unwrap().unwrap();
    assert_eq!(kind, slack_rtm::types::socket_mode::ElementKind::StaticSelect);
    assert_eq!(chosen, "large");
    assert_eq!(container, Some(("message".to_owned(), Some(ts.clone()))));
    assert_eq!(text.as_deref(), Some("controls"));
    assert!(running.shutdown(T).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_message_shortcut_and_a_closed_modal_reach_their_listeners() {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let mut app = App::new();
    let t = tx.clone();
    app.app_home_opened(move |h, _| {
        let t = t.clone();
        async move {
            t.send(format!("home {} {}", h.user, h.tab.unwrap_or_default())).unwrap();
            Ok(())
        }
    });
    let t = tx.clone();
    app.message_shortcut("remind", move |s, ack, ctx| {
        let t = t.clone();
        async move {
            ack.ack().await?;
            let text = s.message.and_then(|m| m.text).unwrap_or_default();
            t.send(format!("shortcut {} on {text:?}", s.callback_id)).unwrap();
            let modal = json!({"type": "modal", "callback_id": "reminder", "notify_on_close": true,
                "title": {"type": "plain_text", "text": "Remind"}, "blocks": []});
            ctx.web().open_view(s.trigger_id.unwrap_or_default(), modal).await?;
            Ok(())
        }
    });
    app.view_closed("reminder", move |v, ack, _| {
        let t = tx.clone();
        async move {
            ack.ack().await?;
            t.send(format!("closed {}", v.view.callback_id.unwrap_or_default())).unwrap();
            Ok(())
        }
    });
    let (emu, running, _web) = start(app).await;
    let (alice, ch) = (emu.user(&emu.second_user().user), emu.general_channel());
    let mut next = async || tokio::time::timeout(T, rx.recv()).await.unwrap().unwrap();
    alice.open_home("home");
    assert_eq!(next().await, format!("home {} home", alice.id()));
    let ts = alice.say(&ch, "call mum").unwrap().ts.unwrap();
    alice.message_shortcut(&ch, &ts, "remind").unwrap();
    assert_eq!(next().await, "shortcut remind on \"call mum\"");
    let view = loop {
        if let Some(v) = emu.open_views(alice.id()).pop() {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    alice.close_view(&view.id).unwrap().expect("notify_on_close");
    assert_eq!(next().await, "closed reminder");
    assert!(running.shutdown(T).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_running_listener_finish_and_send_its_ack() {
    let (started, mut is_started) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.command("/slow", move |_, ack, _| {
        let started = started.clone();
        async move {
            started.send(()).unwrap();
            tokio::time::sleep(Duration::from_millis(400)).await;
            Ok(ack.ack_with(MessageResponse::text("done")).await?)
        }
    });
    let (emu, running, _web) = start(app).await;
    let alice = emu.user(&emu.second_user().user);
    let cmd = alice.run_command(&emu.general_channel(), "/slow", "");
    is_started.recv().await.unwrap();
    assert!(running.shutdown(T).await, "the listener finished within the grace");
    let ack = emu.wait_for_ack(cmd.seq, T).await.unwrap();
    assert_eq!(ack.payload, Some(json!({"text": "done"})));
}

/// Events reach their listeners with their type read by the session (no decode to route
/// them), an event nobody listens to goes to the fallback, and every event is acked once (the
/// app's detached acks): none is delivered again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_routed_by_type_and_each_acked_once() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    let mention = tx.clone();
    app.app_mention(move |m, ctx| {
        let tx = mention.clone();
        async move {
            tx.send(format!("mention {} {:?}", m.text, ctx.request_type())).unwrap();
            Ok(())
        }
    });
    app.fallback(move |ctx| {
        let tx = tx.clone();
        async move {
            tx.send(format!("fallback {:?} user {:?}", ctx.request_type(), ctx.user_id())).unwrap();
            Ok(())
        }
    });
    let (emu, running, _web) = start(app).await;
    let (alice, ch) = (emu.user(&emu.second_user().user), emu.general_channel());
    alice.say(&ch, "no listener for messages").unwrap();
    alice.mention_bot(&ch, "hello").unwrap();
    // Two `message` events (the fallback's) and one `app_mention`.
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(tokio::time::timeout(T, rx.recv()).await.unwrap().unwrap());
    }
    got.sort();
    let alice_id = emu.second_user().user.to_string();
    let fallback = format!("fallback Some(\"message\") user Some(\"{alice_id}\")");
    assert_eq!(got[..2], [fallback.clone(), fallback]);
    assert!(
        got[2].starts_with("mention <@") && got[2].ends_with("hello Some(\"app_mention\")"),
        "{}",
        got[2]
    );
    // Every envelope acked, on its first delivery.
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let records = emu.envelopes();
        if records.len() >= 3 && records.iter().all(|r| r.acked) {
            assert!(records.iter().all(|r| r.attempts.len() == 1), "{records:?}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not acked: {records:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(running.shutdown(T).await);
}

/// Through the app on Socket Mode, a request's envelope id is the one its ack names and its
/// payload is the envelope's payload, verbatim (handed on where it lay in the frame): the same
/// JSON the emulator sent, for events, a command and an interaction.
#[tokio::test]
async fn each_request_carries_its_envelopes_id_and_payload_verbatim() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.ignore_self(false);
    app.middleware(move |ctx: slack_rtm::app::Context, next: slack_rtm::app::Next| {
        let tx = tx.clone();
        async move {
            let id = ctx.envelope_id().map(str::to_owned);
            tx.send((id, ctx.kind().as_str().to_owned(), ctx.payload().as_str().to_owned())).unwrap();
            next.run(ctx).await
        }
    });
    app.fallback(|_| async { Ok(()) });
    let (emu, running, _web) = start(app).await;
    let (alice, ch) = (emu.user(&emu.second_user().user), emu.general_channel());
    alice.say(&ch, "an \"escaped\" message, with {braces} and é").unwrap();
    alice.mention_bot(&ch, "hello").unwrap();
    emu.send_slash_command(&emu.second_user().user, &ch, "/deploy", "now");
    let mut got = Vec::new();
    while got.len() < 4 {
        got.push(tokio::time::timeout(T, rx.recv()).await.unwrap().unwrap());
    }
    let records = emu.envelopes();
    for (id, kind, payload) in &got {
        let id = id.as_deref().expect("an envelope id");
        let record = records
            .iter()
            .find(|r| r.attempts.iter().any(|a| a.envelope_id == id))
            .unwrap_or_else(|| panic!("no envelope {id}: {records:?}"));
        assert_eq!(kind, &record.envelope_type);
        let sent: serde_json::Value = serde_json::from_str(payload).expect("the payload is JSON on its own");
        assert_eq!(sent, record.payload, "{id}");
    }
    // Each acked once, by the id the request carried.
    let deadline = tokio::time::Instant::now() + T;
    while !emu.envelopes().iter().all(|r| r.acked) {
        assert!(tokio::time::Instant::now() < deadline, "not acked: {:?}", emu.envelopes());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (id, _, _) in &got {
        let id = id.as_deref().unwrap();
        assert_eq!(emu.acks().iter().filter(|a| a.envelope_id == id).count(), 1, "{id}");
    }
    assert!(running.shutdown(T).await);
}

/// Events that arrive while an earlier envelope's ack is still owed (a command whose listener
/// has not acked yet) cannot be acked in delivery order: each is acked by the id its request
/// carries (the pump's ack of an event keeps no id of its own), once, before the command's.
#[tokio::test]
async fn events_behind_a_command_not_yet_acked_are_acked_by_their_requests_id() {
    let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
    let held_rx = std::sync::Mutex::new(Some(held_rx));
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.command("/hold", move |_, ack, _| {
        let rx = held_rx.lock().unwrap().take();
        async move {
            if let Some(rx) = rx {
                let _ = rx.await;
            }
            ack.ack().await?;
            Ok(())
        }
    });
    app.fallback(move |ctx| {
        let tx = seen_tx.clone();
        async move {
            tx.send(ctx.envelope_id().map(str::to_owned)).unwrap();
            Ok(())
        }
    });
    let (emu, running, _web) = start(app).await;
    let (alice, ch) = (emu.user(&emu.second_user().user), emu.general_channel());
    let command = alice.run_command(&ch, "/hold", "now");
    for text in ["one", "two", "three"] {
        alice.say(&ch, text).unwrap();
    }
    let mut events = Vec::new();
    while events.len() < 3 {
        events.push(tokio::time::timeout(T, seen_rx.recv()).await.unwrap().unwrap().expect("an id"));
    }
    let acked_once = |id: &str| emu.acks().iter().filter(|a| a.envelope_id == id).count() == 1;
    let deadline = tokio::time::Instant::now() + T;
    while !events.iter().all(|id| acked_once(id)) {
        assert!(tokio::time::Instant::now() < deadline, "not acked: {:?}", emu.acks());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let records = emu.envelopes();
    let command_record = records.iter().find(|r| r.seq == command.seq).expect("the command");
    assert!(!command_record.acked, "the command's ack is still owed: the events went by id");
    held_tx.send(()).unwrap();
    emu.wait_for_ack(command.seq, T).await.unwrap();
    assert!(events.iter().all(|id| acked_once(id)), "{:?}", emu.acks());
    assert!(running.shutdown(T).await);
}

/// An app's session keeps little waiting for its dispatcher: with every listener slot taken
/// (the listeners wait on a gate), the envelopes the session handed over and the app has not
/// taken fill the byte budget — the app's 128 KiB on the current-thread runtime and 384 KiB on
/// the multi-thread one (the builder setting none), not the 512 KiB a raw consumer's session
/// may hold — and stay within it plus the one reader batch (64 frames)
/// the session had already read. Then every envelope reaches a listener exactly once, and the
/// bound holds while they drain.
async fn an_apps_session_holds_at_most_its_byte_budget_for_the_dispatcher(budget: usize) {
    const N: usize = 1500;
    const TEXT: usize = 1000;
    // An envelope is the text and the event callback around it: about 1,724 bytes here.
    const FRAME_MAX: usize = TEXT + 900;
    let bound = budget + 64 * FRAME_MAX;
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.concurrency(8);
    let g = gate.clone();
    app.fallback(move |ctx| {
        let (tx, gate) = (tx.clone(), g.clone());
        async move {
            let _pass = gate.acquire().await.expect("gate open");
            let text = ctx.body().get("event").and_then(|e| e.get("text")).and_then(|t| t.as_str());
            tx.send(text.map(|t| t[..5].to_owned())).unwrap();
            Ok(())
        }
    });
    // Room for many batches, so the bytes bound first (the emulator writes each posted message
    // on its own: the session's batches are small, and 16 of them would fill the item bound).
    let emu = slack_rtm_emulator::Emulator::start(Default::default()).await.unwrap();
    let builder = slack_rtm::SocketModeClient::builder(emu.app_token())
        .web_token(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .capacity(1 << 16);
    let running = app.start_socket_mode(builder).await.unwrap();
    let (channel, other) = (emu.general_channel(), emu.second_user());
    let pad = "x".repeat(TEXT);
    for i in 0..N {
        emu.post_message(&channel, &other.user, &format!("{i:05} {pad}")).expect("posted");
    }
    let deadline = tokio::time::Instant::now() + T;
    while running.queued_bytes() < budget {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the budget never filled: {}",
            running.queued_bytes()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Time for the session to read further if it would (it must not).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = running.queued_bytes();
    assert!(waiting <= bound, "{waiting} bytes waiting for the app's budget of {budget} (bound {bound})");
    gate.add_permits(N * 2);
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < N {
        let text = tokio::time::timeout(T, rx.recv()).await.expect("every envelope").unwrap();
        let text = text.expect("a message with its text");
        assert!(seen.insert(text.clone()), "{text} handed to a listener twice");
        let waiting = running.queued_bytes();
        assert!(waiting <= bound, "{waiting} bytes waiting after {} envelopes (bound {bound})", seen.len());
    }
    assert_eq!(seen.first().map(String::as_str), Some("00000"));
    assert_eq!(seen.last().map(String::as_str), Some(format!("{:05}", N - 1).as_str()));
    assert!(running.shutdown(T).await);
}

#[tokio::test]
async fn an_apps_session_holds_at_most_its_byte_budget_on_the_current_thread_runtime() {
    an_apps_session_holds_at_most_its_byte_budget_for_the_dispatcher(128 * 1024).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apps_session_holds_at_most_its_byte_budget_on_the_multi_thread_runtime() {
    an_apps_session_holds_at_most_its_byte_budget_for_the_dispatcher(384 * 1024).await;
}
