//! The install flow and per-workspace authorization end to end, against the emulator's OAuth
//! (authorize page, `oauth.v2.access`, several workspaces and an org) and a real SQLite file.

mod oauth_support;

use oauth_support::*;
use slack_rtm::app::oauth::{InstallationStore, Installations, StateSecret, Workspace};
use slack_rtm::codec::oauth::StateSigner;
use slack_rtm_oauth::SqliteInstallationStore;
use std::sync::{Arc, Mutex};

fn bot_token(store_row: &Option<slack_rtm::app::oauth::Installation>) -> String {
    store_row.as_ref().unwrap().bot.as_ref().unwrap().grant.token.expose_secret().to_owned()
}

fn ws(enterprise: Option<&str>, team: Option<&str>) -> Workspace {
    Workspace { enterprise_id: enterprise.map(Into::into), team_id: team.map(Into::into) }
}

#[tokio::test]
async fn installs_into_two_workspaces_and_an_org_and_answers_each_with_its_token() {
    let emu = emulator().await;
    let a = emu.add_workspace("T0AAAA001", "Alpha");
    let b = emu.add_workspace("T0BBBB002", "Beta");
    let org = emu.add_org("E0ORG0001", "Org", &["T0CCCC003", "T0DDDD004"]);
    let d = dir("three");
    let store = SqliteInstallationStore::open(d.join("installs.db")).unwrap();
    let installations = Installations::new(store.clone());
    let app = serve(&emu, pong_app(), &installations).await;
    let addr = app.local_addr();

    for target in ["T0AAAA001", "T0BBBB002", "E0ORG0001"] {
        let page = install(&emu, addr, target).await;
        assert_eq!(page.status, 200, "{target}: {}", page.text());
        assert!(page.text().contains("Installed"), "{}", page.text());
        let clear = page.headers.iter().any(|(n, v)| n == "set-cookie" && v.contains("Max-Age=0"));
        assert!(clear, "the browser cookie is cleared after the install");
    }
    let rows = store.list().await.unwrap();
    assert_eq!(rows.len(), 6, "a bot row and an installer row for each of the three installs");
    let ta = bot_token(&store.find(ws(None, Some("T0AAAA001")), None).await.unwrap());
    let tb = bot_token(&store.find(ws(None, Some("T0BBBB002")), None).await.unwrap());
    let te = bot_token(&store.find(ws(Some("E0ORG0001"), None), None).await.unwrap());
    assert!(ta != tb && tb != te && ta != te);
    let org_row = store.find(ws(Some("E0ORG0001"), None), None).await.unwrap().unwrap();
    assert!(org_row.is_enterprise_install && org_row.team_id.is_none());
    assert_eq!(org_row.bot.as_ref().unwrap().user_id, org.bot_user);
    assert!(org_row.bot.as_ref().unwrap().bot_id.is_some(), "auth.test gave the bot id");

    // An event from each workspace (both of the org's) is answered with that install's token.
    let cases = [
        ("T0AAAA001", a.installer.clone(), a.general_channel.clone(), ta.clone()),
        ("T0BBBB002", b.installer.clone(), b.general_channel.clone(), tb.clone()),
        (
            "T0CCCC003",
            emu.in_team("T0CCCC003").installer(),
            emu.in_team("T0CCCC003").general_channel(),
            te.clone(),
        ),
        (
            "T0DDDD004",
            emu.in_team("T0DDDD004").installer(),
            emu.in_team("T0DDDD004").general_channel(),
            te.clone(),
        ),
    ];
    for (team, user, channel, token) in &cases {
        let before = emu.oauth().token_uses().iter().filter(|u| u.method == "chat.postMessage").count();
        emu.in_team(team).user(user).say(channel, "ping").unwrap();
        until(&format!("{team}'s pong"), || {
            emu.oauth().token_uses().iter().filter(|u| u.method == "chat.postMessage").count() > before
        })
        .await;
        let uses = emu.oauth().token_uses();
        let last = uses.iter().rev().find(|u| u.method == "chat.postMessage").unwrap();
        assert!(last.is_token(token), "{team}: answered with its own installation's token ({last:?})");
        assert_eq!(last.error, None, "{team}: {last:?}");
    }
    assert!(emu.oauth().token_uses().iter().all(|u| !u.is_token("xoxb-none")), "never the placeholder token");
    app.shutdown(std::time::Duration::from_secs(2)).await;
}

#[tokio::test]
async fn forged_reused_expired_and_denied_installs_end_on_the_failure_page_with_nothing_stored() {
    let emu = emulator().await;
    emu.add_workspace("T0AAAA001", "Alpha");
    let d = dir("refused");
    let store = SqliteInstallationStore::open(d.join("installs.db")).unwrap();
    let installations = Installations::new(store.clone());
    let app = serve(&emu, pong_app(), &installations).await;
    let addr = app.local_addr();

    // The cookie: HttpOnly, SameSite=Lax, no Secure on a loopback http redirect URI.
    let started = start_install(addr).await;
    assert!(started.set_cookie.contains("HttpOnly") && started.set_cookie.contains("SameSite=Lax"));
    assert!(!started.set_cookie.contains("Secure"), "{}", started.set_cookie);
    for p in ["client_id=", "scope=chat%3Awrite%2Cchannels%3Ahistory", "redirect_uri=", "state="] {
        assert!(started.authorize.contains(p), "{p} in {}", started.authorize);
    }
    assert!(started.authorize.starts_with(&format!(
        "{}oauth/v2/authorize?",
        emu.base_url().trim_end_matches('/').to_owned() + "/"
    )));

    // Denied.
    emu.oauth().deny_next();
    let back = authorize(&started).await;
    let page = get(addr, &back, Some(&started.cookie)).await;
    assert_eq!(page.status, 400);
    assert!(page.text().contains("access_denied"), "{}", page.text());

    // Forged: a state changed by one character.
    emu.oauth().approve_next("T0AAAA001");
    let started = start_install(addr).await;
    let back = authorize(&started).await;
    let state = param(&back, "state").unwrap();
    let mut forged = state.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let page = get(addr, &back.replace(&state, &forged), Some(&started.cookie)).await;
    assert!(page.text().contains("state_forged"), "{}", page.text());
    // Another browser (no cookie, or another browser's).
    let page = get(addr, &back, None).await;
    assert!(page.text().contains("state_no_browser"), "{}", page.text());
    let other = start_install(addr).await;
    let page = get(addr, &back, Some(&other.cookie)).await;
    assert!(page.text().contains("state_forged"), "another browser's cookie: {}", page.text());

    // Reused: the first use succeeds, the second is refused.
    let page = get(addr, &back, Some(&started.cookie)).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(store.list().await.unwrap().len(), 2);
    store.delete(ws(None, Some("T0AAAA001")), None).await.unwrap();
    let page = get(addr, &back, Some(&started.cookie)).await;
    assert!(page.text().contains("state_reused"), "{}", page.text());

    // Expired: a state the app's signer issued 10 minutes and 1 second ago.
    emu.oauth().approve_next("T0AAAA001");
    let started = start_install(addr).await;
    let browser = started.cookie.split_once('=').unwrap().1.to_owned();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let old = StateSigner::new(StateSecret::new(STATE_SECRET.to_vec()))
        .issue(now - 601, "an-old-nonce-0123456789", &browser)
        .unwrap();
    let fresh = param(&started.authorize, "state").unwrap();
    let authorize_old = Started { authorize: started.authorize.replace(&fresh, &old), ..started };
    let back = authorize(&authorize_old).await;
    let page = get(addr, &back, Some(&authorize_old.cookie)).await;
    assert!(page.text().contains("state_expired"), "{}", page.text());

    // A bad code.
    let started = start_install(addr).await;
    let state = param(&started.authorize, "state").unwrap();
    let page =
        get(addr, &format!("/slack/oauth_redirect?code=not-a-code&state={state}"), Some(&started.cookie))
            .await;
    assert!(page.text().contains("invalid_code"), "{}", page.text());

    assert!(store.list().await.unwrap().is_empty(), "nothing stored by a refused install");
    app.shutdown(std::time::Duration::from_secs(2)).await;
}

#[tokio::test]
async fn an_uninstall_removes_the_installation_and_a_workspace_without_one_is_reported_once() {
    let emu = emulator().await;
    let a = emu.add_workspace("T0AAAA001", "Alpha");
    let z = emu.add_workspace("T0ZZZZ009", "Never installed");
    let d = dir("uninstall");
    let store = SqliteInstallationStore::open(d.join("installs.db")).unwrap();
    let missing = Arc::new(Mutex::new(Vec::new()));
    let seen = missing.clone();
    let installations =
        Installations::new(store.clone()).on_missing(move |w| seen.lock().unwrap().push(w.clone()));
    let handled = Arc::new(Mutex::new(Vec::new()));
    let mut app = pong_app();
    let log = handled.clone();
    app.event("app_uninstalled", move |_, ctx| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(ctx.team_id().unwrap_or("").to_owned());
            Ok(())
        }
    });
    let app = serve(&emu, app, &installations).await;
    let addr = app.local_addr();
    assert_eq!(install(&emu, addr, "T0AAAA001").await.status, 200);

    // A workspace with no installation: acked (not retried), not handled, reported once.
    let before = emu.http_deliveries().len() as u64;
    for _ in 0..3 {
        emu.in_team("T0ZZZZ009").user(&z.installer).say(&z.general_channel, "ping").unwrap();
    }
    emu.wait_for_http_deliveries(before + 3, WAIT).await.unwrap();
    let deliveries = emu.http_deliveries();
    assert!(deliveries.iter().skip(before as usize).all(|d| d.ok() && d.retry_num == 0), "acked at once");
    until("the report", || !missing.lock().unwrap().is_empty()).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(*missing.lock().unwrap(), vec![ws(None, Some("T0ZZZZ009"))], "reported once");
    assert!(emu.oauth().token_uses().iter().all(|u| u.method != "chat.postMessage"), "not handled");

    // The installed workspace works, then is uninstalled.
    emu.in_team("T0AAAA001").user(&a.installer).say(&a.general_channel, "ping").unwrap();
    until("a pong", || emu.oauth().token_uses().iter().any(|u| u.method == "chat.postMessage")).await;
    emu.uninstall("T0AAAA001").unwrap();
    until("the uninstall", || !handled.lock().unwrap().is_empty()).await;
    assert!(store.list().await.unwrap().is_empty(), "app_uninstalled deleted every row");
    assert_eq!(installations.cached(), 0, "and evicted the cache");
    assert_eq!(*handled.lock().unwrap(), vec!["T0AAAA001".to_owned()], "listeners still get the event");
    app.shutdown(std::time::Duration::from_secs(2)).await;
}
