//! `Client::web()` and the gap refill against the emulator over loopback.

use serde_json::json;
use slack_rtm::rtm::Event;
use slack_rtm::rtm::GapRefill;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::types::web::{HistoryQuery, RepliesQuery};
use slack_rtm::{Client, Events};
use slack_rtm_emulator::{Emulator, EmulatorConfig, Rejection, Target};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn connect(emu: &Emulator) -> (Client, Events) {
    Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .connect()
        .await
        .expect("connects")
}

/// The next RTM message event.
async fn next_message(events: &mut Events) -> Box<slack_rtm::types::event::Message> {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Some(SessionEvent::Rtm(Event::Message(m))) = events.next().await {
                return m;
            }
        }
    })
    .await
    .expect("a message in time")
}

#[tokio::test]
async fn the_session_web_client_posts_blocks_in_a_thread_and_reads_them_back() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (client, mut events) = connect(&emu).await;
    let web = client.web();
    let me = web.auth_test().await.unwrap();
    assert_eq!(me.user_id, client.self_info().map(|s| s.id));
    let general = emu.general_channel();
    let parent = emu.post_message(&general, &emu.second_user().user, "is the deploy done?").unwrap();
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*Yes*, v2 is live"}}]);
    let posted = web
        .post_message(general.clone(), "Yes, v2 is live")
        .blocks(blocks.clone())
        .in_thread(parent.clone())
        .await
        .unwrap();
    // Our own post comes back on the socket, in the thread.
    let echoed = loop {
        let m = next_message(&mut events).await;
        if m.ts.as_ref() == Some(&posted.ts) {
            break m;
        }
    };
    assert_eq!(echoed.thread_ts.as_ref(), Some(&parent));
    // The thread, page by page.
    let mut q = RepliesQuery::new(general.clone(), parent.clone());
    q.limit = Some(1);
    let mut pages = web.replies(q);
    let mut texts = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        assert!(page.messages.len() <= 1);
        texts.extend(page.messages.into_iter().map(|m| (m.text, m.blocks.map(|b| b.to_value()))));
    }
    assert_eq!(
        texts,
        [(Some("is the deploy done?".into()), None), (Some("Yes, v2 is live".into()), Some(blocks))]
    );
    // Reactions and the rest of the typed helpers.
    web.add_reaction(general.clone(), parent.clone(), "white_check_mark").await.unwrap();
    let err = web.add_reaction(general.clone(), parent.clone(), "white_check_mark").await.unwrap_err();
    assert_eq!(err.api_error().map(|e| e.as_str()), Some("already_reacted"));
    assert!(!err.may_have_been_applied());
    let info = web.conversation_info(general.clone()).await.unwrap();
    assert_eq!(info.channel.id, general);
    let user = web.user_info(emu.second_user().user).await.unwrap();
    assert_eq!(user.user.name.as_deref(), Some("alice"));
    web.delete_message(general.clone(), posted.ts.clone()).await.unwrap();
    let left = web.history(HistoryQuery::new(general.clone())).collect_messages(100).await.unwrap();
    assert_eq!(left.len(), 1, "only the parent is left in the channel");
    assert_eq!(emu.tokens_seen_in_urls(), 0, "the token only ever went in the Authorization header");
    assert!(emu.web_calls().iter().all(|c| c.user.as_ref() == client.self_info().map(|s| s.id).as_ref()));
    client.shutdown().await;
    emu.shutdown().await;
}

#[tokio::test]
async fn views_open_uses_a_fresh_trigger_once() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let web = Client::builder(emu.token()).api_url(&emu.api_url()).allow_insecure(true).build_web().unwrap();
    let modal = json!({"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []});
    let trigger = emu.issue_trigger_id();
    let opened = web.open_view(trigger.clone(), modal.clone()).await.unwrap();
    assert!(opened.view.id.is_some());
    let again = web.open_view(trigger, modal).await.unwrap_err();
    assert_eq!(again.api_error().map(|e| e.as_str()), Some("exchanged_trigger_id"));
    assert_eq!(emu.web_calls_of("views.open").len(), 2, "a refused write is not retried");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_burst_against_a_429_waits_instead_of_failing() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let web = Client::builder(emu.token()).api_url(&emu.api_url()).allow_insecure(true).build_web().unwrap();
    emu.reject_next_web_calls(
        "chat.postMessage",
        1,
        Rejection::RateLimited { retry_after: Duration::from_secs(1) },
    );
    let posted = web.post_message(emu.general_channel(), "after the wait").await.unwrap();
    let calls = emu.web_calls_of("chat.postMessage");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].status, 429);
    assert_eq!(emu.posted_messages().len(), 1);
    assert_eq!(emu.posted_messages()[0].ts, posted.ts);
    emu.shutdown().await;
}

#[tokio::test]
async fn gap_refill_returns_exactly_the_missed_messages() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (client, mut events) = connect(&emu).await;
    let general = emu.general_channel();
    let other = emu.add_channel("random");
    let alice = emu.second_user().user;
    let mut seen = GapRefill::new([general.clone(), other.clone()]);

    // Delivered live before the drop.
    let before = emu.post_message(&general, &alice, "before").unwrap();
    let m = next_message(&mut events).await;
    assert_eq!(m.ts.as_ref(), Some(&before));
    assert!(seen.observe(&SessionEvent::Rtm(Event::Message(m))));

    // Drop the socket and keep the client out until the missed messages are posted.
    emu.reject_next_connects(1000, Rejection::Status(503));
    emu.drop_connection(Target::All);
    emu.wait_for_rtm_connect_calls(2, WAIT).await.unwrap();
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    let missed = [
        emu.post_message(&general, &alice, "missed 1").unwrap(),
        emu.post_message(&other, &alice, "missed 2").unwrap(),
        emu.post_message(&general, &alice, "missed 3").unwrap(),
    ];
    emu.clear_rejections();

    // Wait for the Gap, observing everything on the way.
    let gap_from = tokio::time::timeout(WAIT * 3, async {
        loop {
            let ev = events.next().await.expect("session alive");
            seen.observe(&ev);
            if let SessionEvent::Gap { from, .. } = ev {
                return from;
            }
        }
    })
    .await
    .expect("a gap after the reconnect");

    let mut refill = seen.refill(client.web(), gap_from);
    let mut got = Vec::new();
    while let Some(m) = refill.next().await {
        let m = m.unwrap();
        got.push((m.channel.clone().unwrap(), m.ts.clone().unwrap(), m.text.clone().unwrap()));
    }
    assert!(!refill.truncated());
    assert_eq!(
        got,
        [
            (general.clone(), missed[0].clone(), "missed 1".to_owned()),
            (other.clone(), missed[1].clone(), "missed 2".to_owned()),
            (general.clone(), missed[2].clone(), "missed 3".to_owned()),
        ],
        "exactly the missed messages, oldest first"
    );

    // A message after the reconnect arrives live once; a refill now finds nothing new.
    let after = emu.post_message(&general, &alice, "after").unwrap();
    let m = next_message(&mut events).await;
    assert_eq!(m.ts.as_ref(), Some(&after));
    assert!(seen.observe(&SessionEvent::Rtm(Event::Message(m))));
    let mut again = seen.refill(client.web(), gap_from);
    assert!(again.next().await.is_none(), "nothing is given twice");
    client.shutdown().await;
    emu.shutdown().await;
}

/// One channel over the per-channel cap does not cut the others short: the next channel's
/// missed messages still come page after page.
#[tokio::test]
async fn gap_refill_truncates_only_the_channel_over_the_cap() {
    let emu = Emulator::start(EmulatorConfig::default().send_rate(None)).await.unwrap();
    let (client, _events) = connect(&emu).await;
    let mut channels = [emu.add_channel("busy"), emu.add_channel("quiet")];
    channels.sort();
    let [first, second] = channels.clone();
    let alice = emu.second_user().user;
    let mut seen = GapRefill::new(channels);
    let gap_from = tokio::time::Instant::now().into_std();
    // The first channel fetched has more than the cap; the second more than one page (200).
    for i in 0..GapRefill::MAX_MESSAGES + 1 {
        emu.post_message(&first, &alice, &format!("first {i}")).unwrap();
    }
    for i in 0..250 {
        emu.post_message(&second, &alice, &format!("second {i}")).unwrap();
    }
    let mut refill = seen.refill(client.web(), gap_from);
    let (mut from_first, mut from_second) = (0, 0);
    while let Some(m) = refill.next().await {
        match m.unwrap().channel {
            Some(c) if c == first => from_first += 1,
            Some(c) if c == second => from_second += 1,
            other => panic!("a message of {other:?}"),
        }
    }
    assert!(refill.truncated());
    assert_eq!(from_first, GapRefill::MAX_MESSAGES);
    assert_eq!(from_second, 250, "every missed message of the channel under the cap");
    client.shutdown().await;
    emu.shutdown().await;
}
