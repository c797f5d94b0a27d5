//! OAuth installs against the emulator over loopback, with a plain HTTP client: the authorize
//! page, `oauth.v2.access` (codes, refresh tokens), issued tokens on the Web API, uninstalls,
//! several workspaces and an Enterprise Grid org.

mod common;
use common::*;
use slack_rtm_emulator::{ClientAuth, GrantKind, IssuedTokenKind};
use slack_rtm_types::ChannelId;

const REDIRECT: &str = "http://127.0.0.1:9/slack/oauth_redirect";

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `GET /oauth/v2/authorize` with these arguments.
async fn authorize(emu: &Emulator, args: &[(&str, &str)]) -> HttpResp {
    let q = serde_urlencoded::to_string(args).unwrap();
    get(emu, &format!("/oauth/v2/authorize?{q}"), &[]).await
}

/// The authorize page as an app sends the browser there.
async fn authorize_app(emu: &Emulator, scope: &str, user_scope: &str, state: &str) -> HttpResp {
    let id = emu.oauth_client_id();
    authorize(
        emu,
        &[
            ("client_id", &id),
            ("scope", scope),
            ("user_scope", user_scope),
            ("redirect_uri", REDIRECT),
            ("state", state),
        ],
    )
    .await
}

/// The query parameters of a redirect's `Location`.
fn redirect_params(r: &HttpResp) -> Vec<(String, String)> {
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    let loc = r.header("location").expect("a Location");
    let (base, q) = loc.split_once('?').expect("a query");
    assert_eq!(base, REDIRECT);
    serde_urlencoded::from_str(q).unwrap()
}

fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Approves (as scripted) and returns the code.
async fn code_for(emu: &Emulator, scope: &str, user_scope: &str) -> String {
    let r = authorize_app(emu, scope, user_scope, "st").await;
    param(&redirect_params(&r), "code").unwrap().to_owned()
}

/// `POST oauth.v2.access` with a form, the client authenticated by HTTP Basic.
async fn access_basic(emu: &Emulator, secret: &str, form: &[(&str, &str)]) -> Value {
    let basic = format!("Basic {}", b64(format!("{}:{secret}", emu.oauth_client_id()).as_bytes()));
    let body = serde_urlencoded::to_string(form).unwrap();
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", basic.as_str())];
    let r = http_raw(emu, &request("POST", "/api/oauth.v2.access", &headers, body.as_bytes())).await;
    assert_eq!(r.status, 200);
    r.json()
}

async fn access(emu: &Emulator, form: &[(&str, &str)]) -> Value {
    access_basic(emu, &emu.oauth_client_secret(), form).await
}

async fn exchange(emu: &Emulator, code: &str) -> Value {
    let v = access(emu, &[("code", code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!(v["ok"], true, "{v}");
    v
}

async fn auth_test(emu: &Emulator, token: &str) -> Value {
    post(emu, "/api/auth.test", None, b"", Some(token)).await.json()
}

async fn post_message(emu: &Emulator, token: &str, channel: &ChannelId, text: &str) -> Value {
    let body = json!({"channel": channel, "text": text}).to_string();
    post(emu, "/api/chat.postMessage", Some("application/json; charset=utf-8"), body.as_bytes(), Some(token))
        .await
        .json()
}

#[tokio::test]
async fn authorize_approves_into_the_default_workspace_and_redirects_with_code_and_state() {
    let emu = start(quick()).await;
    let r = authorize_app(&emu, "chat:write,commands", "", "s t&ate").await;
    let p = redirect_params(&r);
    assert_eq!(param(&p, "state"), Some("s t&ate"));
    let code = param(&p, "code").unwrap();
    assert!(emu.oauth().wait_for_install(emu.team().id.as_str(), Duration::from_millis(50)).await.is_err());
    let v = exchange(&emu, code).await;
    emu.oauth().wait_for_calls(1, WAIT).await.unwrap();
    emu.oauth().wait_for_install(emu.team().id.as_str(), WAIT).await.unwrap();
    assert_eq!(v["team"]["id"], json!(emu.team().id));
    assert_eq!(v["bot_user_id"], json!(emu.bot_user()));
    assert_eq!(v["enterprise"], Value::Null);
    assert_eq!(v["is_enterprise_install"], false);
    assert!(emu.oauth().is_installed(emu.team().id.as_str()));
}

#[tokio::test]
async fn authorize_denied_redirects_with_access_denied_and_no_code() {
    let emu = start(quick()).await;
    emu.oauth().deny_next();
    let p = redirect_params(&authorize_app(&emu, "chat:write", "", "xyz").await);
    assert_eq!(param(&p, "error"), Some("access_denied"));
    assert_eq!(param(&p, "state"), Some("xyz"));
    assert_eq!(param(&p, "code"), None);
    // Only the next visit was denied; no state given, none sent back.
    let p = redirect_params(&authorize_app(&emu, "chat:write", "", "").await);
    assert!(param(&p, "code").is_some());
    assert_eq!(param(&p, "state"), None);
    let visits = emu.oauth().authorize_visits();
    assert_eq!(visits.len(), 2);
    assert_eq!(
        (visits[0].error.as_deref(), visits[0].approved.as_deref(), visits[0].state),
        (Some("access_denied"), None, true)
    );
    assert_eq!((visits[1].approved.as_deref(), visits[1].state), (Some(emu.team().id.as_str()), false));
    assert_eq!((visits[1].scope.as_str(), visits[1].redirect_uri.as_deref()), ("chat:write", Some(REDIRECT)));
}

#[tokio::test]
async fn authorize_with_a_bad_client_id_or_redirect_uri_shows_an_error_page_without_redirect() {
    let emu = start(quick()).await;
    let id = emu.oauth_client_id();
    let cases: [(Vec<(&str, &str)>, &str); 4] = [
        (
            vec![("client_id", "1.2"), ("scope", "chat:write"), ("redirect_uri", REDIRECT)],
            "invalid_client_id",
        ),
        (vec![("client_id", &id), ("scope", "chat:write")], "bad_redirect_uri"),
        (
            vec![("client_id", &id), ("scope", "chat:write"), ("redirect_uri", "javascript:x")],
            "bad_redirect_uri",
        ),
        (vec![("client_id", &id), ("redirect_uri", REDIRECT)], "invalid_scope"),
    ];
    for (args, reason) in cases {
        let r = authorize(&emu, &args).await;
        assert_eq!(r.status, 400, "{reason}");
        assert!(r.header("location").is_none());
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(String::from_utf8_lossy(&r.body).contains(reason), "{reason}");
        assert_eq!(emu.oauth().authorize_visits().last().unwrap().error.as_deref(), Some(reason));
    }
}

#[tokio::test]
async fn code_exchange_gives_bot_and_user_tokens_and_a_webhook_that_work_on_the_web_api() {
    let emu = start(quick()).await;
    let ws = emu.add_workspace("T0SECOND1", "Second Team");
    emu.oauth().approve_next("T0SECOND1");
    let code = code_for(&emu, "chat:write,incoming-webhook", "search:read").await;
    // Client auth by form fields this time.
    let form = [
        ("client_id", emu.oauth_client_id()),
        ("client_secret", emu.oauth_client_secret()),
        ("code", code.clone()),
    ];
    let body = serde_urlencoded::to_string(form).unwrap();
    let r =
        post(&emu, "/api/oauth.v2.access", Some("application/x-www-form-urlencoded"), body.as_bytes(), None)
            .await;
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    let bot = v["access_token"].as_str().unwrap().to_owned();
    assert!(bot.starts_with("xoxb-"), "rotation is off: a classic-looking bot token");
    assert_eq!(v["token_type"], "bot");
    assert_eq!(v["scope"], "chat:write,incoming-webhook");
    assert_eq!(v["bot_user_id"], json!(ws.bot_user));
    assert_eq!(v["app_id"], json!(emu.app_id()));
    assert_eq!(v["team"], json!({"id": "T0SECOND1", "name": "Second Team"}));
    assert!(v.get("expires_in").is_none() && v.get("refresh_token").is_none());
    assert_eq!(v["authed_user"]["id"], json!(ws.installer));
    assert_eq!(v["authed_user"]["scope"], "search:read");
    assert_eq!(v["authed_user"]["token_type"], "user");
    let user_token = v["authed_user"]["access_token"].as_str().unwrap().to_owned();
    assert!(user_token.starts_with("xoxp-"));
    assert_eq!(v["incoming_webhook"]["channel_id"], json!(ws.general_channel));
    assert!(v["incoming_webhook"]["url"].as_str().unwrap().starts_with("http://"));
    assert_eq!(emu.oauth().calls().last().unwrap().client_auth, ClientAuth::Form);

    let t = auth_test(&emu, &bot).await;
    assert_eq!(t["ok"], true, "{t}");
    assert_eq!(t["team_id"], "T0SECOND1");
    assert_eq!(t["team"], "Second Team");
    assert_eq!(t["user_id"], json!(ws.bot_user));
    assert!(t["bot_id"].is_string());
    assert_eq!(auth_test(&emu, &user_token).await["user_id"], json!(ws.installer));
    let info =
        post(&emu, &format!("/api/users.info?user={}", ws.installer), None, b"", Some(&bot)).await.json();
    assert_eq!(info["user"]["team_id"], "T0SECOND1", "{info}");
    let team = post(&emu, "/api/team.info", None, b"", Some(&bot)).await.json();
    assert_eq!(
        (team["team"]["id"].as_str(), team["team"]["name"].as_str()),
        (Some("T0SECOND1"), Some("Second Team"))
    );
    let other =
        post(&emu, &format!("/api/team.info?team={}", emu.team().id), None, b"", Some(&bot)).await.json();
    assert_eq!(other["team"]["id"], json!(emu.team().id));
    assert_eq!(
        post(&emu, "/api/team.info?team=T0NOPE", None, b"", Some(&bot)).await.json()["error"],
        "team_not_found"
    );

    let p = post_message(&emu, &bot, &ws.general_channel, "hello second").await;
    assert_eq!(p["ok"], true, "{p}");
    let posted = emu.posted_messages();
    let m = posted.last().unwrap();
    assert_eq!((&m.user, &m.channel, m.text.as_str()), (&ws.bot_user, &ws.general_channel, "hello second"));
    let uses = emu.oauth().token_uses();
    let u = uses.iter().rev().find(|u| u.method == "chat.postMessage").unwrap();
    assert!(u.is_token(&bot) && !u.is_token(&user_token));
    assert_eq!(
        (u.kind, u.team_id.as_ref().unwrap().as_str(), u.expired),
        (IssuedTokenKind::Bot, "T0SECOND1", false)
    );
    assert!(!format!("{uses:?}").contains(&bot));
}

#[tokio::test]
async fn a_code_is_single_use() {
    let emu = start(quick()).await;
    let code = code_for(&emu, "chat:write", "").await;
    exchange(&emu, &code).await;
    let again = access(&emu, &[("code", &code)]).await;
    assert_eq!(again["error"], "invalid_code");
    let calls = emu.oauth().calls();
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].grant.clone(), calls[0].error.clone()), (GrantKind::Code, None));
    assert_eq!(calls[1].error.as_deref(), Some("invalid_code"));
    assert_eq!(calls[0].client_auth, ClientAuth::Basic);
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let emu = start(quick()).await;
    emu.oauth().set_code_lifetime(Duration::from_millis(100));
    let code = code_for(&emu, "chat:write", "").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(access(&emu, &[("code", &code)]).await["error"], "invalid_code");
    assert!(!emu.oauth().is_installed(emu.team().id.as_str()));
}

#[tokio::test]
async fn wrong_client_credentials_redirect_uri_or_grant_type_are_refused() {
    let emu = start(quick()).await;
    let code = code_for(&emu, "chat:write", "").await;
    assert_eq!(access_basic(&emu, "wrong", &[("code", &code)]).await["error"], "bad_client_secret");
    let body =
        serde_urlencoded::to_string([("client_id", "9.9"), ("client_secret", "x"), ("code", &code)]).unwrap();
    let r =
        post(&emu, "/api/oauth.v2.access", Some("application/x-www-form-urlencoded"), body.as_bytes(), None)
            .await;
    assert_eq!(r.json()["error"], "invalid_client_id");
    let other = [("code", code.as_str()), ("redirect_uri", "http://127.0.0.1:9/elsewhere")];
    assert_eq!(access(&emu, &other).await["error"], "bad_redirect_uri");
    assert_eq!(access(&emu, &[("grant_type", "password")]).await["error"], "invalid_grant_type");
    let bad = [("grant_type", "refresh_token"), ("refresh_token", "xoxe-1-nope")];
    assert_eq!(access(&emu, &bad).await["error"], "invalid_refresh_token");
    // None of the refusals used the code up.
    exchange(&emu, &code).await;
    let secret = emu.oauth_client_secret();
    assert!(emu.oauth().calls().iter().all(|c| !format!("{c:?}").contains(&secret)));
}

#[tokio::test]
async fn refresh_rotates_tokens_and_the_old_refresh_token_is_refused() {
    let emu = start(quick()).await;
    emu.oauth().set_token_lifetime(Some(Duration::from_secs(60)));
    let v = exchange(&emu, &code_for(&emu, "chat:write", "search:read").await).await;
    let bot = v["access_token"].as_str().unwrap().to_owned();
    assert!(bot.starts_with("xoxe.xoxb-"), "{bot}");
    assert_eq!(v["expires_in"], 60);
    let r1 = v["refresh_token"].as_str().unwrap().to_owned();
    assert!(r1.starts_with("xoxe-1-"));
    let user_refresh = v["authed_user"]["refresh_token"].as_str().unwrap().to_owned();
    assert!(v["authed_user"]["access_token"].as_str().unwrap().starts_with("xoxe.xoxp-"));
    assert_eq!(v["authed_user"]["expires_in"], 60);

    let n = access(&emu, &[("grant_type", "refresh_token"), ("refresh_token", &r1)]).await;
    assert_eq!(n["ok"], true, "{n}");
    assert_eq!(n["token_type"], "bot");
    let bot2 = n["access_token"].as_str().unwrap().to_owned();
    let r2 = n["refresh_token"].as_str().unwrap().to_owned();
    assert!(bot2.starts_with("xoxe.xoxb-") && bot2 != bot && r2 != r1);
    assert_eq!(n["expires_in"], 60);
    assert_eq!(n["bot_user_id"], json!(emu.bot_user()));
    assert_eq!(n["team"]["id"], json!(emu.team().id));
    // Single use: the old refresh token is refused, the new one works.
    let again = access(&emu, &[("grant_type", "refresh_token"), ("refresh_token", &r1)]).await;
    assert_eq!(again["error"], "invalid_refresh_token");
    // A scripted failure uses nothing up: the same refresh token works afterwards.
    emu.reject_next_web_calls("oauth.v2.access", 1, Rejection::Status(500));
    let basic = format!(
        "Basic {}",
        b64(format!("{}:{}", emu.oauth_client_id(), emu.oauth_client_secret()).as_bytes())
    );
    let form =
        serde_urlencoded::to_string([("grant_type", "refresh_token"), ("refresh_token", &r2)]).unwrap();
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", basic.as_str())];
    let failed = http_raw(&emu, &request("POST", "/api/oauth.v2.access", &headers, form.as_bytes())).await;
    assert_eq!(failed.status, 500);
    assert_eq!(emu.oauth().calls().last().unwrap().error.as_deref(), Some("fatal_error"));
    let n3 = access(&emu, &[("grant_type", "refresh_token"), ("refresh_token", &r2)]).await;
    assert_eq!(n3["ok"], true);
    let u = access(&emu, &[("grant_type", "refresh_token"), ("refresh_token", &user_refresh)]).await;
    assert_eq!(u["token_type"], "user");
    assert!(u["access_token"].as_str().unwrap().starts_with("xoxe.xoxp-"));
    // Both access tokens stay valid until they expire.
    assert_eq!(auth_test(&emu, &bot).await["ok"], true);
    assert_eq!(auth_test(&emu, &bot2).await["ok"], true);
    let grants: Vec<GrantKind> = emu.oauth().calls().into_iter().map(|c| c.grant).collect();
    assert_eq!(grants.iter().filter(|g| **g == GrantKind::RefreshToken).count(), 5);
    assert_eq!(grants.len(), 6, "the code, four refreshes and the rejected one");
}

#[tokio::test]
async fn an_expired_or_revoked_token_is_refused_by_the_web_api_and_recorded() {
    let emu = start(quick()).await;
    emu.oauth().set_token_lifetime(Some(Duration::from_millis(300)));
    let v = exchange(&emu, &code_for(&emu, "chat:write", "").await).await;
    let bot = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(v["expires_in"], 0, "whole seconds, rounded down");
    assert_eq!(post_message(&emu, &bot, &emu.general_channel(), "in time").await["ok"], true);
    assert!(emu.oauth().expired_token_uses().is_empty());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(post_message(&emu, &bot, &emu.general_channel(), "late").await["error"], "token_expired");
    assert_eq!(auth_test(&emu, &bot).await["error"], "token_expired");
    let expired = emu.oauth().expired_token_uses();
    assert_eq!(expired.len(), 2);
    assert_eq!(expired[0].method, "chat.postMessage");
    assert_eq!(expired[0].error.as_deref(), Some("token_expired"));
    assert!(expired[0].is_token(&bot));

    emu.oauth().set_token_lifetime(None);
    let v = exchange(&emu, &code_for(&emu, "chat:write", "").await).await;
    let bot = v["access_token"].as_str().unwrap().to_owned();
    assert!(emu.oauth().revoke_token(&bot));
    assert_eq!(auth_test(&emu, &bot).await["error"], "token_revoked");
    assert!(emu.oauth().token_uses().last().unwrap().revoked);
}

async fn envelope_of(c: &mut Client, event_type: &str) -> Value {
    loop {
        let e = c.envelope().await;
        c.ack(&e, None).await;
        if e["payload"]["event"]["type"] == event_type {
            return e["payload"].clone();
        }
    }
}

#[tokio::test]
async fn uninstall_revokes_the_tokens_and_sends_tokens_revoked_and_app_uninstalled() {
    let emu = start_sm(sm()).await;
    let (mut c, _) = Client::socket_mode(&emu).await;
    let ws = emu.add_workspace("T0SECOND1", "Second");
    assert!(emu.uninstall("T0SECOND1").is_none(), "not installed yet");
    emu.oauth().approve_next("T0SECOND1");
    let v = exchange(&emu, &code_for(&emu, "chat:write", "search:read").await).await;
    let bot = v["access_token"].as_str().unwrap().to_owned();
    let user = v["authed_user"]["access_token"].as_str().unwrap().to_owned();
    let seqs = emu.uninstall("T0SECOND1").unwrap();
    assert_eq!(seqs.len(), 2);
    let revoked = envelope_of(&mut c, "tokens_revoked").await;
    assert_eq!(revoked["team_id"], "T0SECOND1");
    assert_eq!(revoked["event"]["tokens"]["bot"], json!([ws.bot_user]));
    assert_eq!(revoked["event"]["tokens"]["oauth"], json!([ws.installer]));
    let gone = envelope_of(&mut c, "app_uninstalled").await;
    assert_eq!(gone["team_id"], "T0SECOND1");
    assert_eq!(gone["authorizations"][0]["team_id"], "T0SECOND1");
    assert_eq!(auth_test(&emu, &bot).await["error"], "token_revoked");
    assert_eq!(auth_test(&emu, &user).await["error"], "token_revoked");
    assert!(!emu.oauth().is_installed("T0SECOND1"));
    assert!(emu.uninstall("T0SECOND1").is_none());
}

#[tokio::test]
async fn events_from_each_workspace_carry_its_team_and_bot() {
    let emu = start_sm(sm()).await;
    let (mut c, _) = Client::socket_mode(&emu).await;
    let two = emu.add_workspace("T0SECOND1", "Second");
    assert_ne!(two.bot_user, emu.bot_user());
    let in_two = emu.in_team("T0SECOND1");
    let alice2 = in_two.user(&two.installer);
    alice2.mention_bot(&two.general_channel, "hi").unwrap();
    let mention = envelope_of(&mut c, "app_mention").await;
    assert_eq!(mention["team_id"], "T0SECOND1");
    assert_eq!(mention["event"]["team"], "T0SECOND1");
    assert_eq!(mention["authorizations"][0]["user_id"], json!(two.bot_user));
    assert!(mention["event"]["text"].as_str().unwrap().contains(&format!("<@{}>", two.bot_user)));
    let cmd = alice2.run_command(&two.general_channel, "/go", "now");
    let e = c.envelope().await;
    assert_eq!(e["payload"]["team_id"], "T0SECOND1");
    assert_eq!(e["payload"]["command"], "/go");
    c.ack(&e, None).await;
    emu.wait_for_ack(cmd.seq, WAIT).await.unwrap();
    alice2.open_home("home");
    let home = envelope_of(&mut c, "app_home_opened").await;
    assert_eq!(home["team_id"], "T0SECOND1");
    assert_eq!(home["authorizations"][0]["user_id"], json!(two.bot_user));
    // The default workspace's events are as before.
    emu.user(&emu.second_user().user).say(&emu.general_channel(), "plain").unwrap();
    let m = envelope_of(&mut c, "message").await;
    assert_eq!(m["team_id"], json!(emu.team().id));
    assert_eq!(m["authorizations"][0]["user_id"], json!(emu.bot_user()));
    // A new user id acting in a workspace belongs to it.
    let bob = in_two.add_user("bob");
    in_two.user(&bob.user).say(&in_two.general_channel(), "from bob").unwrap();
    assert_eq!(envelope_of(&mut c, "message").await["team_id"], "T0SECOND1");
    assert_eq!(emu.workspaces().len(), 2);
    let ids = |users: Vec<slack_rtm_emulator::UserInfo>| users.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(ids(in_two.users()), [two.bot_user.clone(), two.installer.clone(), bob.user.clone()]);
    let default_users = ids(emu.in_team(emu.team().id.as_str()).users());
    assert!(default_users.contains(&emu.bot_user()) && !default_users.contains(&two.installer));
    let channels: Vec<ChannelId> = in_two.channels().into_iter().map(|c| c.id).collect();
    assert_eq!(channels, std::slice::from_ref(&two.general_channel));
}

#[tokio::test]
async fn org_install_covers_both_workspaces_of_the_org() {
    let emu = start_sm(sm()).await;
    let (mut c, _) = Client::socket_mode(&emu).await;
    let org = emu.add_org("E0ORG0001", "Acme Org", &["T0ACME001", "T0ACME002"]);
    assert_eq!(org.teams.len(), 2);
    let one = emu.workspace("T0ACME001").unwrap();
    assert_eq!(one.enterprise_id.as_ref().unwrap().as_str(), "E0ORG0001");

    // Before an org-wide install, a workspace of the org is seen through its own bot.
    emu.in_team("T0ACME001").user(&one.installer).say(&one.general_channel, "before").unwrap();
    let before = envelope_of(&mut c, "message").await;
    assert_eq!(before["enterprise_id"], "E0ORG0001");
    assert_eq!(before["authorizations"][0]["is_enterprise_install"], false);
    assert_eq!(before["authorizations"][0]["user_id"], json!(one.bot_user));

    emu.oauth().approve_next("E0ORG0001");
    let v = exchange(&emu, &code_for(&emu, "chat:write", "").await).await;
    assert_eq!(v["team"], Value::Null);
    assert_eq!(v["enterprise"], json!({"id": "E0ORG0001", "name": "Acme Org"}));
    assert_eq!(v["is_enterprise_install"], true);
    assert_eq!(v["bot_user_id"], json!(org.bot_user));
    let token = v["access_token"].as_str().unwrap().to_owned();
    let t = auth_test(&emu, &token).await;
    assert_eq!(
        (t["enterprise_id"].clone(), t["is_enterprise_install"].clone()),
        (json!("E0ORG0001"), json!(true))
    );
    assert_eq!(t["user_id"], json!(org.bot_user));

    for team in ["T0ACME001", "T0ACME002"] {
        let scope = emu.in_team(team);
        assert_eq!(scope.bot_user(), org.bot_user);
        scope.user(&scope.installer()).mention_bot(&scope.general_channel(), "hello org").unwrap();
        let e = envelope_of(&mut c, "app_mention").await;
        assert_eq!(e["team_id"], team);
        assert_eq!(e["enterprise_id"], "E0ORG0001");
        let a = &e["authorizations"][0];
        assert_eq!((a["is_enterprise_install"].clone(), a["team_id"].clone()), (json!(true), Value::Null));
        assert_eq!(a["user_id"], json!(org.bot_user));
        let cmd = scope.user(&scope.installer()).run_command(&scope.general_channel(), "/org", "");
        let e = c.envelope().await;
        assert_eq!(e["payload"]["enterprise_id"], "E0ORG0001");
        assert_eq!(e["payload"]["is_enterprise_install"], "true");
        c.ack(&e, None).await;
        emu.wait_for_ack(cmd.seq, WAIT).await.unwrap();
    }
    // The org token posts in either workspace.
    let two = emu.workspace("T0ACME002").unwrap();
    assert_eq!(post_message(&emu, &token, &two.general_channel, "org post").await["ok"], true);
    let u = emu.oauth().token_uses().into_iter().rev().find(|u| u.method == "chat.postMessage").unwrap();
    assert_eq!(
        (u.team_id.clone(), u.enterprise_id.unwrap().as_str().to_owned()),
        (None, "E0ORG0001".to_owned())
    );

    let seqs = emu.uninstall("E0ORG0001").unwrap();
    assert_eq!(seqs.len(), 2);
    let revoked = envelope_of(&mut c, "tokens_revoked").await;
    assert_eq!(revoked["enterprise_id"], "E0ORG0001");
    assert_eq!(revoked["event"]["tokens"]["bot"], json!([org.bot_user]));
    assert_eq!(auth_test(&emu, &token).await["error"], "token_revoked");
    // After the org-wide uninstall, events are seen through the workspace's own bot again.
    assert_eq!(emu.in_team("T0ACME002").bot_user(), two.bot_user);
}
