//! Socket Mode over real loopback sockets: `apps.connections.open` and its errors, tickets,
//! `hello`, the socket limit, envelopes from the workspace (messages from RTM and from the
//! handle, slash commands, block actions), acks, dispatch over several sockets.

mod common;

use common::*;

#[tokio::test]
async fn open_issues_single_use_expiring_urls_and_hello_describes_the_socket() {
    let emu = start(quick().url_lifetime(Duration::from_millis(300)).socket_mode(sm())).await;
    assert!(emu.app_token().starts_with("xapp-1-A0EMU00001-"));
    let r = open_call(&emu, &emu.app_token()).await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-slack-req-id").is_some());
    let url = r.json()["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}?ticket=", emu.socket_mode_url())), "{url}");
    assert!(url.ends_with("&app_id=A0EMU00001"), "{url}");
    let mut c = Client::open(&url).await;
    let hello = c.recv_json().await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["num_connections"], 1);
    assert!(hello["debug_info"]["host"].as_str().unwrap().starts_with("applink-"));
    assert!(hello["debug_info"]["approximate_connection_time"].as_u64().unwrap() > 0);
    assert_eq!(hello["connection_info"]["app_id"], "A0EMU00001");
    // The URL was used: a second upgrade is refused before it happens.
    let again = get(
        &emu,
        url.trim_start_matches(&format!("ws://{}", emu.local_addr())),
        &[
            ("Upgrade", "websocket"),
            ("Connection", "upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ],
    )
    .await;
    assert_eq!(again.status, 401);
    // An unused URL expires.
    let stale = sm_url(&emu).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let path = stale.trim_start_matches(&format!("ws://{}", emu.local_addr())).to_owned();
    let r = get(
        &emu,
        &path,
        &[
            ("Upgrade", "websocket"),
            ("Connection", "upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ],
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(emu.expired_ticket_attempts(), 2);
    // A second socket sees two connections.
    let (_c2, hello) = Client::socket_mode(&emu).await;
    assert_eq!(hello["num_connections"], 2);
}

#[tokio::test]
async fn open_error_matrix() {
    let emu = start_sm(sm()).await;
    let inactive = emu.add_app_token(true);
    emu.set_app_token_active(&inactive, false);
    let revoked = emu.add_app_token(true);
    emu.revoke_app_token(&revoked);
    let no_scope = emu.add_app_token(false);
    let cases = [
        ("not_authed", post(&emu, "/api/apps.connections.open", None, b"", None).await),
        ("invalid_auth", open_call(&emu, "xapp-1-A0EMU00001-1-unknown").await),
        ("not_allowed_token_type", open_call(&emu, &emu.token()).await),
        ("not_allowed_token_type", open_call(&emu, &emu.second_user().token).await),
        ("account_inactive", open_call(&emu, &inactive).await),
        ("token_revoked", open_call(&emu, &revoked).await),
        ("missing_scope", open_call(&emu, &no_scope).await),
        // Only the Authorization header counts.
        (
            "not_authed",
            post(
                &emu,
                "/api/apps.connections.open",
                Some("application/x-www-form-urlencoded"),
                format!("token={}", emu.app_token()).as_bytes(),
                None,
            )
            .await,
        ),
    ];
    for (code, r) in cases {
        assert_eq!((r.status, r.error()), (200, code.to_owned()));
    }
    let r =
        get(&emu, "/api/apps.connections.open", &[("Authorization", &format!("Bearer {}", emu.app_token()))])
            .await;
    assert_eq!(r.status, 405);
    emu.reject_next_opens(1, Rejection::Api(slack_rtm_types::ApiError::NoPermission));
    emu.reject_next_opens(1, Rejection::Html(502));
    assert_eq!(open_call(&emu, &emu.app_token()).await.error(), "no_permission");
    let r = open_call(&emu, &emu.app_token()).await;
    assert_eq!(r.status, 502);
    assert!(String::from_utf8_lossy(&r.body).contains("<html>"));
    // Every call is recorded, never with the token.
    let calls = emu.apps_connections_open_calls();
    assert_eq!(calls.len(), 11);
    assert!(calls.iter().all(|c| !format!("{c:?}").contains(&emu.app_token())));
    assert!(calls[7].args.iter().any(|(k, v)| k == "token" && v == "<redacted>"));
}

#[tokio::test]
async fn open_is_rate_limited_with_retry_after() {
    let emu =
        start(quick().connect_rate_limit(Some(RateLimit::new(2, Duration::from_secs(60)))).socket_mode(sm()))
            .await;
    assert_eq!(open_call(&emu, &emu.app_token()).await.status, 200);
    assert_eq!(open_call(&emu, &emu.app_token()).await.status, 200);
    let r = open_call(&emu, &emu.app_token()).await;
    assert_eq!((r.status, r.error()), (429, "ratelimited".to_owned()));
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs));
    // rtm.connect has its own window.
    assert_eq!(connect_call(&emu, &emu.token(), "").await.status, 200);
}

#[tokio::test]
async fn one_socket_over_the_limit_is_told_too_many_websockets_and_closed() {
    let emu = start_sm(sm().max_sockets(2)).await;
    let (_a, _) = Client::socket_mode(&emu).await;
    let (_b, _) = Client::socket_mode(&emu).await;
    let url = sm_url(&emu).await;
    let mut c = Client::open(&url).await;
    let v = c.recv_json().await;
    assert_eq!((v["type"].as_str(), v["reason"].as_str()), (Some("disconnect"), Some("too_many_websockets")));
    assert_eq!(c.expect_close().await, Some(1000));
    let refused = emu.sockets().into_iter().find(|s| s.refused).unwrap();
    assert_eq!(refused.id, SocketId(3));
    emu.wait_for_open_sockets(2, WAIT).await.unwrap();
}

#[tokio::test]
async fn messages_from_the_workspace_and_the_rtm_socket_become_events_api_envelopes() {
    let emu = start_sm(sm()).await;
    let ch = emu.general_channel();
    let (mut sm_client, _) = Client::socket_mode(&emu).await;
    let mut rtm = Client::connect(&emu, &emu.second_user().token).await;
    // From the handle (a simulated user): RTM and Socket Mode both see it.
    let ts = emu.post_message(&ch, &emu.bot_user(), "hello https://example.com").unwrap();
    let rtm_ev = rtm.recv_json().await;
    assert_eq!((rtm_ev["type"].as_str(), rtm_ev["ts"].as_str()), (Some("message"), Some(ts.as_str())));
    let env = sm_client.envelope().await;
    assert_eq!(env["type"], "events_api");
    assert_eq!(env["accepts_response_payload"], false);
    assert_eq!((env["retry_attempt"].as_u64(), env["retry_reason"].as_str()), (Some(0), Some("")));
    let p = &env["payload"];
    assert_eq!(p["type"], "event_callback");
    assert_eq!(p["api_app_id"], "A0EMU00001");
    assert_eq!(p["team_id"], emu.team().id.as_str());
    assert!(p["event_id"].as_str().unwrap().starts_with("Ev"));
    assert_eq!(p["authorizations"][0]["user_id"], emu.bot_user().as_str());
    assert_eq!(p["is_ext_shared_channel"], false);
    let ev = &p["event"];
    assert_eq!(ev["type"], "message");
    assert_eq!(ev["channel_type"], "channel");
    assert_eq!(ev["text"], "hello <https://example.com>");
    assert_eq!(ev["ts"], ts.as_str());
    // It decodes with the project's types.
    let frame = slack_rtm_types::socket_mode::SocketFrame::from_json(&env.to_string()).unwrap();
    let slack_rtm_types::socket_mode::SocketFrame::Envelope(e) = frame else { panic!() };
    assert!(matches!(e.decode_payload(), slack_rtm_types::socket_mode::Payload::EventsApi(_)));
    sm_client.ack(&env, None).await;
    // From the RTM socket, mentioning the bot: a message and an app_mention.
    let bot = emu.bot_user();
    rtm.message(ch.as_str(), &format!("<@{}> deploy", bot.as_str())).await;
    let a = sm_client.envelope().await;
    let b = sm_client.envelope().await;
    assert_eq!(a["payload"]["event"]["type"], "message");
    assert_eq!(a["payload"]["event"]["user"], emu.second_user().user.as_str());
    assert_eq!(b["payload"]["event"]["type"], "app_mention");
    assert_ne!(a["payload"]["event_id"], b["payload"]["event_id"]);
    sm_client.ack(&a, None).await;
    sm_client.ack(&b, None).await;
    emu.wait_for_acks(3, WAIT).await.unwrap();
    let acks = emu.acks();
    assert!(acks.iter().all(|a| a.delay.is_some() && !a.late));
    assert_eq!(acks[0].envelope_id, env["envelope_id"].as_str().unwrap());
}

#[tokio::test]
async fn slash_commands_and_block_actions_are_acked_with_their_payloads() {
    let emu = start_sm(sm()).await;
    let (ch, alice) = (emu.general_channel(), emu.second_user().user);
    let (mut c, _) = Client::socket_mode(&emu).await;
    emu.send_slash_command(&alice, &ch, "/deploy", "prod now");
    let env = c.envelope().await;
    assert_eq!(env["type"], "slash_commands");
    assert_eq!(env["accepts_response_payload"], true);
    let p = &env["payload"];
    assert_eq!((p["command"].as_str(), p["text"].as_str()), (Some("/deploy"), Some("prod now")));
    assert_eq!((p["user_id"].as_str(), p["channel_name"].as_str()), (Some(alice.as_str()), Some("general")));
    assert!(p["response_url"].is_string() && p["trigger_id"].is_string());
    c.ack(&env, Some(json!({"text": "deploying"}))).await;
    emu.send_block_action(&alice, &ch, "approve", "b1", "yes");
    let env = c.envelope().await;
    assert_eq!(env["type"], "interactive");
    let p = &env["payload"];
    assert_eq!(p["type"], "block_actions");
    assert_eq!(p["actions"][0]["action_id"], "approve");
    assert_eq!(p["actions"][0]["value"], "yes");
    assert_eq!(p["user"]["id"], alice.as_str());
    c.ack(&env, None).await;
    emu.send_envelope(
        "interactive",
        json!({"type": "view_submission", "user": {"id": alice.as_str()}, "view": {"id": "V1"}}),
    );
    let env = c.envelope().await;
    assert_eq!(env["payload"]["type"], "view_submission");
    emu.wait_for_acks(2, WAIT).await.unwrap();
    let acks = emu.acks();
    assert_eq!(acks[0].payload, Some(json!({"text": "deploying"})));
    assert_eq!(acks[1].payload, None);
    let envs = emu.envelopes();
    assert_eq!(envs.len(), 3);
    assert!(envs[0].acked && envs[1].acked && !envs[2].acked);
    assert_eq!(envs[0].attempts.len(), 1);
}

#[tokio::test]
async fn envelopes_go_to_one_socket_each_round_robin_or_random() {
    let emu = start_sm(sm()).await;
    let (mut a, _) = Client::socket_mode(&emu).await;
    let (mut b, _) = Client::socket_mode(&emu).await;
    for i in 0..4 {
        emu.send_envelope("slash_commands", json!({"command": "/n", "text": i.to_string()}));
    }
    emu.wait_for_envelope_deliveries(4, WAIT).await.unwrap();
    let (xa, xb) = (a.envelope().await, b.envelope().await);
    let (ya, yb) = (a.envelope().await, b.envelope().await);
    let mut texts: Vec<String> =
        [&xa, &xb, &ya, &yb].iter().map(|e| e["payload"]["text"].as_str().unwrap().to_owned()).collect();
    texts.sort();
    assert_eq!(texts, ["0", "1", "2", "3"]);
    assert!(a.quiet_for(Duration::from_millis(100)).await && b.quiet_for(Duration::from_millis(1)).await);
    let sockets: Vec<SocketId> = emu.envelopes().iter().map(|e| e.attempts[0].socket).collect();
    assert_eq!(sockets.iter().filter(|s| **s == SocketId(1)).count(), 2);

    let emu = start_sm(sm().dispatch(Dispatch::Random)).await;
    let (_a, _) = Client::socket_mode(&emu).await;
    let (_b, _) = Client::socket_mode(&emu).await;
    for _ in 0..20 {
        emu.send_envelope("slash_commands", json!({"command": "/r"}));
    }
    emu.wait_for_envelope_deliveries(20, WAIT).await.unwrap();
    assert!(emu.envelopes().iter().all(|e| e.attempts.len() == 1 && e.attempts[0].socket.0 <= 2));
}

#[tokio::test]
async fn the_eleventh_socket_is_refused_by_default_and_tls_gives_wss_urls() {
    let emu = start(quick().tls(true).socket_mode(sm())).await;
    assert!(emu.socket_mode_url().starts_with("wss://127.0.0.1:"));
    let connector = tokio_rustls::TlsConnector::from(Arc::new(emu.tls_client_config().unwrap()));
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut clients = Vec::new();
    for n in 1..=11 {
        let tls = connector
            .connect(name.to_owned(), TcpStream::connect(emu.local_addr()).await.unwrap())
            .await
            .unwrap();
        let auth = format!("Bearer {}", emu.app_token());
        let r = exchange(
            tls,
            &request("POST", "/api/apps.connections.open", &[("Authorization", &auth)], b""),
            false,
        )
        .await;
        let url = r.json()["url"].as_str().unwrap().to_owned();
        assert!(url.starts_with("wss://127.0.0.1:"), "{url}");
        let mut c = Client::open_with(&url, emu.tls_client_config(), true).await;
        let first = c.recv_json().await;
        if n <= 10 {
            assert_eq!((first["type"].as_str(), first["num_connections"].as_u64()), (Some("hello"), Some(n)));
            clients.push(c);
        } else {
            assert_eq!(first["reason"], "too_many_websockets");
            assert_eq!(c.expect_close().await, Some(1000));
        }
    }
    assert_eq!(emu.open_sockets().len(), 10);
}
