//! Each typed Web API call: the request the codec builds from the typed arguments, and the
//! typed answer it parses from a realistic response (fixtures written for this project in the
//! shapes Slack documents), plus pagination, 429 and errors.

use serde_json::{Value, json};
use slack_rtm_codec::ApiFailure;
use slack_rtm_codec::web::{build_web_request, parse_web_response, to_args};
use slack_rtm_codec::{ApiBase, Token};
use slack_rtm_types::web::*;
use slack_rtm_types::{ApiWarning, ChannelId};

fn request(method: &str, args: &impl serde::Serialize) -> (String, String, Vec<u8>) {
    let req =
        build_web_request(&ApiBase::default(), &Token::new("xoxb-1-2-3"), method, &to_args(args).unwrap())
            .unwrap();
    assert_eq!(req.method(), http::Method::POST);
    let ct = req.headers()["content-type"].to_str().unwrap().to_owned();
    (req.uri().path().to_owned(), ct, req.body().clone())
}

fn json_body(method: &str, args: &impl serde::Serialize) -> Value {
    let (path, ct, body) = request(method, args);
    assert_eq!(path, format!("/api/{method}"));
    assert_eq!(ct, "application/json; charset=utf-8", "{method} takes JSON");
    serde_json::from_slice(&body).unwrap()
}

fn form_body(method: &str, args: &impl serde::Serialize) -> Vec<(String, String)> {
    let (path, ct, body) = request(method, args);
    assert_eq!(path, format!("/api/{method}"));
    assert_eq!(ct, "application/x-www-form-urlencoded", "{method} takes a form");
    let mut pairs: Vec<(String, String)> = String::from_utf8(body)
        .unwrap()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    pairs.sort();
    pairs
}

fn answer<T: serde::de::DeserializeOwned>(method: &str, body: &str) -> T {
    let resp = http::Response::builder()
        .status(200)
        .header("content-type", "application/json; charset=utf-8")
        .header("x-slack-req-id", "fixture")
        .body(body.as_bytes().to_vec())
        .unwrap();
    let parsed = parse_web_response(method, &resp).unwrap();
    assert_eq!(parsed.req_id.as_deref(), Some("fixture"));
    parsed.parse().unwrap()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn chat_post_message() {
    let mut m = PostMessage::blocks("C0123ABCD", json!([{"type": "divider"}]), "fallback")
        .in_thread("1712000000.000100");
    m.reply_broadcast = Some(true);
    m.unfurl_links = Some(false);
    let body = json_body("chat.postMessage", &m);
    assert_eq!(
        body,
        json!({"channel": "C0123ABCD", "text": "fallback", "blocks": [{"type": "divider"}],
               "thread_ts": "1712000000.000100", "reply_broadcast": true, "unfurl_links": false})
    );
    let r: PostMessageResponse = answer(
        "chat.postMessage",
        r#"{"ok":true,"channel":"C0123ABCD","ts":"1712000001.000200",
            "message":{"bot_id":"B0123","type":"message","text":"fallback","user":"U0BOT","ts":"1712000001.000200",
                       "app_id":"A0123","blocks":[{"type":"divider","block_id":"x1"}],"team":"T0123",
                       "bot_profile":{"id":"B0123","name":"deploybot"},"thread_ts":"1712000000.000100",
                       "parent_user_id":"U0ALICE"}}"#,
    );
    assert_eq!(r.channel, ChannelId::new("C0123ABCD"));
    let msg = r.message.unwrap();
    assert_eq!(msg.thread_ts.unwrap(), "1712000000.000100");
    assert!(msg.bot_profile.is_some());
}

#[test]
fn chat_update_delete_and_ephemeral() {
    let u =
        UpdateMessage { channel: "C1".into(), ts: "1.000001".into(), text: Some("new".into()), blocks: None };
    assert_eq!(json_body("chat.update", &u), json!({"channel": "C1", "ts": "1.000001", "text": "new"}));
    let r: UpdateMessageResponse = answer(
        "chat.update",
        r#"{"ok":true,"channel":"C1","ts":"1.000001","text":"new","message":{"text":"new","user":"U1","edited":{"user":"U1","ts":"2.000000"}}}"#,
    );
    assert_eq!(r.text.as_deref(), Some("new"));
    assert!(r.message.unwrap().edited.is_some());

    let d = DeleteMessage { channel: "C1".into(), ts: "1.000001".into() };
    assert_eq!(json_body("chat.delete", &d), json!({"channel": "C1", "ts": "1.000001"}));
    let r: DeleteMessageResponse = answer("chat.delete", r#"{"ok":true,"channel":"C1","ts":"1.000001"}"#);
    assert_eq!(r.ts, "1.000001");

    let e = PostEphemeral {
        channel: "C1".into(),
        user: "U2".into(),
        text: Some("psst".into()),
        blocks: None,
        thread_ts: None,
    };
    assert_eq!(json_body("chat.postEphemeral", &e), json!({"channel": "C1", "user": "U2", "text": "psst"}));
    let r: PostEphemeralResponse =
        answer("chat.postEphemeral", r#"{"ok":true,"message_ts":"1712000005.000300"}"#);
    assert_eq!(r.message_ts, "1712000005.000300");
}

#[test]
fn reactions() {
    let r = Reaction { channel: "C1".into(), timestamp: "1.000001".into(), name: "white_check_mark".into() };
    for method in ["reactions.add", "reactions.remove"] {
        assert_eq!(
            json_body(method, &r),
            json!({"channel": "C1", "timestamp": "1.000001", "name": "white_check_mark"})
        );
        let _: ReactionResponse = answer(method, r#"{"ok":true}"#);
    }
}

#[test]
fn conversations_history_paginates() {
    let mut q = HistoryQuery::new("C1");
    q.limit = Some(2);
    q.oldest = Some("1700000000.000000".into());
    assert_eq!(
        form_body("conversations.history", &q),
        pairs(&[("channel", "C1"), ("limit", "2"), ("oldest", "1700000000.000000")])
    );
    let first: HistoryPage = answer(
        "conversations.history",
        r#"{"ok":true,"messages":[
              {"type":"message","user":"U2","text":"second","ts":"1700000002.000000"},
              {"type":"message","user":"U1","text":"first","ts":"1700000001.000000","thread_ts":"1700000001.000000",
               "reply_count":3,"reply_users":["U2"],"reply_users_count":1,"latest_reply":"1700000009.000000",
               "reactions":[{"name":"eyes","users":["U2"],"count":1}]}],
            "has_more":true,"pin_count":0,"channel_actions_ts":null,"channel_actions_count":0,
            "response_metadata":{"next_cursor":"Y3Vyc29yOjE3MDAwMDAwMDA="}}"#,
    );
    assert!(first.has_more);
    assert_eq!(first.messages[1].reply_count, Some(3));
    let cursor = first.next_cursor().unwrap().to_owned();
    // The next request carries the cursor back.
    q.cursor = Some(cursor.clone());
    let encoded = cursor.replace('=', "%3D");
    assert!(form_body("conversations.history", &q).contains(&("cursor".to_owned(), encoded)));
    let last: HistoryPage = answer(
        "conversations.history",
        r#"{"ok":true,"messages":[{"type":"message","subtype":"channel_join","user":"U3","text":"<@U3> has joined the channel","ts":"1700000000.500000"}],
            "has_more":false,"response_metadata":{"next_cursor":""}}"#,
    );
    assert_eq!(last.next_cursor(), None);
    assert_eq!(last.messages[0].subtype.as_ref().unwrap().as_str(), "channel_join");
}

#[test]
fn conversations_replies_info_users_info_auth_test() {
    let q = RepliesQuery::new("C1", "1700000001.000000");
    assert_eq!(
        form_body("conversations.replies", &q),
        pairs(&[("channel", "C1"), ("ts", "1700000001.000000")])
    );
    let page: HistoryPage = answer(
        "conversations.replies",
        r#"{"messages":[{"type":"message","user":"U1","text":"parent","thread_ts":"1700000001.000000","reply_count":1,"ts":"1700000001.000000"},
                        {"type":"message","user":"U2","text":"reply","thread_ts":"1700000001.000000","parent_user_id":"U1","ts":"1700000002.000000"}],
            "has_more":false,"ok":true,"response_metadata":{"next_cursor":""}}"#,
    );
    assert_eq!(page.messages[1].parent_user_id.as_ref().unwrap().as_str(), "U1");

    assert_eq!(form_body("conversations.info", &json!({"channel": "C1"})), pairs(&[("channel", "C1")]));
    let info: ConversationInfoResponse = answer(
        "conversations.info",
        r#"{"ok":true,"channel":{"id":"C1","name":"general","is_channel":true,"is_group":false,"is_im":false,
            "created":1700000000,"creator":"U1","is_archived":false,"is_general":true,"unlinked":0,
            "name_normalized":"general","is_shared":false,"is_member":true,"is_private":false,"is_mpim":false,
            "topic":{"value":"Announcements","creator":"U1","last_set":1700000100},
            "purpose":{"value":"Where the whole team talks","creator":"","last_set":0}}}"#,
    );
    assert_eq!(info.channel.is_general, Some(true));
    assert_eq!(info.channel.name.as_deref(), Some("general"));

    assert_eq!(form_body("users.info", &json!({"user": "U1"})), pairs(&[("user", "U1")]));
    let user: UserInfoResponse = answer(
        "users.info",
        r#"{"ok":true,"user":{"id":"U1","team_id":"T1","name":"ada","deleted":false,"color":"4bbe2e",
            "real_name":"Ada Lovelace","tz":"Europe/London","tz_label":"British Summer Time","tz_offset":3600,
            "profile":{"avatar_hash":"a1b2c3d4e5f6","status_text":"Reviewing PRs","real_name":"Ada Lovelace",
                       "display_name":"ada","email":"ada@acme.example","team":"T1"},
            "is_admin":true,"is_owner":false,"is_bot":false,"updated":1712003000}}"#,
    );
    assert_eq!(user.user.real_name.as_deref(), Some("Ada Lovelace"));

    assert!(form_body("auth.test", &json!({})).is_empty());
    let me: AuthTestResponse = answer(
        "auth.test",
        r#"{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"bot",
            "team_id":"T0ACME0001","user_id":"U0DEPLOYBOT","bot_id":"B0DEPLOY01","is_enterprise_install":false}"#,
    );
    assert_eq!(me.bot_id.unwrap().as_str(), "B0DEPLOY01");
}

#[test]
fn views_open_and_update() {
    let view = json!({"type": "modal", "callback_id": "deploy-modal", "title": {"type": "plain_text", "text": "Deploy"},
                      "blocks": [{"type": "input", "block_id": "b1", "label": {"type": "plain_text", "text": "Name"},
                                  "element": {"type": "plain_text_input", "action_id": "a1"}}]});
    let open = ViewsOpen { trigger_id: "4242.1717.9f3c0a7e55d1b2c4".into(), view: view.clone() };
    assert_eq!(
        json_body("views.open", &open),
        json!({"trigger_id": "4242.1717.9f3c0a7e55d1b2c4", "view": view})
    );
    let fixture = r#"{"ok":true,"view":{"id":"V0DEPLOY01","team_id":"T0ACME0001","type":"modal",
        "title":{"type":"plain_text","text":"Deploy"},"close":null,"submit":null,"blocks":[],
        "private_metadata":"","callback_id":"deploy-modal","state":{"values":{}},"hash":"1712000000.42",
        "clear_on_close":false,"notify_on_close":false,"root_view_id":"V0DEPLOY01","app_id":"A0DEPLOY01",
        "external_id":"","bot_id":"B0DEPLOY01"}}"#;
    let opened: ViewInfoResponse = answer("views.open", fixture);
    assert_eq!(opened.view.id.as_deref(), Some("V0DEPLOY01"));
    let update = ViewsUpdate {
        view_id: opened.view.id.clone(),
        external_id: None,
        view: view.clone(),
        hash: opened.view.hash.clone(),
    };
    assert_eq!(
        json_body("views.update", &update),
        json!({"view_id": "V0DEPLOY01", "view": view, "hash": "1712000000.42"})
    );
    let _: ViewInfoResponse = answer("views.update", fixture);
}

#[test]
fn rate_limits_errors_and_warnings() {
    let resp = |status: u16, headers: &[(&str, &str)], body: &str| {
        let mut b = http::Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(body.as_bytes().to_vec()).unwrap()
    };
    let e = parse_web_response(
        "conversations.history",
        &resp(429, &[("Retry-After", "30")], r#"{"ok":false,"error":"ratelimited"}"#),
    )
    .unwrap_err();
    assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(30)));
    // A garbled Retry-After waits the method's tier interval (Tier 3: 1.2 s).
    let e =
        parse_web_response("conversations.history", &resp(429, &[("Retry-After", "soon")], "")).unwrap_err();
    assert_eq!(e.retry_after(), Some(std::time::Duration::from_millis(1200)));
    let e = parse_web_response(
        "chat.postMessage",
        &resp(200, &[], r#"{"ok":false,"error":"not_in_channel","warning":"missing_charset","response_metadata":{"warnings":["missing_charset"]}}"#),
    )
    .unwrap_err();
    let method = e.method.clone();
    match e.failure {
        ApiFailure::Api { error, warnings, .. } => {
            assert_eq!(error.as_str(), "not_in_channel");
            assert_eq!(warnings, [ApiWarning::MissingCharset]);
            assert_eq!(method, "chat.postMessage");
        }
        other => panic!("{other:?}"),
    }
    let ok = parse_web_response(
        "chat.postMessage",
        &resp(200, &[], r#"{"ok":true,"channel":"C1","ts":"1.1","warning":"superfluous_charset","response_metadata":{"warnings":["superfluous_charset"],"messages":["[WARN] superfluous charset"]}}"#),
    )
    .unwrap();
    assert_eq!(ok.warnings, [ApiWarning::SuperfluousCharset]);
    assert_eq!(ok.messages.len(), 1);
}
