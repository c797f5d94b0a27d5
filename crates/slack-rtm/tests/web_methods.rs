//! The typed Web API methods (conversations, users, pins, team, bots, App Home, scheduling,
//! permalinks) and the one pager, against the emulator over loopback.

use serde_json::json;
use slack_rtm::WebClient;
use slack_rtm::types::blocks::BlockError;
use slack_rtm::types::blocks::{Block, Header, Section};
use slack_rtm::types::web::{
    ConversationsQuery, CreateConversation, MembersQuery, OpenConversation, PostEphemeral, ScheduleMessage,
    UpdateMessage, UsersQuery, ViewsPublish, ViewsUpdate,
};
use slack_rtm::web::{ApiCallError, ApiFailure};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod emu_web;

use emu_web::web_client as web;

async fn start() -> (Emulator, WebClient) {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let web = web(&emu, emu.token());
    (emu, web)
}

fn code(e: &ApiCallError) -> String {
    e.api_error().map(|c| c.as_str().to_owned()).unwrap_or_else(|| format!("not an API error: {e}"))
}

#[tokio::test]
async fn create_join_invite_members_and_their_errors() {
    let (emu, web) = start().await;
    let alice = emu.second_user().user;
    let carol = emu.add_user("carol");
    let created = web
        .create_conversation(&CreateConversation { name: "ops-room".into(), is_private: None, team_id: None })
        .await
        .unwrap();
    let room = created.channel.id.clone();
    assert_eq!(created.channel.name.as_deref(), Some("ops-room"));
    let again = web
        .create_conversation(&CreateConversation { name: "ops-room".into(), is_private: None, team_id: None })
        .await
        .unwrap_err();
    assert_eq!(code(&again), "name_taken");
    let bad = web
        .create_conversation(&CreateConversation {
            name: "Ops Room!".into(),
            is_private: None,
            team_id: None,
        })
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "invalid_name_specials");

    // Only the creator is a member; invite two, then again.
    let members =
        web.members(&MembersQuery { channel: room.clone(), limit: None }).collect(10, |p| p.members).await;
    assert_eq!(members.unwrap(), vec![emu.bot_user()]);
    web.invite(room.clone(), [alice.clone(), carol.user.clone()]).await.unwrap();
    let err = web.invite(room.clone(), [alice.clone()]).await.unwrap_err();
    assert_eq!(code(&err), "already_in_channel");
    let err = web.invite(room.clone(), [emu.bot_user()]).await.unwrap_err();
    assert_eq!(code(&err), "cant_invite_self");
    let err = web.invite(room.clone(), ["U0NOBODY"]).await.unwrap_err();
    assert_eq!(code(&err), "user_not_found");
    let err = web.invite("C0MISSING", [alice.clone()]).await.unwrap_err();
    assert_eq!(code(&err), "channel_not_found");

    // Members page by page: one generic pager, the cursor followed to the end.
    let mut pages = web.members(&MembersQuery { channel: room.clone(), limit: Some(1) });
    let mut seen = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        assert!(page.members.len() <= 1);
        seen.extend(page.members);
    }
    assert_eq!(seen, vec![emu.bot_user(), alice.clone(), carol.user.clone()]);

    // carol joins a channel she is not in; joining again answers ok with a warning.
    emu.set_channel_members(&emu.general_channel(), &[emu.bot_user()]);
    let carol_web = emu_web::web_client(&emu, carol.token.clone());
    let joined = carol_web.join(emu.general_channel()).await.unwrap();
    assert_eq!(joined.channel.id, emu.general_channel());
    let answer =
        carol_web.call("conversations.join", json!({"channel": emu.general_channel()})).await.unwrap();
    assert_eq!(answer.warnings.iter().map(|w| w.as_str()).collect::<Vec<_>>(), ["already_in_channel"]);
    let err = carol_web.join("C0MISSING").await.unwrap_err();
    assert_eq!(code(&err), "channel_not_found");
}

#[tokio::test]
async fn list_open_and_user_conversations() {
    let (emu, web) = start().await;
    for i in 0..5 {
        emu.add_channel(&format!("extra-{i}"));
    }
    let all = emu.channels().len();
    let query = ConversationsQuery { limit: Some(2), ..ConversationsQuery::default() };
    let mut pages = web.conversations(&query);
    let mut n = 0;
    let mut page_count = 0;
    while let Some(page) = pages.next().await {
        n += page.unwrap().channels.len();
        page_count += 1;
    }
    assert_eq!(n, all);
    assert_eq!(page_count, all.div_ceil(2));

    // A DM: opened once, then found again.
    let alice = emu.second_user().user;
    let dm = web.open_conversation(&OpenConversation::with([alice.clone()])).await.unwrap();
    assert!(dm.channel.id.as_str().starts_with('D'));
    assert_eq!(dm.already_open, None);
    let again = web.open_conversation(&OpenConversation::with([alice.clone()])).await.unwrap();
    assert_eq!(again.channel.id, dm.channel.id);
    assert_eq!(again.already_open, Some(true));
    let err = web.open_conversation(&OpenConversation::with(["U0NOBODY"])).await.unwrap_err();
    assert_eq!(code(&err), "user_not_found");
    // The DM can be posted to, and is listed with types=im, not by default.
    web.post_message(dm.channel.id.clone(), "hi").await.unwrap();
    let ims =
        web.conversations(&ConversationsQuery::of_types("im")).collect(10, |p| p.channels).await.unwrap();
    assert_eq!(ims.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![dm.channel.id.clone()]);
    let err = web
        .conversations(&ConversationsQuery::of_types("rooms"))
        .collect(10, |p| p.channels)
        .await
        .unwrap_err();
    assert_eq!(code(&err), "invalid_types");

    // users.conversations follows membership.
    let carol = emu.add_user("carol");
    let private = web
        .create_conversation(&CreateConversation {
            name: "secret".into(),
            is_private: Some(true),
            team_id: None,
        })
        .await
        .unwrap();
    let mine = web
        .user_conversations(&ConversationsQuery::of_types("private_channel"))
        .collect(10, |p| p.channels)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].id, private.channel.id);
    let q = ConversationsQuery {
        user: Some(carol.user.clone()),
        ..ConversationsQuery::of_types("private_channel")
    };
    assert!(web.user_conversations(&q).collect(10, |p| p.channels).await.unwrap().is_empty());
    let q = ConversationsQuery { user: Some("U0NOBODY".into()), ..ConversationsQuery::default() };
    let err = web.user_conversations(&q).collect(10, |p| p.channels).await.unwrap_err();
    assert_eq!(code(&err), "user_not_found");
}

#[tokio::test]
async fn users_list_lookup_team_and_bot() {
    let (emu, web) = start().await;
    for name in ["dan", "erin", "frank"] {
        emu.add_user(name);
    }
    let users = web
        .users(&UsersQuery { limit: Some(2), ..UsersQuery::default() })
        .collect(100, |p| p.members)
        .await
        .unwrap();
    assert_eq!(users.len(), emu.users().len());
    let erin = emu.users().into_iter().find(|u| u.name == "erin").unwrap();
    emu.set_user_email(&erin.id, "erin@corp.example");
    let found = web.user_by_email("ERIN@corp.example").await.unwrap();
    assert_eq!(found.user.id, erin.id);
    let err = web.user_by_email("nobody@corp.example").await.unwrap_err();
    assert_eq!(code(&err), "users_not_found");

    let team = web.team_info().await.unwrap();
    assert_eq!(team.team.id, emu.team().id);
    assert_eq!(team.team.domain.as_deref(), Some(emu.team().domain.as_str()));

    let bot_id = emu.users().into_iter().find(|u| u.id == emu.bot_user()).unwrap().bot_id.unwrap();
    let bot = web.bot_info(bot_id.clone()).await.unwrap();
    assert_eq!(bot.bot.id, bot_id);
    assert_eq!(bot.bot.user_id, Some(emu.bot_user()));
    let err = web.bot_info("B0NOBODY").await.unwrap_err();
    assert_eq!(code(&err), "bot_not_found");
}

#[tokio::test]
async fn permalink_and_pins() {
    let (emu, web) = start().await;
    let general = emu.general_channel();
    let posted = web.post_message(general.clone(), "pin me").await.unwrap();
    let link = web.permalink(general.clone(), posted.ts.clone()).await.unwrap();
    let expected = format!(
        "https://{}.slack.com/archives/{}/p{}",
        emu.team().domain,
        general,
        posted.ts.as_str().replace('.', "")
    );
    assert_eq!(link.permalink, expected);
    let err = web.permalink(general.clone(), "1.000000").await.unwrap_err();
    assert_eq!(code(&err), "message_not_found");

    web.pin(general.clone(), posted.ts.clone()).await.unwrap();
    assert_eq!(emu.pins(), vec![(general.to_string(), posted.ts.to_string())]);
    let err = web.pin(general.clone(), posted.ts.clone()).await.unwrap_err();
    assert_eq!(code(&err), "already_pinned");
    let err = web.pin("C0MISSING", posted.ts.clone()).await.unwrap_err();
    assert_eq!(code(&err), "channel_not_found");
}

#[tokio::test]
async fn views_publish_sets_the_home_tab_and_app_home_opened_carries_it() {
    let (emu, web) = start().await;
    let alice = emu.second_user().user;
    let blocks: Vec<Block> = vec![Header::new("Your tasks").into(), Section::new("Nothing due").into()];
    let view = json!({"type": "home", "blocks": blocks});
    let published = web
        .publish_view(&ViewsPublish { user_id: alice.clone(), view: view.clone(), hash: None })
        .await
        .unwrap();
    assert_eq!(emu.home_view(&alice), Some(view.clone()));
    // A stale hash is refused; the current one is accepted.
    let stale = ViewsPublish { user_id: alice.clone(), view: view.clone(), hash: Some("1.stale".into()) };
    assert_eq!(code(&web.publish_view(&stale).await.unwrap_err()), "hash_conflict");
    let fresh =
        ViewsPublish { user_id: alice.clone(), view: view.clone(), hash: published.view.hash.clone() };
    web.publish_view(&fresh).await.unwrap();
    let nobody = ViewsPublish { user_id: "U0NOBODY".into(), view: view.clone(), hash: None };
    assert_eq!(code(&web.publish_view(&nobody).await.unwrap_err()), "user_not_found");
    // Block Kit limits are checked before any call: 101 blocks never reach the emulator.
    let calls = emu.web_calls_of("views.publish").len();
    let big = json!({"type": "home", "blocks": vec![json!({"type": "divider"}); 101]});
    let err =
        web.publish_view(&ViewsPublish { user_id: alice.clone(), view: big, hash: None }).await.unwrap_err();
    let e = match &err.failure {
        ApiFailure::InvalidRequest(e) => e.downcast_ref::<BlockError>(),
        _ => None,
    };
    assert!(e.is_some_and(|e| e.path == "blocks"), "{err}");
    assert_eq!(emu.web_calls_of("views.publish").len(), calls);

    // The user opens the Home tab: app_home_opened, with the published view.
    let seq = emu.open_app_home(&alice);
    let envelope = emu.envelopes().into_iter().find(|e| e.seq == seq).expect("an envelope");
    let event = &envelope.payload["event"];
    assert_eq!(event["type"], "app_home_opened");
    assert_eq!(event["user"], alice.as_str());
    assert_eq!(event["view"]["blocks"][0]["text"]["text"], "Your tasks");
    assert_eq!(event["view"]["type"], "home");
}

#[tokio::test]
async fn views_push_stacks_modals_on_the_open_one() {
    let (emu, web) = start().await;
    let modal = |title: &str| {
        let blocks: Vec<Block> = vec![Section::new(title).into()];
        json!({"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": blocks})
    };
    // Nothing open yet: nothing to push onto.
    let err = web.push_view(emu.issue_trigger_id(), modal("Step 2")).await.unwrap_err();
    assert_eq!(code(&err), "not_found");

    let root = web.open_view(emu.issue_trigger_id(), modal("Step 1")).await.unwrap().view;
    let trigger = emu.issue_trigger_id();
    let pushed = web.push_view(trigger.clone(), modal("Step 2")).await.unwrap().view;
    assert_ne!(pushed.id, root.id);
    assert_eq!(pushed.root_view_id, root.id, "one stack");
    assert_eq!(pushed.extra["previous_view_id"], json!(root.id), "on top of the open modal");
    assert_eq!(pushed.extra["blocks"][0]["text"]["text"], "Step 2");
    let stack: Vec<Option<String>> =
        emu.open_views(&emu.bot_user()).into_iter().map(|v| Some(v.id)).collect();
    assert_eq!(stack, vec![root.id.clone(), pushed.id.clone()]);

    // A trigger is used once; a modal's 100-block limit is checked before any call.
    let again = web.push_view(trigger, modal("Step 3")).await.unwrap_err();
    assert_eq!(code(&again), "exchanged_trigger_id");
    let calls = emu.web_calls_of("views.push").len();
    let mut big = modal("Too big");
    big["blocks"] = json!(vec![json!({"type": "divider"}); 101]);
    let err = web.push_view(emu.issue_trigger_id(), big).await.unwrap_err();
    assert!(block_error(&err).is_some_and(|e| e.path == "blocks"), "{err}");
    assert_eq!(emu.web_calls_of("views.push").len(), calls);

    // Slack keeps at most three modals in a stack.
    web.push_view(emu.issue_trigger_id(), modal("Step 3")).await.unwrap();
    let err = web.push_view(emu.issue_trigger_id(), modal("Step 4")).await.unwrap_err();
    assert_eq!(code(&err), "push_limit_reached");
    assert_eq!(emu.open_views(&emu.bot_user()).len(), 3);
}

#[tokio::test]
async fn a_scheduled_message_is_posted_at_its_time() {
    let (emu, web) = start().await;
    let general = emu.general_channel();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let err =
        web.schedule_message(&ScheduleMessage::new(general.clone(), now - 10, "late")).await.unwrap_err();
    assert_eq!(code(&err), "time_in_past");
    let far = now + 121 * 24 * 3600;
    let err = web.schedule_message(&ScheduleMessage::new(general.clone(), far, "far")).await.unwrap_err();
    assert_eq!(code(&err), "time_too_far");
    let err = web.schedule_message(&ScheduleMessage::new("C0MISSING", now + 60, "x")).await.unwrap_err();
    assert_eq!(code(&err), "channel_not_found");

    let scheduled =
        web.schedule_message(&ScheduleMessage::new(general.clone(), now + 2, "reminder")).await.unwrap();
    assert!(scheduled.scheduled_message_id.starts_with('Q'));
    assert_eq!(scheduled.post_at, now + 2);
    assert!(emu.posted_messages().iter().all(|m| m.text != "reminder"), "not posted before its time");
    let posted = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(m) = emu.posted_messages().into_iter().find(|m| m.text == "reminder") {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("posted in time");
    assert_eq!(posted.channel, general);
    let record = emu.scheduled_messages();
    assert_eq!(record[0].posted_ts.as_deref(), Some(posted.ts.as_str()));
    let at = posted.ts.as_str().split('.').next().unwrap().parse::<i64>().unwrap();
    assert!(at >= now + 2, "posted at {at}, scheduled for {}", now + 2);
}

#[tokio::test]
async fn message_blocks_are_checked_before_the_call() {
    let (emu, web) = start().await;
    let general = emu.general_channel();
    let long = vec![Block::from(Section::new("x".repeat(3001)))];
    let err = web.post_message(general.clone(), "fallback").blocks(long).await.unwrap_err();
    let ApiFailure::InvalidRequest(e) = &err.failure else { panic!("{err}") };
    let e = e.downcast_ref::<BlockError>().expect("a block error");
    assert_eq!(e.path, "blocks[0].text.text");
    assert_eq!(err.kind(), slack_rtm::ErrorKind::Config);
    let raw = json!([{"type": "divider"}, {"type": "actions", "elements": []}]);
    let err = web.post_message(general.clone(), "fallback").blocks(raw).await.unwrap_err();
    assert!(err.to_string().contains("blocks[1].elements"), "{err}");
    assert!(emu.web_calls_of("chat.postMessage").is_empty());
    let ok: Vec<Block> = vec![Header::new("ok").into()];
    web.post_message(general, "fallback").blocks(ok).await.unwrap();
}

#[tokio::test]
async fn update_ephemeral_and_view_update_check_their_blocks_before_the_call() {
    let (emu, web) = start().await;
    let general = emu.general_channel();
    let alice = emu.second_user().user;
    let too_long = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(3001)}}]);
    let fine: Vec<Block> = vec![Section::new("fine").into()];
    let fine = json!(fine);

    // chat.update
    let posted = web.post_message(general.clone(), "v1").await.unwrap();
    let update = |blocks: &serde_json::Value| UpdateMessage {
        channel: general.clone(),
        ts: posted.ts.clone(),
        text: Some("v2".into()),
        blocks: Some(blocks.clone()),
    };
    let err = web.update_message(&update(&too_long)).await.unwrap_err();
    assert!(block_error(&err).is_some_and(|e| e.path == "blocks[0].text.text"), "{err}");
    assert!(emu.web_calls_of("chat.update").is_empty(), "refused before the call");
    let updated = web.update_message(&update(&fine)).await.unwrap();
    assert_eq!(updated.ts, posted.ts);

    // chat.postEphemeral
    let ephemeral = |blocks: &serde_json::Value| PostEphemeral {
        channel: general.clone(),
        user: alice.clone(),
        text: Some("only you".into()),
        blocks: Some(blocks.clone()),
        thread_ts: None,
    };
    let err = web.post_ephemeral(&ephemeral(&too_long)).await.unwrap_err();
    assert!(block_error(&err).is_some_and(|e| e.path == "blocks[0].text.text"), "{err}");
    assert!(emu.web_calls_of("chat.postEphemeral").is_empty(), "refused before the call");
    web.post_ephemeral(&ephemeral(&fine)).await.unwrap();

    // views.update: a modal's limit (100 blocks), by the view's type.
    let modal = |blocks: serde_json::Value| json!({"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": blocks});
    let opened = web.open_view(emu.issue_trigger_id(), modal(fine.clone())).await.unwrap().view;
    let update = |view| ViewsUpdate { view_id: opened.id.clone(), external_id: None, view, hash: None };
    let err =
        web.update_view(&update(modal(json!(vec![json!({"type": "divider"}); 101])))).await.unwrap_err();
    assert!(block_error(&err).is_some_and(|e| e.path == "blocks"), "{err}");
    assert!(emu.web_calls_of("views.update").is_empty(), "refused before the call");
    let updated = web.update_view(&update(modal(json!([{"type": "divider"}])))).await.unwrap().view;
    assert_eq!(updated.id, opened.id);
    assert_eq!(emu.view(opened.id.as_deref().unwrap()).unwrap().updates, 1);

    // reactions.remove, the one write here without blocks.
    web.add_reaction(general.clone(), posted.ts.clone(), "tada").await.unwrap();
    web.remove_reaction(general.clone(), posted.ts.clone(), "tada").await.unwrap();
    let err = web.remove_reaction(general.clone(), posted.ts.clone(), "tada").await.unwrap_err();
    assert_eq!(code(&err), "no_reaction");
}

/// The Block Kit error a call was refused with before it was sent, if that was why.
fn block_error(err: &ApiCallError) -> Option<&BlockError> {
    match &err.failure {
        ApiFailure::InvalidRequest(e) => e.downcast_ref::<BlockError>(),
        _ => None,
    }
}
