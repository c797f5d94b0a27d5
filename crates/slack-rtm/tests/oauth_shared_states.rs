//! A state is single-use across instances: two apps on one SQLite store (as behind a load
//! balancer, same state secret), the second use of a state on the other instance is refused
//! (`state_reused`) before any code exchange, and nothing is stored.

mod oauth_support;

use oauth_support::*;
use slack_rtm::app::oauth::{InstallationStore, Installations, Workspace};
use slack_rtm_emulator::GrantKind;
use slack_rtm_oauth::SqliteInstallationStore;

#[tokio::test]
async fn a_state_used_on_one_instance_is_refused_on_the_other_and_nothing_is_stored() {
    let emu = emulator().await;
    emu.add_workspace("T0AAAA001", "Alpha");
    let path = dir("shared-states").join("installs.db");
    let store = SqliteInstallationStore::open(&path).unwrap();
    let one = Installations::new(store.clone());
    let two = Installations::new(SqliteInstallationStore::open(&path).unwrap());
    let app_one = serve(&emu, pong_app(), &one).await;
    let app_two = serve(&emu, pong_app(), &two).await;

    emu.oauth().approve_next("T0AAAA001");
    let started = start_install(app_one.local_addr()).await;
    let back = authorize(&started).await;
    let page = get(app_one.local_addr(), &back, Some(&started.cookie)).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let ws = Workspace { enterprise_id: None, team_id: Some("T0AAAA001".into()) };
    // Removed, so a stored row after the replay could only come from it.
    store.delete(ws.clone(), None).await.unwrap();
    let exchanges = |emu: &slack_rtm_emulator::Emulator| {
        emu.oauth().calls().into_iter().filter(|c| c.grant == GrantKind::Code).count()
    };
    let before = exchanges(&emu);

    // The same redirect (same browser) replayed on the other instance.
    let page = get(app_two.local_addr(), &back, Some(&started.cookie)).await;
    assert_ne!(page.status, 200);
    assert!(page.text().contains("state_reused"), "{}", page.text());
    assert_eq!(exchanges(&emu), before, "refused before the code was exchanged");
    assert!(store.list().await.unwrap().is_empty(), "nothing stored");
    assert_eq!(store.find(ws, None).await.unwrap(), None);
    app_one.shutdown(std::time::Duration::from_secs(2)).await;
    app_two.shutdown(std::time::Duration::from_secs(2)).await;
}
