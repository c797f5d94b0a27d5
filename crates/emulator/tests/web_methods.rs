//! The Web API methods over raw HTTP/1.1 on loopback: requests built by the codec (as a real
//! client would send them), answers checked by hand and decoded by the codec.

mod common;

use common::*;
use slack_rtm_codec::web::{build_web_request, parse_web_response, to_args};
use slack_rtm_codec::{ApiBase, Token};
use slack_rtm_types::Ts;
use slack_rtm_types::web::{HistoryPage, PostMessageResponse, ViewInfoResponse};

/// Calls `method` with `args` the way the codec builds it (JSON or form, Bearer token).
async fn web(emu: &Emulator, token: &str, method: &str, args: Value) -> HttpResp {
    let base = ApiBase::parse(&emu.api_url(), true).unwrap();
    let req = build_web_request(&base, &Token::new(token), method, &to_args(&args).unwrap()).unwrap();
    let headers: Vec<(String, String)> =
        req.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned())).collect();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    http_raw(emu, &request("POST", req.uri().path(), &headers, req.body())).await
}

fn ok(r: &HttpResp) -> Value {
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    v
}

fn decode<T: serde::de::DeserializeOwned>(method: &str, r: &HttpResp) -> T {
    let resp = http::Response::builder().status(r.status).body(r.body.clone()).unwrap();
    parse_web_response(method, &resp).unwrap().parse().unwrap()
}

#[tokio::test]
async fn post_message_reaches_the_socket_and_the_records_and_history() {
    let emu = start(quick()).await;
    let general = emu.general_channel();
    let alice = emu.second_user();
    let mut sock = Client::connect(&emu, &alice.token).await;
    let blocks =
        json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*deployed* <https://x.test|v2>"}}]);
    let r = web(
        &emu,
        &emu.token(),
        "chat.postMessage",
        json!({"channel": general, "text": "deployed v2", "blocks": blocks}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-slack-req-id").is_some());
    let posted: PostMessageResponse = decode("chat.postMessage", &r);
    assert_eq!(posted.channel, general);
    let message = posted.message.expect("message");
    assert_eq!(message.text.as_deref(), Some("deployed v2"));
    assert!(message.bot_id.is_some(), "posted by the bot user");

    // The socket sees it as a message event.
    let ev = loop {
        let v = sock.recv_json().await;
        if v["type"] == "message" {
            break v;
        }
    };
    assert_eq!(ev["ts"], posted.ts.as_str());
    assert_eq!(ev["user"], emu.bot_user().as_str());
    // The records.
    let recorded = emu.posted_messages();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].ts, posted.ts);
    let call = &emu.web_calls_of("chat.postMessage")[0];
    assert_eq!(call.user.as_ref(), Some(&emu.bot_user()));
    assert_eq!(call.arg("text"), Some("deployed v2"));
    // History shows the blocks.
    let page: HistoryPage = decode(
        "conversations.history",
        &web(&emu, &alice.token, "conversations.history", json!({"channel": general})).await,
    );
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].blocks.as_ref().unwrap().to_value(), blocks);
}

#[tokio::test]
async fn post_message_with_blocks_and_no_text_is_accepted_like_slack_does() {
    let emu = start(quick()).await;
    let general = emu.general_channel();
    let blocks = json!([
        {"type": "header", "text": {"type": "plain_text", "text": "Deploy"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*v2* is out"},
         "fields": [{"type": "mrkdwn", "text": "by ops"}]},
        {"type": "divider"}
    ]);
    let r = web(&emu, &emu.token(), "chat.postMessage", json!({"channel": general, "blocks": blocks})).await;
    let v = ok(&r);
    assert!(v.get("error").is_none(), "{v}");
    assert_eq!(v["message"]["blocks"], blocks);
    // The text is built from the blocks' text objects, in order.
    assert_eq!(v["message"]["text"], "Deploy\n*v2* is out\nby ops");
    // Blocks with no text at all are accepted too; neither text nor blocks is still `no_text`.
    let divider = json!([{"type": "divider"}]);
    let r = web(&emu, &emu.token(), "chat.postMessage", json!({"channel": general, "blocks": divider})).await;
    assert_eq!(ok(&r)["message"]["blocks"], divider);
    let r = web(&emu, &emu.token(), "chat.postMessage", json!({"channel": general, "text": ""})).await;
    assert_eq!(r.error(), "no_text");
}

#[tokio::test]
async fn a_form_body_with_blocks_as_json_text_works_too() {
    let emu = start(quick()).await;
    let body =
        format!("channel={}&text=hi&blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D", emu.general_channel());
    let r = post(
        &emu,
        "/api/chat.postMessage",
        Some("application/x-www-form-urlencoded"),
        body.as_bytes(),
        Some(&emu.token()),
    )
    .await;
    let v = ok(&r);
    assert_eq!(v["message"]["blocks"][0]["type"], "divider");
    assert!(v.get("warning").is_none());
    // Slack's charset warnings: JSON without one, a form with one.
    let body = format!(r#"{{"channel":"{}","text":"hi"}}"#, emu.general_channel());
    let v = ok(&post(
        &emu,
        "/api/chat.postMessage",
        Some("application/json"),
        body.as_bytes(),
        Some(&emu.token()),
    )
    .await);
    assert_eq!(v["warning"], "missing_charset");
    assert_eq!(v["response_metadata"]["warnings"], json!(["missing_charset"]));
    let r = post(
        &emu,
        "/api/users.info",
        Some("application/x-www-form-urlencoded; charset=utf-8"),
        b"user=U404",
        Some(&emu.token()),
    )
    .await;
    assert_eq!(r.json()["warning"], "superfluous_charset");
    assert_eq!(r.error(), "user_not_found");
}

#[tokio::test]
async fn the_error_matrix() {
    let emu = start(quick()).await;
    let c = emu.general_channel();
    let t = emu.token();
    let r = post(&emu, "/api/chat.postMessage", Some("application/json"), b"{}", None).await;
    assert_eq!(r.error(), "not_authed");
    assert_eq!(web(&emu, "xoxb-nope", "users.info", json!({"user": "U1"})).await.error(), "invalid_auth");
    for (method, args, code) in [
        ("chat.postMessage", json!({"channel": "C404", "text": "x"}), "channel_not_found"),
        ("chat.postMessage", json!({"channel": c}), "no_text"),
        (
            "chat.postMessage",
            json!({"channel": c, "text": "x", "blocks": {"type": "divider"}}),
            "invalid_blocks",
        ),
        ("chat.postMessage", json!({"channel": c, "text": "x".repeat(40_001)}), "msg_too_long"),
        (
            "chat.postMessage",
            json!({"channel": c, "text": "x", "thread_ts": "1.000001"}),
            "invalid_thread_ts",
        ),
        ("chat.update", json!({"channel": c, "ts": "1.000001", "text": "x"}), "message_not_found"),
        ("chat.delete", json!({"channel": c, "ts": "1.000001"}), "message_not_found"),
        ("chat.postEphemeral", json!({"channel": c, "user": "U404", "text": "x"}), "user_not_in_channel"),
        ("reactions.add", json!({"channel": c, "name": "eyes"}), "no_item_specified"),
        ("conversations.history", json!({"channel": "C404"}), "channel_not_found"),
        ("conversations.history", json!({"channel": c, "cursor": "garbage"}), "invalid_cursor"),
        ("conversations.history", json!({"channel": c, "oldest": "yesterday"}), "invalid_ts_oldest"),
        ("conversations.replies", json!({"channel": c, "ts": "1.000001"}), "thread_not_found"),
        ("conversations.info", json!({"channel": "C404"}), "channel_not_found"),
        ("users.info", json!({"user": "U404"}), "user_not_found"),
        (
            "views.open",
            json!({"trigger_id": "1.2.3", "view": {"type": "modal", "title": {}}}),
            "invalid_trigger_id",
        ),
        ("views.update", json!({"view_id": "V404", "view": {"type": "modal", "title": {}}}), "not_found"),
    ] {
        let r = web(&emu, &t, method, args).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.error(), code, "{method}");
        // The codec keeps codes it does not know as text.
        let resp = http::Response::builder().status(200).body(r.body.clone()).unwrap();
        assert_eq!(parse_web_response(method, &resp).unwrap_err().api_error().unwrap().as_str(), code);
    }
    assert!(
        emu.web_calls().iter().all(|c| c.args.iter().all(|(_, v)| !v.contains(&t))),
        "no token in records"
    );
}

#[tokio::test]
async fn history_and_replies_page_with_cursors() {
    let emu = start(quick()).await;
    let c = emu.general_channel();
    let alice = emu.second_user();
    let ts: Vec<Ts> = (0..5).map(|i| emu.post_message(&c, &alice.user, &format!("m{i}")).unwrap()).collect();
    // A thread under m1: two replies, one broadcast.
    let r1 = ok(&web(
        &emu,
        &emu.token(),
        "chat.postMessage",
        json!({"channel": c, "text": "r1", "thread_ts": ts[1]}),
    )
    .await);
    let r2 = ok(&web(
        &emu,
        &emu.token(),
        "chat.postMessage",
        json!({"channel": c, "text": "r2", "thread_ts": ts[1], "reply_broadcast": true}),
    )
    .await);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = json!({"channel": c, "limit": 2});
        if let Some(cur) = &cursor {
            args["cursor"] = json!(cur);
        }
        let page: HistoryPage =
            decode("conversations.history", &web(&emu, &alice.token, "conversations.history", args).await);
        pages += 1;
        seen.extend(page.messages.iter().map(|m| m.text.clone().unwrap()));
        match page.next_cursor() {
            Some(next) => {
                assert!(page.has_more);
                cursor = Some(next.to_owned());
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["r2", "m4", "m3", "m2", "m1", "m0"], "newest first; only the broadcast reply");

    // oldest is exclusive unless inclusive=true.
    let page: HistoryPage = decode(
        "conversations.history",
        &web(&emu, &alice.token, "conversations.history", json!({"channel": c, "oldest": ts[3]})).await,
    );
    let texts: Vec<_> = page.messages.iter().map(|m| m.text.clone().unwrap()).collect();
    assert_eq!(texts, ["r2", "m4"]);
    let page: HistoryPage = decode(
        "conversations.history",
        &web(
            &emu,
            &alice.token,
            "conversations.history",
            json!({"channel": c, "oldest": ts[3], "inclusive": true}),
        )
        .await,
    );
    assert_eq!(page.messages.len(), 3);

    // The parent carries the thread's counts; replies list parent then replies, oldest first.
    let parent = seen_parent(&emu, &alice.token, &c, &ts[1]).await;
    assert_eq!(parent["reply_count"], 2);
    assert_eq!(parent["latest_reply"], r2["ts"]);
    let page: HistoryPage = decode(
        "conversations.replies",
        &web(&emu, &alice.token, "conversations.replies", json!({"channel": c, "ts": ts[1], "limit": 2}))
            .await,
    );
    let texts: Vec<_> = page.messages.iter().map(|m| m.text.clone().unwrap()).collect();
    assert_eq!(texts, ["m1", "r1"]);
    let next = page.next_cursor().expect("a second page").to_owned();
    let page: HistoryPage = decode(
        "conversations.replies",
        &web(&emu, &alice.token, "conversations.replies", json!({"channel": c, "ts": ts[1], "cursor": next}))
            .await,
    );
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].ts.as_ref().unwrap().as_str(), r2["ts"].as_str().unwrap());
    assert_ne!(r1["ts"], r2["ts"]);
    assert_eq!(page.messages[0].subtype.as_ref().map(|s| s.as_str()), Some("thread_broadcast"));
    assert_eq!(page.next_cursor(), None);
}

async fn seen_parent(emu: &Emulator, token: &str, c: &slack_rtm_types::ChannelId, ts: &Ts) -> Value {
    let v = ok(&web(emu, token, "conversations.history", json!({"channel": c})).await);
    v["messages"].as_array().unwrap().iter().find(|m| m["ts"] == ts.as_str()).unwrap().clone()
}

#[tokio::test]
async fn update_delete_and_reactions() {
    let emu = start(quick()).await;
    let c = emu.general_channel();
    let alice = emu.second_user();
    let mut sock = Client::connect(&emu, &alice.token).await;
    let posted =
        ok(&web(&emu, &emu.token(), "chat.postMessage", json!({"channel": c, "text": "draft"})).await);
    let ts = posted["ts"].as_str().unwrap().to_owned();
    // Only the author may edit or delete.
    assert_eq!(
        web(&emu, &alice.token, "chat.update", json!({"channel": c, "ts": ts, "text": "x"})).await.error(),
        "cant_update_message"
    );
    assert_eq!(
        web(&emu, &alice.token, "chat.delete", json!({"channel": c, "ts": ts})).await.error(),
        "cant_delete_message"
    );
    let v =
        ok(&web(&emu, &emu.token(), "chat.update", json!({"channel": c, "ts": ts, "text": "final"})).await);
    assert_eq!(v["text"], "final");
    let changed = loop {
        let e = sock.recv_json().await;
        if e["subtype"] == "message_changed" {
            break e;
        }
    };
    assert_eq!(changed["message"]["text"], "final");
    assert_eq!(changed["previous_message"]["text"], "draft");
    // Reactions.
    ok(&web(&emu, &alice.token, "reactions.add", json!({"channel": c, "timestamp": ts, "name": "eyes"}))
        .await);
    assert_eq!(
        web(&emu, &alice.token, "reactions.add", json!({"channel": c, "timestamp": ts, "name": ":eyes:"}))
            .await
            .error(),
        "already_reacted"
    );
    let parent = seen_parent(&emu, &alice.token, &c, &Ts::new(ts.clone())).await;
    assert_eq!(parent["reactions"], json!([{"name": "eyes", "users": [alice.user], "count": 1}]));
    assert_eq!(parent["edited"]["user"], emu.bot_user().as_str());
    ok(&web(&emu, &alice.token, "reactions.remove", json!({"channel": c, "timestamp": ts, "name": "eyes"}))
        .await);
    assert_eq!(
        web(&emu, &alice.token, "reactions.remove", json!({"channel": c, "timestamp": ts, "name": "eyes"}))
            .await
            .error(),
        "no_reaction"
    );
    // Deletion.
    ok(&web(&emu, &emu.token(), "chat.delete", json!({"channel": c, "ts": ts})).await);
    let v = ok(&web(&emu, &alice.token, "conversations.history", json!({"channel": c})).await);
    assert_eq!(v["messages"], json!([]));
    let eph = ok(&web(
        &emu,
        &emu.token(),
        "chat.postEphemeral",
        json!({"channel": c, "user": alice.user, "text": "psst"}),
    )
    .await);
    assert!(eph["message_ts"].as_str().is_some());
}

/// A message carries at most 50 distinct reactions: the next one is refused, as Slack refuses
/// it, so a client cannot grow the emulator's record of one message without bound.
#[tokio::test]
async fn distinct_reactions_per_message_are_capped() {
    let emu = start(quick()).await;
    let c = emu.general_channel();
    let posted = ok(&web(&emu, &emu.token(), "chat.postMessage", json!({"channel": c, "text": "hi"})).await);
    let ts = posted["ts"].as_str().unwrap().to_owned();
    let react = |name: String| {
        let (emu, c, ts) = (&emu, c.clone(), ts.clone());
        async move {
            web(emu, &emu.token(), "reactions.add", json!({"channel": c, "timestamp": ts, "name": name}))
                .await
        }
    };
    for i in 0..50 {
        ok(&react(format!("r{i}")).await);
    }
    assert_eq!(react("one_more".into()).await.error(), "too_many_reactions");
    // Reacting again with one of the 50 is still judged on its own.
    assert_eq!(react("r0".into()).await.error(), "already_reacted");
}

#[tokio::test]
async fn views_open_needs_a_fresh_trigger_id_and_update_checks_the_hash() {
    let emu = start(quick()).await;
    let t = emu.token();
    let modal = json!({"type": "modal", "title": {"type": "plain_text", "text": "Deploy"}, "callback_id": "deploy",
                       "blocks": [{"type": "input", "label": {"type": "plain_text", "text": "Version"}, "element": {"type": "plain_text_input"}}]});
    let trigger = emu.issue_trigger_id();
    let r = web(&emu, &t, "views.open", json!({"trigger_id": trigger, "view": modal})).await;
    let opened: ViewInfoResponse = decode("views.open", &r);
    let id = opened.view.id.clone().unwrap();
    assert_eq!(opened.view.callback_id.as_deref(), Some("deploy"));
    assert_eq!(
        web(&emu, &t, "views.open", json!({"trigger_id": trigger, "view": modal})).await.error(),
        "exchanged_trigger_id"
    );
    let stale = emu.issue_trigger_id_valid_for(Duration::ZERO);
    assert_eq!(
        web(&emu, &t, "views.open", json!({"trigger_id": stale, "view": modal})).await.error(),
        "expired_trigger_id"
    );
    let fresh = emu.issue_trigger_id();
    assert_eq!(
        web(&emu, &t, "views.open", json!({"trigger_id": fresh, "view": {"type": "home"}})).await.error(),
        "invalid_arguments"
    );

    let hash = opened.view.hash.clone().unwrap();
    let mut v2 = modal.clone();
    v2["title"]["text"] = json!("Deploying…");
    assert_eq!(
        web(&emu, &t, "views.update", json!({"view_id": id, "view": v2, "hash": "0.0"})).await.error(),
        "hash_conflict"
    );
    let updated: ViewInfoResponse = decode(
        "views.update",
        &web(&emu, &t, "views.update", json!({"view_id": id, "view": v2, "hash": hash})).await,
    );
    assert_ne!(updated.view.hash, Some(hash));
    let views = emu.opened_views();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].updates, 1);
    assert_eq!(views[0].view["title"]["text"], "Deploying…");
}

#[tokio::test]
async fn configured_rate_limits_and_scripted_faults() {
    let emu = start(quick()).await;
    let c = emu.general_channel();
    emu.set_web_rate_limit("chat.postMessage", Some(RateLimit::new(2, Duration::from_secs(60))));
    for _ in 0..2 {
        ok(&web(&emu, &emu.token(), "chat.postMessage", json!({"channel": c, "text": "x"})).await);
    }
    let r = web(&emu, &emu.token(), "chat.postMessage", json!({"channel": c, "text": "x"})).await;
    assert_eq!(r.status, 429);
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs));
    assert_eq!(emu.posted_messages().len(), 2, "a 429 posts nothing");
    emu.set_web_rate_limit("chat.postMessage", None);
    ok(&web(&emu, &emu.token(), "chat.postMessage", json!({"channel": c, "text": "x"})).await);

    // Slack's tiers, per minute: Tier 2 allows 20 reactions.remove.
    emu.use_slack_web_rate_limits();
    let limited: Vec<u16> = {
        let mut statuses = Vec::new();
        for _ in 0..21 {
            let r = web(
                &emu,
                &emu.token(),
                "reactions.remove",
                json!({"channel": c, "timestamp": "1.0", "name": "x"}),
            )
            .await;
            statuses.push(r.status);
        }
        statuses
    };
    assert!(limited[..20].iter().all(|s| *s == 200) && limited[20] == 429, "{limited:?}");

    emu.reject_next_web_calls("users.info", 1, Rejection::Html(503));
    let r = web(&emu, &emu.token(), "users.info", json!({"user": emu.bot_user()})).await;
    assert_eq!(r.status, 503);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let v = ok(&web(&emu, &emu.token(), "users.info", json!({"user": emu.bot_user()})).await);
    assert_eq!(v["user"]["is_bot"], true);
    let info = ok(&web(&emu, &emu.token(), "conversations.info", json!({"channel": c})).await);
    assert_eq!(info["channel"]["is_general"], true);
}

#[tokio::test]
async fn post_message_to_a_user_id_posts_in_the_apps_im_with_them() {
    let emu = start(quick()).await;
    let alice = emu.second_user().user;
    let r =
        web(&emu, &emu.token(), "chat.postMessage", json!({"channel": alice, "text": "Thanks, Ada"})).await;
    let v = ok(&r);
    let im = v["channel"].as_str().expect("channel").to_owned();
    assert!(im.starts_with('D'), "an IM, not the user id: {v}");
    // The same IM the next time, and the message is in its history.
    let again =
        ok(&web(&emu, &emu.token(), "chat.postMessage", json!({"channel": alice, "text": "again"})).await);
    assert_eq!(again["channel"], json!(im));
    let history = ok(&web(&emu, &emu.token(), "conversations.history", json!({"channel": im})).await);
    let texts: Vec<&str> =
        history["messages"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(texts.contains(&"Thanks, Ada") && texts.contains(&"again"), "{history}");
    // An unknown user id is still channel_not_found.
    let r = web(&emu, &emu.token(), "chat.postMessage", json!({"channel": "UNOBODY", "text": "x"})).await;
    assert_eq!(r.json()["error"], "channel_not_found");
}

#[tokio::test]
async fn a_shared_upload_reaches_the_socket_as_a_file_share_message() {
    let emu = start(quick()).await;
    let general = emu.general_channel();
    let mut sock = Client::connect(&emu, &emu.second_user().token).await;
    let bytes = b"col1,col2\n1,2\n";
    let r = web(
        &emu,
        &emu.token(),
        "files.getUploadURLExternal",
        json!({"filename": "report.csv", "length": bytes.len().to_string()}),
    )
    .await;
    let reserved = ok(&r);
    let (url, id) = (reserved["upload_url"].as_str().unwrap(), reserved["file_id"].as_str().unwrap());
    let path = &url[url.find("/upload/").unwrap()..];
    assert_eq!(http_raw(&emu, &request("POST", path, &[], bytes)).await.status, 200);
    let files = json!([{"id": id, "title": "Report"}]);
    let done = ok(&web(
        &emu,
        &emu.token(),
        "files.completeUploadExternal",
        json!({"files": files.to_string(), "channel_id": general, "initial_comment": "the report"}),
    )
    .await);

    // As Slack sends it: subtype `file_share` and the shared files on the live message event,
    // then `file_shared`.
    let ev = loop {
        let v = sock.recv_json().await;
        if v["type"] == "message" {
            break v;
        }
    };
    assert_eq!(ev["subtype"], "file_share", "{ev}");
    assert_eq!(ev["text"], "the report");
    assert_eq!(ev["files"][0]["id"], id);
    assert_eq!(ev["files"], done["files"]);
    let shared = loop {
        let v = sock.recv_json().await;
        if v["type"] == "file_shared" {
            break v;
        }
    };
    assert_eq!(shared["file_id"], id);
    assert_eq!(shared["event_ts"], ev["ts"]);
}
