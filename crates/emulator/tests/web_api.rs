//! `rtm.connect` and `auth.test` over raw HTTP/1.1: shapes, validation, errors, rate limits.

mod common;

use common::*;

#[tokio::test]
async fn rtm_connect_success_shape_and_headers() {
    let emu = start(quick().enterprise("E0EMU00001", "Acme Grid")).await;
    let r = connect_call(&emu, &emu.token(), "?batch_presence_aware=1&presence_sub=true").await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-slack-req-id").is_some_and(|v| !v.is_empty()));
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert!(v.get("warning").is_none());
    assert_eq!(v["self"]["id"], emu.bot_user().as_str());
    assert_eq!(v["self"]["name"], "emubot");
    assert_eq!(v["team"]["domain"], "emulated");
    assert_eq!(v["team"]["enterprise_id"], "E0EMU00001");
    assert_eq!(v["team"]["enterprise_name"], "Acme Grid");
    let url = v["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("ws://{}/websocket/", emu.local_addr())), "{url}");
    // The codec accepts the answer.
    let config = slack_rtm_codec::ConnectConfig::with_api_base(&emu.api_url(), true).unwrap();
    let resp = http::Response::builder().status(200).body(r.body.clone()).unwrap();
    let parsed = config.parse_response(&resp, Instant::now()).unwrap();
    assert_eq!(parsed.connected.team.enterprise_id.unwrap().as_str(), "E0EMU00001");

    let calls = emu.rtm_connect_calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].ok() && calls[0].bearer && !calls[0].token_in_url);
    assert_eq!(
        calls[0].args,
        vec![("batch_presence_aware".into(), "1".into()), ("presence_sub".into(), "true".into())]
    );
    // Every answer has a request id, even a 404.
    assert!(get(&emu, "/nowhere", &[]).await.header("x-slack-req-id").is_some());
    let unknown = get(&emu, "/api/chat.nothing", &[]).await;
    assert_eq!(unknown.error(), "unknown_method");
    assert!(unknown.header("x-slack-req-id").is_some());
}

#[tokio::test]
async fn rtm_connect_auth_errors() {
    let emu = start(quick()).await;
    let r = get(&emu, "/api/rtm.connect", &[]).await;
    assert_eq!((r.status, r.error()), (200, "not_authed".to_owned()));
    assert!(r.header("x-slack-req-id").is_some());
    assert_eq!(connect_call(&emu, "xoxb-unknown", "").await.error(), "invalid_auth");
    let carol = emu.add_user("carol");
    assert!(carol.token.starts_with("xoxp-"));
    assert!(!format!("{carol:?}").contains(&carol.token));
    emu.set_token_active(&carol.token, false);
    assert_eq!(connect_call(&emu, &carol.token, "").await.error(), "account_inactive");
    let granular = emu.add_token(&emu.bot_user(), TokenFlavor::Granular).unwrap();
    assert_eq!(connect_call(&emu, &granular, "").await.error(), "not_allowed_token_type");
    // auth.test works for a granular token.
    let at = get(&emu, "/api/auth.test", &[("Authorization", &format!("Bearer {granular}"))]).await;
    assert_eq!(at.json()["ok"], true);
    let calls = emu.rtm_connect_calls();
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|c| !c.ok()));
    assert_eq!(calls[3].error.as_deref(), Some("not_allowed_token_type"));
}

#[tokio::test]
async fn rtm_connect_token_in_form_body_or_query() {
    let emu = start(quick()).await;
    let body = format!("token={}&presence_sub=false", emu.token());
    let r = post(&emu, "/api/rtm.connect", Some("application/x-www-form-urlencoded"), body.as_bytes(), None)
        .await;
    assert_eq!(r.json()["ok"], true);
    assert_eq!(emu.tokens_seen_in_urls(), 0);
    let r = get(&emu, &format!("/api/rtm.connect?token={}", emu.token()), &[]).await;
    assert_eq!(r.json()["ok"], true);
    assert_eq!(emu.tokens_seen_in_urls(), 1);
    let calls = emu.rtm_connect_calls();
    assert!(calls[1].token_in_url);
    // The token never lands in the records.
    let dump = format!("{calls:?}");
    assert!(!dump.contains(&emu.token()), "{dump}");
    assert!(calls[0].args.contains(&("token".into(), "<redacted>".into())));
    // multipart/form-data works too.
    let mp = format!(
        "--B0und\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{}\r\n--B0und--\r\n",
        emu.token()
    );
    let r = post(&emu, "/api/rtm.connect", Some("multipart/form-data; boundary=B0und"), mp.as_bytes(), None)
        .await;
    assert_eq!(r.json()["ok"], true, "{:?}", r.json());
}

#[tokio::test]
async fn rtm_connect_request_validation_errors() {
    let emu = start(quick()).await;
    let t = emu.token();
    let form = Some("application/x-www-form-urlencoded");
    let cases: Vec<(&str, HttpResp)> = vec![
        ("invalid_arg_name", connect_call(&emu, &t, "?bad-name=1").await),
        ("invalid_arg_name", connect_call(&emu, &t, &format!("?{}=1", "a".repeat(101))).await),
        ("invalid_array_arg", connect_call(&emu, &t, "?foo[7]=1").await),
        ("invalid_array_arg", post(&emu, "/api/rtm.connect", form, b"ids%5B%5D=1", Some(&t)).await),
        (
            "invalid_charset",
            post(&emu, "/api/rtm.connect", Some("text/plain; charset=koi8-r"), b"a=1", Some(&t)).await,
        ),
        ("invalid_form_data", post(&emu, "/api/rtm.connect", form, b"a=%zz", Some(&t)).await),
        (
            "invalid_form_data",
            post(&emu, "/api/rtm.connect", Some("multipart/form-data; boundary=x"), b"junk", Some(&t)).await,
        ),
        (
            "invalid_post_type",
            post(&emu, "/api/rtm.connect", Some("application/json"), b"{}", Some(&t)).await,
        ),
        ("missing_post_type", post(&emu, "/api/rtm.connect", None, b"a=1", Some(&t)).await),
    ];
    for (expected, r) in cases {
        assert_eq!(r.status, 200);
        assert_eq!(r.error(), expected, "{:?}", r.json());
        assert!(r.header("x-slack-req-id").is_some());
    }
    // 100 characters is still a valid name.
    assert_eq!(connect_call(&emu, &t, &format!("?{}=1", "a".repeat(100))).await.json()["ok"], true);
    // A POST without body and without Content-Type is fine (token in the header).
    assert_eq!(post(&emu, "/api/rtm.connect", None, b"", Some(&t)).await.json()["ok"], true);
}

#[tokio::test]
async fn rtm_connect_truncated_body_is_request_timeout() {
    let emu = start(quick().body_timeout(Duration::from_millis(300))).await;
    let auth = format!("Bearer {}", emu.token());
    // Content-Length promises more than is sent, then the client half-closes.
    let raw = format!(
        "POST /api/rtm.connect HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\npresence_sub=1"
    );
    let tcp = TcpStream::connect(emu.local_addr()).await.unwrap();
    let r = exchange(tcp, raw.as_bytes(), true).await;
    assert_eq!(r.error(), "request_timeout");
    // ... or stalls: answered after the body timeout.
    let tcp = TcpStream::connect(emu.local_addr()).await.unwrap();
    let t = Instant::now();
    let r = exchange(tcp, raw.as_bytes(), false).await;
    assert_eq!(r.error(), "request_timeout");
    assert!(t.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn rtm_connect_charset_warnings_in_both_places() {
    let emu = start(quick()).await;
    let t = emu.token();
    let r = post(
        &emu,
        "/api/rtm.connect",
        Some("application/x-www-form-urlencoded; charset=utf-8"),
        b"presence_sub=1",
        Some(&t),
    )
    .await;
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["warning"], "superfluous_charset");
    assert_eq!(v["response_metadata"]["warnings"], json!(["superfluous_charset"]));
    assert!(v["response_metadata"]["messages"][0].as_str().unwrap().starts_with("[WARN]"));

    let r = post(&emu, "/api/rtm.connect", Some("text/plain"), b"presence_sub=1", Some(&t)).await;
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["warning"], "missing_charset");
    assert_eq!(v["response_metadata"]["warnings"], json!(["missing_charset"]));

    let r =
        post(&emu, "/api/rtm.connect", Some("text/plain; charset=iso-8859-1"), b"presence_sub=1", Some(&t))
            .await;
    assert!(r.json().get("warning").is_none());
    let r = post(
        &emu,
        "/api/rtm.connect",
        Some("multipart/form-data; boundary=Q; charset=utf-8"),
        b"--Q--\r\n",
        Some(&t),
    )
    .await;
    assert_eq!(r.json()["warning"], "superfluous_charset");
    // Warnings ride on errors too.
    let r = post(&emu, "/api/rtm.connect", Some("text/plain"), b"token=xoxb-nope", None).await;
    assert_eq!(
        (r.error(), r.json()["warning"].clone()),
        ("invalid_auth".to_owned(), json!("missing_charset"))
    );
    let warnings: Vec<Vec<String>> = emu.rtm_connect_calls().into_iter().map(|c| c.warnings).collect();
    assert_eq!(warnings[0], vec!["superfluous_charset".to_owned()]);
}

#[tokio::test]
async fn rtm_connect_rate_limit_answers_429_with_retry_after() {
    let emu = start(quick().connect_rate_limit(Some(RateLimit::new(2, Duration::from_secs(60))))).await;
    let t = emu.token();
    assert_eq!(connect_call(&emu, &t, "").await.status, 200);
    assert_eq!(connect_call(&emu, &t, "").await.status, 200);
    let r = connect_call(&emu, &t, "").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error(), "ratelimited");
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((59..=60).contains(&secs), "{secs}");
    assert!(r.header("x-slack-req-id").is_some());
}

#[tokio::test]
async fn rtm_connect_scripted_rejections() {
    let emu = start(quick()).await;
    let t = emu.token();
    emu.reject_next_connects(1, Rejection::Api(ApiError::MigrationInProgress));
    emu.reject_next_connects(1, Rejection::Status(503));
    emu.reject_next_connects(1, Rejection::Html(502));
    emu.reject_next_connects(1, Rejection::RateLimited { retry_after: Duration::from_secs(7) });
    emu.reject_next_connects(1, Rejection::Truncated);

    assert_eq!(connect_call(&emu, &t, "").await.error(), "migration_in_progress");
    let r = connect_call(&emu, &t, "").await;
    assert_eq!((r.status, r.error()), (503, "fatal_error".to_owned()));
    let r = connect_call(&emu, &t, "").await;
    assert_eq!(r.status, 502);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("<html>"));
    let r = connect_call(&emu, &t, "").await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("7")));
    let r = connect_call(&emu, &t, "").await;
    let claimed: usize = r.header("content-length").unwrap().parse().unwrap();
    assert!(r.body.len() < claimed, "body of {} bytes for a Content-Length of {claimed}", r.body.len());
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    // Then back to normal.
    assert_eq!(connect_call(&emu, &t, "").await.json()["ok"], true);
    let calls = emu.rtm_connect_calls();
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), vec![200, 503, 502, 429, 200, 200]);
    emu.reject_next_connects(3, Rejection::Status(500));
    emu.clear_rejections();
    assert_eq!(connect_call(&emu, &t, "").await.status, 200);
}

#[tokio::test]
async fn auth_test_answers_like_slack() {
    let emu = start(quick()).await;
    let r = post(&emu, "/api/auth.test", Some("application/x-www-form-urlencoded"), b"", Some(&emu.token()))
        .await;
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["url"], "https://emulated.slack.com/");
    assert_eq!(v["team"], "Emulated Workspace");
    assert_eq!(v["user"], "emubot");
    assert_eq!(v["team_id"], emu.team().id.as_str());
    assert_eq!(v["user_id"], emu.bot_user().as_str());
    assert!(v["bot_id"].as_str().unwrap().starts_with('B'));
    assert!(r.header("x-slack-req-id").is_some());
    let alice = emu.second_user();
    let v =
        get(&emu, "/api/auth.test", &[("Authorization", &format!("Bearer {}", alice.token))]).await.json();
    assert_eq!(v["user_id"], alice.user.as_str());
    assert!(v.get("bot_id").is_none());
    assert_eq!(get(&emu, "/api/auth.test", &[]).await.error(), "not_authed");
    assert_eq!(
        post(&emu, "/api/auth.test", Some("application/json"), b"{}", Some("xoxb-x")).await.error(),
        "invalid_auth"
    );
    assert_eq!(emu.auth_test_calls(), 4);
}
