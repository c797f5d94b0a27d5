//! A failed refresh is retried (with the codec's backoff) and succeeds before the old token
//! expires; the old token is used meanwhile. One instance, a SQLite store, the emulator's
//! `oauth.v2.access` answering 500 twice (a 3 s token lifetime, a 2 s margin).

mod oauth_support;

use oauth_support::*;
use slack_rtm::app::oauth::{InstallationStore, Installations, RotationPolicy, Workspace};
use slack_rtm_emulator::Rejection;
use slack_rtm_oauth::SqliteInstallationStore;
use std::time::Duration;

#[tokio::test]
async fn a_failed_refresh_is_retried_and_the_old_token_is_used_meanwhile() {
    let emu = emulator().await;
    emu.oauth().set_token_lifetime(Some(Duration::from_secs(3)));
    let info = emu.add_workspace("T0AAAA001", "Alpha");
    let store = SqliteInstallationStore::open(dir("retry").join("installs.db")).unwrap();
    let policy = RotationPolicy {
        margin: Duration::from_secs(2),
        first_retry: Duration::from_millis(150),
        max_retry: Duration::from_millis(300),
        attempts: 5,
    };
    let installations = Installations::new(store.clone()).rotate(oauth_client(&emu), policy);
    let app = serve(&emu, pong_app(), &installations).await;
    assert_eq!(install(&emu, app.local_addr(), "T0AAAA001").await.status, 200);
    let ws = Workspace { enterprise_id: None, team_id: Some("T0AAAA001".into()) };
    let first = store.find(ws.clone(), None).await.unwrap().unwrap().bot.unwrap().grant.token;
    emu.reject_next_web_calls("oauth.v2.access", 2, Rejection::Status(500));

    // Answered with the old token while the refresh fails.
    emu.in_team("T0AAAA001").user(&info.installer).say(&info.general_channel, "ping").unwrap();
    until("a pong", || emu.oauth().token_uses().iter().any(|u| u.method == "chat.postMessage")).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = store.find(ws.clone(), None).await.unwrap().unwrap().bot.unwrap().grant.token;
        if now != first {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never refreshed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refreshes: Vec<_> = emu
        .oauth()
        .calls()
        .into_iter()
        .filter(|c| c.grant == slack_rtm_emulator::GrantKind::RefreshToken)
        .collect();
    assert_eq!(refreshes.len(), 3, "two rejected tries, then the refresh: {refreshes:?}");
    assert!(refreshes[..2].iter().all(|c| c.error.is_some()), "{refreshes:?}");
    assert_eq!(refreshes[2].error, None, "{refreshes:?}");
    emu.in_team("T0AAAA001").user(&info.installer).say(&info.general_channel, "ping").unwrap();
    until("a second pong", || {
        emu.oauth().token_uses().iter().filter(|u| u.method == "chat.postMessage").count() >= 2
    })
    .await;
    assert!(emu.oauth().expired_token_uses().is_empty());
    app.shutdown(Duration::from_secs(2)).await;
}
