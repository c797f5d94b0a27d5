//! The lazy event stream (`Events::next_lazy`) through the emulator: two clients of one
//! workspace get the same frames, one reads them typed (`Events::next`), the other lazily; every
//! lazy item decodes to the typed one, a message's borrowed fields are the typed message's, the
//! frame is kept verbatim, and a frame that does not decode is the same error on both.

use slack_rtm::rtm::event::MessageView;
use slack_rtm::rtm::{Event, LazyEvent, LazySessionEvent, SessionEvent, Warning};
use slack_rtm::{Client, Events};
use slack_rtm_emulator::{Emulator, EmulatorConfig, Target};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// Frames shaped like Slack's (contents made up), odd ones, and one that is not JSON.
fn frames(channel: &str, user: &str) -> Vec<String> {
    let c = channel;
    let u = user;
    vec![
        format!(
            r#"{{"client_msg_id":"5c0ffee0-0001","type":"message","text":"line\nbreak \"quoted\" \u00e9t\u00e9 <@{u}>","user":"{u}","ts":"1700000001.000100","blocks":[{{"type":"rich_text","block_id":"b1","elements":[{{"type":"rich_text_section","elements":[{{"type":"text","text":"hi"}}]}}]}}],"team":"T0EMU","channel":"{c}","event_ts":"1700000001.000100"}}"#
        ),
        format!(
            r#"{{"type":"message","text":"a reply","user":"{u}","ts":"1700000002.000200","thread_ts":"1700000000.000100","parent_user_id":"U0EMU00009","channel":"{c}","event_ts":"1700000002.000200"}}"#
        ),
        format!(
            r#"{{"type":"message","subtype":"file_share","text":"the graph","files":[{{"id":"F0EMU1","name":"latency.png","size":184233,"is_public":true}}],"upload":true,"user":"{u}","display_as_bot":false,"ts":"1700000003.000300","channel":"{c}","event_ts":"1700000003.000300"}}"#
        ),
        format!(
            r#"{{"type":"message","subtype":"message_changed","message":{{"type":"message","text":"fixed","user":"{u}","ts":"1700000000.000200","edited":{{"user":"{u}","ts":"1700000160.000000"}}}},"previous_message":{{"type":"message","text":"fxied","user":"{u}","ts":"1700000000.000200"}},"channel":"{c}","hidden":true,"ts":"1700000004.000400","event_ts":"1700000004.000400"}}"#
        ),
        format!(
            r#"{{"type":"message","subtype":"bot_message","text":"","bot_id":"B0EMU1","username":"deploys","attachments":[{{"fallback":"ok","fields":[{{"title":"env","value":"prod","short":true}}]}}],"ts":"1700000005.000500","channel":"{c}","event_ts":"1700000005.000500"}}"#
        ),
        format!(
            r#"{{"type":"reaction_added","user":"{u}","reaction":"tada","item":{{"type":"message","channel":"{c}","ts":"1700000001.000100"}},"item_user":"{u}","event_ts":"1700000006.000600"}}"#
        ),
        format!(r#"{{"type":"user_typing","channel":"{c}","user":"{u}"}}"#),
        r#"{"type":"some_future_event","payload":{"x":[1,2,{"y":null}]}}"#.to_owned(),
        // A message the typed decode cannot type (`text` is a number): `Event::Unknown`.
        format!(r#"{{"type":"message","text":42,"channel":"{c}","ts":"1700000007.000700"}}"#),
        // An escaped `type` key: the session decodes it itself, the lazy item arrives decoded.
        format!(r#"{{"t\u0079pe":"message","text":"escaped key","channel":"{c}","ts":"1700000008.000800"}}"#),
        // Not JSON: the typed stream's `Warning::Undecodable`, the lazy item's `decode()` error.
        r#"{"type":"message","ts":[}"#.to_owned(),
        format!(
            r#"{{"type":"message","text":"done","user":"{u}","channel":"{c}","ts":"1700000009.000900"}}"#
        ),
    ]
}

async fn connect(emu: &Emulator) -> (Client, Events) {
    Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .connect()
        .await
        .expect("connected")
}

fn is_done(e: &Event) -> bool {
    matches!(e, Event::Message(m) if m.text.as_deref() == Some("done"))
}

/// The typed stream's server events and undecodable-frame warnings, up to the `done` message.
async fn typed(events: &mut Events) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    loop {
        let e = tokio::time::timeout(WAIT, events.next()).await.expect("in time").expect("open");
        let done = matches!(&e, SessionEvent::Rtm(ev) if is_done(ev));
        if matches!(e, SessionEvent::Rtm(_) | SessionEvent::Warning(Warning::Undecodable(_))) {
            out.push(e);
        }
        if done {
            return out;
        }
    }
}

/// The lazy stream's server events, up to the `done` message.
async fn lazy(events: &mut Events) -> Vec<LazyEvent> {
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, events.next_lazy()).await.expect("in time").expect("open") {
            LazySessionEvent::Rtm(e) => {
                let done = e.decode().is_ok_and(|ev| is_done(&ev));
                out.push(e);
                if done {
                    return out;
                }
            }
            LazySessionEvent::Session(SessionEvent::Rtm(e)) => panic!("a decoded event outside `Rtm`: {e:?}"),
            LazySessionEvent::Session(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_items_are_the_typed_events_undecoded() {
    let emu = Emulator::start(EmulatorConfig::default()).await.expect("emulator");
    let (typed_client, mut typed_events) = connect(&emu).await;
    let (lazy_client, mut lazy_events) = connect(&emu).await;
    let channel = emu.general_channel();
    let sent = frames(channel.as_str(), emu.second_user().user.as_str());
    for frame in &sent {
        assert_eq!(emu.send_event_text(Target::All, frame.clone().into_bytes()), 2);
    }
    let (typed, lazy) = tokio::join!(typed(&mut typed_events), lazy(&mut lazy_events));
    assert_eq!(lazy.len(), sent.len(), "{lazy:#?}");
    assert_eq!(typed.len(), sent.len(), "{typed:#?}");
    let mut decoded_by_the_session = 0;
    for ((item, typed), text) in lazy.iter().zip(&typed).zip(&sent) {
        // Decoding the lazy item gives the typed stream's event, or its warning.
        assert_eq!(LazySessionEvent::Rtm(item.clone()).into_event(), *typed, "{text}");
        match (item.decode(), typed) {
            (Ok(event), SessionEvent::Rtm(t)) => {
                assert_eq!(&event, t);
                assert_eq!(item.kind(), t.event_type(), "{text}");
                let view = item.message().expect("valid JSON");
                match t {
                    Event::Message(m) => assert_eq!(view, Some(MessageView::of(m)), "{text}"),
                    _ => assert_eq!(view, None, "{text}"),
                }
            }
            (Err(error), SessionEvent::Warning(Warning::Undecodable(w))) => {
                assert_eq!(&error, w);
                assert_eq!(item.message(), Err(error), "the view fails as the decode does");
                assert_eq!(item.kind(), "message");
            }
            (got, want) => panic!("{text}: lazy {got:?}, typed {want:?}"),
        }
        // The frame is kept verbatim, unless the session had to decode it (the escaped key).
        match item.frame() {
            Some(frame) => assert_eq!((frame.as_str(), item.raw().as_ref()), (text.as_str(), text.as_str())),
            None => {
                decoded_by_the_session += 1;
                assert_eq!(Event::from_json(&item.raw()).ok(), item.decode().ok(), "re-encoded losslessly");
            }
        }
    }
    assert_eq!(decoded_by_the_session, 1, "only the frame with an escaped `type` key");
    // Unescaped: `\n`, `\"` and `\u00e9` in the frame.
    let expected = format!("line\nbreak \"quoted\" été <@{}>", emu.second_user().user.as_str());
    assert_eq!(lazy[0].message().unwrap().unwrap().text(), Some(expected.as_str()));
    typed_client.shutdown_with(Duration::ZERO).await;
    lazy_client.shutdown_with(Duration::ZERO).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn next_and_next_lazy_share_one_queue() {
    let emu = Emulator::start(EmulatorConfig::default()).await.expect("emulator");
    let (client, mut events) = connect(&emu).await;
    let channel = emu.general_channel();
    let user = emu.second_user().user;
    for text in ["one", "two", "three", "four"] {
        emu.post_message(&channel, &user, text).expect("posted");
    }
    let mut seen = Vec::new();
    while seen.len() < 4 {
        // Alternate: typed, lazy, typed, lazy.
        if seen.len() % 2 == 0 {
            if let SessionEvent::Rtm(Event::Message(m)) =
                tokio::time::timeout(WAIT, events.next()).await.expect("in time").expect("open")
            {
                seen.push(m.text.unwrap_or_default());
            }
        } else {
            if let LazySessionEvent::Rtm(e) =
                tokio::time::timeout(WAIT, events.next_lazy()).await.expect("in time").expect("open")
                && e.is_message()
            {
                seen.push(e.message().unwrap().unwrap().text().unwrap_or_default().to_owned());
            }
        }
    }
    assert_eq!(seen, ["one", "two", "three", "four"]);
    assert!(events.next_lazy_ready().is_none(), "each event is given once");
    client.shutdown_with(Duration::ZERO).await;
    // After the shutdown: the lifecycle end, then the end of the stream.
    let mut last = None;
    while let Some(item) = tokio::time::timeout(WAIT, events.next_lazy()).await.expect("in time") {
        last = Some(item);
    }
    assert!(matches!(last, Some(LazySessionEvent::Session(SessionEvent::Stopped { .. }))), "{last:?}");
    emu.shutdown().await;
}
