//! The test kit for users' apps: acting as users (`Emulator::user`), the app's acks applied,
//! `response_url`s, triggers and the modal stack — driven by a raw Socket Mode client standing
//! in for the app (no facade), over loopback.

mod common;
use common::*;
use slack_rtm_emulator::{ActError, ActionSurface, InteractionConfig, ResponseEffect};
use slack_rtm_types::Ts;

/// A Web API call as the app (bot token), JSON body.
async fn api(emu: &Emulator, method: &str, body: Value) -> Value {
    let r = post(
        emu,
        &format!("/api/{method}"),
        Some("application/json; charset=utf-8"),
        body.to_string().as_bytes(),
        Some(&emu.token()),
    )
    .await;
    assert_eq!(r.status, 200);
    r.json()
}

/// POSTs a raw body to a URL the emulator handed out.
async fn post_url(emu: &Emulator, url: &str, body: &[u8]) -> HttpResp {
    let path = url.split_once("://").unwrap().1;
    let path = &path[path.find('/').unwrap()..];
    post(emu, path, Some("application/json"), body, None).await
}

async fn app(config: EmulatorConfig) -> (Emulator, Client) {
    let emu = start(config.socket_mode(sm())).await;
    let (c, _) = Client::socket_mode(&emu).await;
    (emu, c)
}

fn modal(callback_id: &str, blocks: Value) -> Value {
    json!({"type": "modal", "callback_id": callback_id, "title": {"type": "plain_text", "text": "Form"},
           "submit": {"type": "plain_text", "text": "Go"}, "blocks": blocks})
}

fn name_input() -> Value {
    json!([{"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "value"}}])
}

/// `user` runs a global shortcut, acked by the app: returns its trigger.
async fn shortcut_trigger(emu: &Emulator, c: &mut Client, user: &UserId) -> String {
    let sent = emu.user(user).global_shortcut("open_form");
    let env = c.envelope().await;
    c.ack(&env, None).await;
    sent.trigger_id.unwrap()
}

/// Opens a modal for `alice` through a global shortcut: returns its view id.
async fn open_modal(emu: &Emulator, c: &mut Client, alice: &UserId, view: Value) -> String {
    let trigger = shortcut_trigger(emu, c, alice).await;
    let r = api(emu, "views.open", json!({"trigger_id": trigger, "view": view})).await;
    assert_eq!(r["ok"], true, "{r}");
    r["view"]["id"].as_str().unwrap().to_owned()
}

use slack_rtm_types::UserId;

const T: Duration = Duration::from_secs(5);

#[tokio::test]
async fn saying_and_mentioning_deliver_events_like_slack_and_the_ack_is_awaited() {
    let (emu, mut c) = app(quick()).await;
    let (ch, alice) = (emu.general_channel(), emu.second_user().user);
    let said = emu.user(&alice).say(&ch, "ping").unwrap();
    let env = c.envelope().await;
    assert_eq!(env["type"], "events_api");
    let p = &env["payload"];
    assert_eq!(p["type"], "event_callback");
    assert!(p["event_id"].as_str().unwrap().starts_with("Ev"));
    assert!(p["event_time"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(p["authorizations"][0]["user_id"], json!(emu.bot_user()));
    assert_eq!(p["event"]["type"], "message");
    assert_eq!(p["event"]["text"], "ping");
    assert_eq!(p["event"]["user"], json!(alice));
    assert_eq!(json!(said.ts.clone().unwrap()), p["event"]["ts"]);
    assert_eq!(said.envelopes.len(), 1);
    c.ack(&env, None).await;
    let ack = emu.wait_for_ack(said.seq, T).await.unwrap();
    assert!(!ack.late);

    let reply = emu.user(&alice).say_in_thread(&ch, said.ts.as_ref().unwrap(), "in thread").unwrap();
    let env = c.envelope().await;
    assert_eq!(env["payload"]["event"]["thread_ts"], json!(said.ts.unwrap()));
    c.ack(&env, None).await;
    emu.wait_for_ack(reply.seq, T).await.unwrap();

    let mention = emu.user(&alice).mention_bot(&ch, "hello").unwrap();
    assert_eq!(mention.envelopes.len(), 2);
    let first = c.envelope().await;
    let second = c.envelope().await;
    assert_eq!(first["payload"]["event"]["type"], "message");
    assert_eq!(second["payload"]["event"]["type"], "app_mention");
    assert_eq!(second["payload"]["event"]["text"], format!("<@{}> hello", emu.bot_user()));
    // The returned seq is the app_mention's: its ack is the one awaited.
    c.ack(&first, None).await;
    assert!(emu.wait_for_ack(mention.seq, Duration::from_millis(200)).await.is_err());
    c.ack(&second, None).await;
    emu.wait_for_ack(mention.seq, T).await.unwrap();
}

#[tokio::test]
async fn the_bots_own_messages_carry_its_bot_id() {
    let (emu, mut c) = app(quick()).await;
    let r = api(&emu, "chat.postMessage", json!({"channel": emu.general_channel(), "text": "from the bot"}))
        .await;
    assert_eq!(r["ok"], true);
    let env = c.envelope().await;
    assert_eq!(env["payload"]["event"]["user"], json!(emu.bot_user()));
    assert!(env["payload"]["event"]["bot_id"].as_str().unwrap().starts_with('B'), "{env}");
}

#[tokio::test]
async fn a_command_reply_in_the_ack_is_shown_and_its_response_url_posts_in_channel() {
    let (emu, mut c) = app(quick()).await;
    let (ch, alice) = (emu.general_channel(), emu.second_user().user);
    let cmd = emu.user(&alice).run_command(&ch, "/echo", "hi there");
    let env = c.envelope().await;
    assert_eq!(env["type"], "slash_commands");
    let p = &env["payload"];
    assert_eq!((p["command"].as_str(), p["text"].as_str()), (Some("/echo"), Some("hi there")));
    assert_eq!(p["response_url"], json!(cmd.response_url.clone().unwrap()));
    assert_eq!(p["trigger_id"], json!(cmd.trigger_id.clone().unwrap()));
    c.ack(&env, Some(json!({"text": "hi there"}))).await;
    let ack = emu.wait_for_ack(cmd.seq, T).await.unwrap();
    assert_eq!(ack.payload, Some(json!({"text": "hi there"})));
    let eph = emu.ephemeral_messages_for(&alice);
    assert_eq!(eph.len(), 1);
    assert_eq!((eph[0].text.as_deref(), eph[0].source), (Some("hi there"), "ack"));

    let url = cmd.response_url.unwrap();
    let r = post_url(&emu, &url, br#"{"response_type":"in_channel","text":"for everyone"}"#).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let rec = emu.responses();
    let Some(ResponseEffect::PostedInChannel(ts)) = rec[0].effect.clone() else { panic!("{rec:?}") };
    let msg = emu.message(&ch, &ts).unwrap();
    assert_eq!((msg["text"].as_str(), msg["user"].clone()), (Some("for everyone"), json!(emu.bot_user())));
    let history = api(&emu, "conversations.history", json!({"channel": ch})).await;
    assert_eq!(history["messages"][0]["text"], "for everyone");
    // Ephemeral is the default.
    let r = post_url(&emu, &url, br#"{"text":"just you"}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(emu.ephemeral_messages_for(&alice).last().unwrap().source, "response_url");
}

#[tokio::test]
async fn a_response_url_refuses_bad_json_unknown_urls_and_more_than_five_uses() {
    let emu = start(quick().socket_mode(sm())).await;
    let (ch, alice) = (emu.general_channel(), emu.second_user().user);
    let url = emu.user(&alice).run_command(&ch, "/x", "").response_url.unwrap();
    let r = post_url(&emu, &url, b"{not json").await;
    assert_eq!((r.status, r.error()), (400, "invalid_payload".to_owned()));
    let r = post_url(&emu, &url, b"{}").await;
    assert_eq!((r.status, r.error()), (400, "no_text".to_owned()));
    for i in 0..5 {
        let r = post_url(&emu, &url, format!(r#"{{"text":"{i}"}}"#).as_bytes()).await;
        assert_eq!(r.status, 200, "use {i}");
    }
    let r = post_url(&emu, &url, br#"{"text":"sixth"}"#).await;
    assert_eq!((r.status, r.error()), (404, "used_url".to_owned()));
    let r = post_url(&emu, &format!("{url}x"), br#"{"text":"?"}"#).await;
    assert_eq!((r.status, r.error()), (404, "no_service".to_owned()));
    let recs = emu.responses();
    assert_eq!(recs.len(), 9);
    assert_eq!(recs.iter().filter(|r| r.status == 200).count(), 5);
    assert_eq!(emu.ephemeral_messages().len(), 5);
}

#[tokio::test]
async fn a_response_url_expires() {
    let cfg = quick().interactions(InteractionConfig::default().response_url_lifetime(Duration::ZERO));
    let emu = start(cfg.socket_mode(sm())).await;
    let url =
        emu.user(&emu.second_user().user).run_command(&emu.general_channel(), "/x", "").response_url.unwrap();
    let r = post_url(&emu, &url, br#"{"text":"late"}"#).await;
    assert_eq!((r.status, r.error()), (404, "expired_url".to_owned()));
}

fn approve_blocks() -> Value {
    json!([
        {"type": "section", "block_id": "q", "text": {"type": "mrkdwn", "text": "Deploy?"}},
        {"type": "actions", "block_id": "act", "elements": [
            {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "Approve"}, "value": "yes"},
            {"type": "static_select", "action_id": "env", "placeholder": {"type": "plain_text", "text": "Env"},
             "options": [{"text": {"type": "plain_text", "text": "Prod"}, "value": "prod"},
                         {"text": {"type": "plain_text", "text": "Staging"}, "value": "staging"}]},
        ]},
    ])
}

/// The app connected, with a message of its own holding `approve_blocks` (its event acked).
async fn app_with_approval() -> (Emulator, Client, Ts) {
    let (emu, mut c) = app(quick()).await;
    let body = json!({"channel": emu.general_channel(), "text": "Deploy?", "blocks": approve_blocks()});
    let r = api(&emu, "chat.postMessage", body).await;
    let ts = Ts::new(r["ts"].as_str().unwrap());
    let posted = c.envelope().await; // the bot's own message event
    c.ack(&posted, None).await;
    (emu, c, ts)
}

#[tokio::test]
async fn clicking_a_button_sends_block_actions_and_its_response_url_replaces_or_deletes_the_message() {
    let (emu, mut c, ts) = app_with_approval().await;
    let (ch, alice) = (emu.general_channel(), emu.second_user().user);

    let surface = ActionSurface::message(&ch, &ts);
    let click = emu.user(&alice).click(&surface, "approve").unwrap();
    let env = c.envelope().await;
    assert_eq!(env["type"], "interactive");
    let p = &env["payload"];
    assert_eq!(p["type"], "block_actions");
    assert_eq!(
        p["container"],
        json!({"type": "message", "message_ts": ts, "channel_id": ch, "is_ephemeral": false})
    );
    assert_eq!(p["message"]["text"], "Deploy?");
    assert_eq!(p["message"]["blocks"][1]["block_id"], "act");
    assert_eq!(p["user"]["id"], json!(alice));
    let a = &p["actions"][0];
    assert_eq!(
        (a["type"].as_str(), a["action_id"].as_str(), a["block_id"].as_str()),
        (Some("button"), Some("approve"), Some("act"))
    );
    assert_eq!(a["value"], "yes");
    assert!(a["action_ts"].is_string());
    assert_eq!(p["trigger_id"], json!(click.trigger_id.unwrap()));
    c.ack(&env, None).await;
    emu.wait_for_ack(click.seq, T).await.unwrap();

    let url = click.response_url.unwrap();
    let r = post_url(&emu, &url, br#"{"replace_original":true,"text":"Approved by you"}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(emu.responses()[0].effect, Some(ResponseEffect::ReplacedOriginal(ts.clone())));
    let msg = emu.message(&ch, &ts).unwrap();
    assert_eq!(msg["text"], "Approved by you");
    assert!(msg.get("blocks").is_none(), "a replacement without blocks drops them: {msg}");

    let r = post_url(&emu, &url, br#"{"delete_original":true}"#).await;
    assert_eq!(r.status, 200);
    assert!(emu.message(&ch, &ts).is_none());
    // Nothing left to act on.
    assert!(matches!(emu.user(&alice).click(&surface, "approve"), Err(ActError::NoMessage { .. })));
}

#[tokio::test]
async fn selecting_types_the_option_and_unknown_elements_or_options_are_errors() {
    let (emu, mut c, ts) = app_with_approval().await;
    let (ch, alice) = (emu.general_channel(), emu.second_user().user);
    let surface = ActionSurface::message(&ch, &ts);
    let actor = emu.user(&alice);
    actor.select(&surface, "env", "staging").unwrap();
    let env = c.envelope().await;
    let a = &env["payload"]["actions"][0];
    assert_eq!(a["type"], "static_select");
    assert_eq!(a["selected_option"]["value"], "staging");
    assert_eq!(a["selected_option"]["text"]["text"], "Staging");
    assert_eq!(
        actor.select(&surface, "env", "qa"),
        Err(ActError::NoOption { action_id: "env".into(), value: "qa".into() })
    );
    assert_eq!(actor.click(&surface, "nope"), Err(ActError::NoElement("nope".into())));
}

#[tokio::test]
async fn shortcuts_carry_their_triggers_and_a_trigger_opens_one_modal_once() {
    let (emu, mut c) = app(quick()).await;
    let (ch, alice) = (emu.general_channel(), emu.second_user().user);
    let sc = emu.user(&alice).global_shortcut("open_form");
    let env = c.envelope().await;
    let p = &env["payload"];
    assert_eq!((p["type"].as_str(), p["callback_id"].as_str()), (Some("shortcut"), Some("open_form")));
    let trigger = sc.trigger_id.unwrap();
    assert_eq!(p["trigger_id"], json!(trigger));
    c.ack(&env, None).await;
    let r =
        api(&emu, "views.open", json!({"trigger_id": trigger, "view": modal("form", name_input())})).await;
    assert_eq!(r["ok"], true, "{r}");
    let view_id = r["view"]["id"].as_str().unwrap().to_owned();
    let open = emu.open_views(&alice);
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].id.as_str(), &open[0].user), (view_id.as_str(), &alice));
    let again =
        api(&emu, "views.open", json!({"trigger_id": trigger, "view": modal("form", name_input())})).await;
    assert_eq!(again["error"], "exchanged_trigger_id");

    let said = emu.user(&alice).say(&ch, "look at this").unwrap();
    let ev = c.envelope().await;
    c.ack(&ev, None).await;
    let ts = said.ts.unwrap();
    let ms = emu.user(&alice).message_shortcut(&ch, &ts, "save_it").unwrap();
    let env = c.envelope().await;
    let p = &env["payload"];
    assert_eq!((p["type"].as_str(), p["callback_id"].as_str()), (Some("message_action"), Some("save_it")));
    assert_eq!(p["message"]["text"], "look at this");
    assert_eq!(p["message_ts"], json!(ts));
    assert_eq!(p["channel"]["id"], json!(ch));
    assert_eq!(p["response_url"], json!(ms.response_url.unwrap()));
}

#[tokio::test]
async fn a_trigger_expires_after_its_lifetime() {
    let cfg = quick().interactions(InteractionConfig::default().trigger_lifetime(Duration::ZERO));
    let (emu, mut c) = app(cfg).await;
    let trigger = shortcut_trigger(&emu, &mut c, &emu.second_user().user).await;
    let r =
        api(&emu, "views.open", json!({"trigger_id": trigger, "view": modal("form", name_input())})).await;
    assert_eq!(r["error"], "expired_trigger_id");
    assert!(emu.opened_views().is_empty());
}

#[tokio::test]
async fn a_submission_gets_errors_then_update_then_push_then_closes_one_by_one() {
    let (emu, mut c) = app(quick()).await;
    let alice = emu.second_user().user;
    let actor = emu.user(&alice);
    let mut view = modal("form", name_input());
    view["private_metadata"] = json!("meta");
    let view_id = open_modal(&emu, &mut c, &alice, view).await;

    // Empty name → errors: shown, the view stays open.
    let sub = actor.submit_view(&view_id, &[]).unwrap();
    let env = c.envelope().await;
    let p = &env["payload"];
    assert_eq!(p["type"], "view_submission");
    assert_eq!(
        (p["view"]["id"].as_str(), p["view"]["callback_id"].as_str()),
        (Some(view_id.as_str()), Some("form"))
    );
    assert_eq!(p["view"]["private_metadata"], "meta");
    assert_eq!(
        p["view"]["state"]["values"]["name"]["value"],
        json!({"type": "plain_text_input", "value": null})
    );
    assert_eq!(p["response_urls"], json!([]));
    c.ack(&env, Some(json!({"response_action": "errors", "errors": {"name": "Please enter a name"}}))).await;
    emu.wait_for_ack(sub.seq, T).await.unwrap();
    assert_eq!(emu.view_errors(&view_id), Some(json!({"name": "Please enter a name"})));
    assert_eq!(emu.open_views(&alice).len(), 1);

    // A name → update: the view is replaced, errors gone.
    let sub = actor.submit_view(&view_id, &[("value", "Bob")]).unwrap();
    let env = c.envelope().await;
    assert_eq!(env["payload"]["view"]["state"]["values"]["name"]["value"]["value"], "Bob");
    let hash = env["payload"]["view"]["hash"].clone();
    c.ack(&env, Some(json!({"response_action": "update", "view": modal("step2", name_input())}))).await;
    emu.wait_for_ack(sub.seq, T).await.unwrap();
    let v = emu.view(&view_id).unwrap();
    assert_eq!((v.view["callback_id"].as_str(), v.updates, v.closed), (Some("step2"), 1, false));
    assert_ne!(json!(v.hash), hash);
    assert_eq!(emu.view_errors(&view_id), None);

    // push → stacked.
    let sub = actor.submit_view(&view_id, &[("value", "Bob")]).unwrap();
    let env = c.envelope().await;
    c.ack(&env, Some(json!({"response_action": "push", "view": modal("step3", name_input())}))).await;
    emu.wait_for_ack(sub.seq, T).await.unwrap();
    let open = emu.open_views(&alice);
    assert_eq!(open.len(), 2);
    let top = open[1].id.clone();
    assert_eq!(
        (open[1].previous_view_id.as_deref(), open[1].root_view_id.as_str()),
        (Some(view_id.as_str()), view_id.as_str())
    );

    // Empty ack on the top view → only it closes.
    let sub = actor.submit_view(&top, &[("value", "x")]).unwrap();
    let env = c.envelope().await;
    c.ack(&env, None).await;
    emu.wait_for_ack(sub.seq, T).await.unwrap();
    assert_eq!(
        emu.open_views(&alice).iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
        vec![view_id.clone()]
    );
    assert!(emu.view(&top).unwrap().closed);

    // clear → everything closes.
    let sub = actor.submit_view(&view_id, &[("value", "x")]).unwrap();
    let env = c.envelope().await;
    c.ack(&env, Some(json!({"response_action": "clear"}))).await;
    emu.wait_for_ack(sub.seq, T).await.unwrap();
    assert!(emu.open_views(&alice).is_empty());
    assert_eq!(actor.submit_view(&view_id, &[]), Err(ActError::NoView(view_id)));
}

#[tokio::test]
async fn closing_a_modal_sends_view_closed_only_when_asked() {
    let (emu, mut c) = app(quick()).await;
    let alice = emu.second_user().user;
    let quiet = open_modal(&emu, &mut c, &alice, modal("quiet", name_input())).await;
    assert_eq!(emu.user(&alice).close_view(&quiet), Ok(None));
    assert!(emu.open_views(&alice).is_empty());
    let mut view = modal("loud", name_input());
    view["notify_on_close"] = json!(true);
    let loud = open_modal(&emu, &mut c, &alice, view).await;
    let sent = emu.user(&alice).close_view(&loud).unwrap().unwrap();
    let env = c.envelope().await;
    let p = &env["payload"];
    assert_eq!(
        (p["type"].as_str(), p["view"]["id"].as_str(), p["is_cleared"].as_bool()),
        (Some("view_closed"), Some(loud.as_str()), Some(false))
    );
    c.ack(&env, None).await;
    emu.wait_for_ack(sent.seq, T).await.unwrap();
    assert!(emu.open_views(&alice).is_empty());
}

#[tokio::test]
async fn views_push_needs_a_fresh_trigger_stops_at_three_and_update_checks_the_hash() {
    let (emu, mut c) = app(quick()).await;
    let alice = emu.second_user().user;
    let mut root = modal(
        "root",
        json!([{"type": "actions", "block_id": "a", "elements": [
        {"type": "button", "action_id": "more", "text": {"type": "plain_text", "text": "More"}}]}]),
    );
    root["external_id"] = json!("ext-1");
    let root_id = open_modal(&emu, &mut c, &alice, root.clone()).await;
    // A click in the modal: block_actions with container type view and the view itself.
    for depth in 2..=4 {
        let click = emu.user(&alice).click(&ActionSurface::view(&root_id), "more").unwrap();
        let env = c.envelope().await;
        assert_eq!(env["payload"]["container"], json!({"type": "view", "view_id": root_id}));
        assert_eq!(env["payload"]["view"]["id"], json!(root_id));
        assert!(env["payload"].get("response_url").is_none());
        c.ack(&env, None).await;
        let r = api(
            &emu,
            "views.push",
            json!({"trigger_id": click.trigger_id.unwrap(), "view": modal("pushed", name_input())}),
        )
        .await;
        if depth <= 3 {
            assert_eq!(r["ok"], true, "{r}");
            assert!(r["view"]["previous_view_id"].is_string());
            assert_eq!(emu.open_views(&alice).len(), depth);
        } else {
            assert_eq!(r["error"], "push_limit_reached");
        }
    }
    let stale = api(&emu, "views.update", json!({"external_id": "ext-1", "hash": "1.2", "view": root})).await;
    assert_eq!(stale["error"], "hash_conflict");
    let hash = emu.view(&root_id).unwrap().hash;
    let mut changed = root.clone();
    changed["callback_id"] = json!("root2");
    let ok = api(&emu, "views.update", json!({"external_id": "ext-1", "hash": hash, "view": changed})).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(emu.view(&root_id).unwrap().view["callback_id"], "root2");
    emu.user(&alice).close_view(&root_id).unwrap();
    let gone = api(&emu, "views.update", json!({"view_id": root_id, "view": root})).await;
    assert_eq!(gone["error"], "not_found");
    let trigger = shortcut_trigger(&emu, &mut c, &alice).await;
    let r = api(&emu, "views.push", json!({"trigger_id": trigger, "view": modal("p", name_input())})).await;
    assert_eq!(r["error"], "not_found");
}

#[tokio::test]
async fn a_choice_in_a_modal_is_in_its_state_and_submitted_with_it() {
    let (emu, mut c) = app(quick()).await;
    let alice = emu.second_user().user;
    let blocks = json!([
        {"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
         "element": {"type": "plain_text_input", "action_id": "value"}},
        {"type": "input", "block_id": "when", "dispatch_action": true, "label": {"type": "plain_text", "text": "When"},
         "element": {"type": "datepicker", "action_id": "date"}},
    ]);
    let view_id = open_modal(&emu, &mut c, &alice, modal("form", blocks)).await;
    emu.user(&alice).select(&ActionSurface::view(&view_id), "date", "2026-12-24").unwrap();
    let env = c.envelope().await;
    let p = &env["payload"];
    assert_eq!(p["actions"][0]["selected_date"], "2026-12-24");
    assert_eq!(
        p["view"]["state"]["values"]["when"]["date"],
        json!({"type": "datepicker", "selected_date": "2026-12-24"})
    );
    c.ack(&env, None).await;
    emu.user(&alice).submit_view(&view_id, &[("value", "Ann")]).unwrap();
    let env = c.envelope().await;
    let values = &env["payload"]["view"]["state"]["values"];
    assert_eq!(values["when"]["date"]["selected_date"], "2026-12-24");
    assert_eq!(values["name"]["value"]["value"], "Ann");
}

#[tokio::test]
async fn typing_in_an_external_select_reads_back_the_options_the_app_answered() {
    let (emu, mut c) = app(quick()).await;
    let alice = emu.second_user().user;
    let blocks = json!([{"type": "input", "block_id": "fruit", "label": {"type": "plain_text", "text": "Fruit"},
        "element": {"type": "external_select", "action_id": "pick", "min_query_length": 1}}]);
    let view_id = open_modal(&emu, &mut c, &alice, modal("form", blocks)).await;
    let s = emu.user(&alice).type_in_select(&ActionSurface::view(&view_id), "pick", "an").unwrap();
    let env = c.envelope().await;
    let p = &env["payload"];
    assert_eq!(
        (p["type"].as_str(), p["action_id"].as_str(), p["block_id"].as_str(), p["value"].as_str()),
        (Some("block_suggestion"), Some("pick"), Some("fruit"), Some("an"))
    );
    assert_eq!(p["view"]["id"], json!(view_id));
    let options = json!([{"text": {"type": "plain_text", "text": "banana"}, "value": "banana"}]);
    c.ack(&env, Some(json!({"options": options}))).await;
    assert_eq!(emu.wait_for_options(s.seq, T).await.unwrap(), options.as_array().unwrap().clone());
    // The user picks what the app offered.
    emu.user(&alice).select(&ActionSurface::view(&view_id), "pick", "banana").unwrap();
    let env = c.envelope().await;
    assert_eq!(env["payload"]["actions"][0]["selected_option"]["value"], "banana");
}

#[tokio::test]
async fn opening_the_app_home_sends_app_home_opened() {
    let (emu, mut c) = app(quick()).await;
    let alice = emu.second_user().user;
    let s = emu.user(&alice).open_home("home");
    let env = c.envelope().await;
    let e = &env["payload"]["event"];
    assert_eq!(
        (e["type"].as_str(), e["tab"].as_str(), e["user"].clone()),
        (Some("app_home_opened"), Some("home"), json!(alice))
    );
    assert!(e["channel"].as_str().unwrap().starts_with('D'));
    c.ack(&env, None).await;
    emu.wait_for_ack(s.seq, T).await.unwrap();
}

#[tokio::test]
async fn an_action_before_the_app_connects_waits_for_its_socket() {
    let emu = start(quick().socket_mode(sm())).await;
    let (ch, alice) = (emu.general_channel(), emu.second_user().user);
    let said = emu.user(&alice).say(&ch, "early").unwrap();
    let (mut c, _) = Client::socket_mode(&emu).await;
    let env = c.envelope().await;
    assert_eq!(env["payload"]["event"]["text"], "early");
    c.ack(&env, None).await;
    emu.wait_for_ack(said.seq, T).await.unwrap();
}

#[tokio::test]
async fn the_waits_see_what_the_app_does_after_its_ack() {
    let (emu, mut c) = app(quick()).await;
    let (ch, alice) = (emu.general_channel(), emu.second_user().user);
    // The app acks the shortcut first and opens its modal afterwards.
    let trigger = shortcut_trigger(&emu, &mut c, &alice).await;
    let waiting = emu.wait_for_open_view(&alice, T, |v| v.view["callback_id"] == "form");
    let opening =
        api(&emu, "views.open", json!({"trigger_id": trigger, "view": modal("form", name_input())}));
    let (view, r) = tokio::join!(waiting, opening);
    assert_eq!(json!(view.unwrap().id), r["view"]["id"]);
    assert!(emu.wait_for_open_view(&alice, Duration::from_millis(50), |v| v.closed).await.is_err());

    let waiting = emu.wait_for_message(T, |m| m.text == "pong");
    let posting = api(&emu, "chat.postMessage", json!({"channel": ch, "text": "pong"}));
    let (m, _) = tokio::join!(waiting, posting);
    assert_eq!(m.unwrap().user, emu.bot_user());

    let waiting = emu.wait_for_ephemeral_message(&alice, T, |m| m.text.as_deref() == Some("psst"));
    let posting = api(&emu, "chat.postEphemeral", json!({"channel": ch, "user": alice, "text": "psst"}));
    let (m, _) = tokio::join!(waiting, posting);
    assert_eq!(m.unwrap().source, "chat.postEphemeral");
}

#[tokio::test]
async fn a_late_ack_is_recorded_but_not_applied() {
    // Every ack is after a zero deadline.
    let emu = start(quick().socket_mode(sm().ack_timeout(Duration::ZERO))).await;
    let (mut c, _) = Client::socket_mode(&emu).await;
    let alice = emu.second_user().user;
    let view_id = open_modal(&emu, &mut c, &alice, modal("form", name_input())).await;
    let sub = emu.user(&alice).submit_view(&view_id, &[]).unwrap();
    let env = c.envelope().await;
    c.ack(&env, Some(json!({"response_action": "errors", "errors": {"name": "late"}}))).await;
    let ack = emu.wait_for_ack(sub.seq, T).await.unwrap();
    assert!(ack.late);
    assert_eq!(emu.view_errors(&view_id), None);
    assert_eq!(emu.open_views(&alice).len(), 1, "not closed either");
}
