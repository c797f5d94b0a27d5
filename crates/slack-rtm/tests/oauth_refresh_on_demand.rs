//! A request that finds its installation's token expired (no scheduled rotation: the task is
//! off) refreshes it then, under the store's lease, and is handled; two instances on one
//! SQLite store refresh it once. The emulator's 2 s token lifetime.

mod oauth_support;

use oauth_support::*;
use slack_rtm::app::oauth::{InstallationStore, Installations, RotationPolicy, Workspace};
use slack_rtm_emulator::GrantKind;
use slack_rtm_oauth::SqliteInstallationStore;
use std::time::Duration;

fn refreshes(emu: &slack_rtm_emulator::Emulator) -> usize {
    emu.oauth()
        .calls()
        .into_iter()
        .filter(|c| c.grant == GrantKind::RefreshToken && c.error.is_none())
        .count()
}

#[tokio::test]
async fn an_expired_token_is_refreshed_on_demand_once_across_two_instances_and_the_request_handled() {
    let emu = emulator().await;
    emu.oauth().set_token_lifetime(Some(Duration::from_secs(2)));
    let info = emu.add_workspace("T0AAAA001", "Alpha");
    let path = dir("on-demand").join("installs.db");
    let store = SqliteInstallationStore::open(&path).unwrap();
    let policy = RotationPolicy { margin: Duration::from_secs(1), ..RotationPolicy::default() };
    let one = Installations::new(store.clone()).rotate_on_demand(oauth_client(&emu), policy);
    let two = Installations::new(SqliteInstallationStore::open(&path).unwrap())
        .rotate_on_demand(oauth_client(&emu), policy);
    let app_one = serve(&emu, pong_app(), &one).await;
    let app_two = serve(&emu, pong_app(), &two).await;
    assert_eq!(install(&emu, app_one.local_addr(), "T0AAAA001").await.status, 200);
    let ws = Workspace { enterprise_id: None, team_id: Some("T0AAAA001".into()) };
    let first = store.find(ws.clone(), None).await.unwrap().unwrap().bot.unwrap().grant.token;

    // Let the token expire: no task refreshes it.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(refreshes(&emu), 0, "no scheduled refresh");
    emu.in_team("T0AAAA001").user(&info.installer).say(&info.general_channel, "ping").unwrap();
    until("a pong after an on-demand refresh", || {
        emu.oauth().token_uses().iter().any(|u| u.method == "chat.postMessage")
    })
    .await;
    assert_eq!(refreshes(&emu), 1);
    let now = store.find(ws.clone(), None).await.unwrap().unwrap().bot.unwrap().grant.token;
    assert_ne!(now, first, "the refreshed token is stored");

    // Both instances see an expired token again: one refresh between them (the lease, and the
    // store read again under it), and every request is answered.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let before = refreshes(&emu);
    for (n, app) in [(2, &app_one), (3, &app_two)] {
        emu.set_request_url(Some(&app.url())).await.unwrap();
        emu.in_team("T0AAAA001").user(&info.installer).say(&info.general_channel, "ping").unwrap();
        until("a pong", || {
            emu.oauth().token_uses().iter().filter(|u| u.method == "chat.postMessage").count() >= n
        })
        .await;
    }
    assert_eq!(refreshes(&emu) - before, 1, "one refresh across both instances");
    assert!(emu.oauth().expired_token_uses().is_empty(), "{:?}", emu.oauth().expired_token_uses());
    app_one.shutdown(Duration::from_secs(2)).await;
    app_two.shutdown(Duration::from_secs(2)).await;
}
