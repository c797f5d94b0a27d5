//! `Installations` on its own: the cache's bound, and an installation's client taking the
//! current token once its own expires (never sending an expired one).

mod oauth_support;

use oauth_support::*;
use slack_rtm::app::oauth::{InstallationStore, Installations, Workspace};
use slack_rtm::app::{App, BotIdentity};
use slack_rtm::types::Token;
use slack_rtm::types::oauth::{BotInstallation, Grant, Installation};
use slack_rtm_oauth::SqliteInstallationStore;
use std::time::Duration;

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn install(team: &str, token: &str, expires_at: Option<u64>) -> Installation {
    Installation {
        app_id: None,
        enterprise_id: None,
        enterprise_name: None,
        team_id: Some(team.into()),
        team_name: None,
        is_enterprise_install: false,
        bot: Some(BotInstallation {
            grant: Grant {
                token: Token::new(token),
                scopes: vec![],
                expires_at,
                refresh_token: expires_at.map(|_| Token::new("xoxe-1-refresh")),
            },
            user_id: "UBOT".into(),
            bot_id: None,
        }),
        user: None,
        incoming_webhook: None,
        installed_at: now(),
    }
}

fn ws(team: &str) -> Workspace {
    Workspace { enterprise_id: None, team_id: Some(team.into()) }
}

/// Installations in a fresh SQLite file, started by an app's dispatcher on `emu`'s API.
async fn started(
    emu: &slack_rtm_emulator::Emulator,
    name: &str,
    capacity: usize,
) -> (Installations, SqliteInstallationStore) {
    let store = SqliteInstallationStore::open(dir(name).join("installs.db")).unwrap();
    let installations = Installations::new(store.clone()).cache(capacity, Duration::from_secs(60));
    let mut app = App::new();
    app.installations(installations.clone());
    let web = base_web(emu);
    let _dispatcher = app.into_dispatcher_with(web, BotIdentity::default());
    (installations, store)
}

#[tokio::test]
async fn the_cache_holds_at_most_its_capacity_and_evicts_a_workspace() {
    let emu = emulator().await;
    let (installations, store) = started(&emu, "cache", 2).await;
    for t in ["T1", "T2", "T3"] {
        store.save(install(t, &format!("xoxb-{t}"), None)).await.unwrap();
    }
    for t in ["T1", "T2", "T3"] {
        let auth = installations.authorized(ws(t), None).await.expect("installed");
        assert_eq!(auth.installation.team_id.as_ref().map(|x| x.as_str()), Some(t));
        assert!(installations.cached() <= 2, "bounded: {}", installations.cached());
    }
    assert_eq!(installations.cached(), 2);
    installations.evict(&ws("T3"));
    assert_eq!(installations.cached(), 1);
    assert!(installations.authorized(ws("T404"), None).await.is_none());
}

#[tokio::test]
async fn an_installation_client_takes_the_stored_token_once_its_own_expires_and_never_sends_an_expired_one() {
    let emu = emulator().await;
    let (installations, store) = started(&emu, "expiry", 16).await;
    // T1's token expires in 2 s; meanwhile "another instance" stores a refreshed one.
    store.save(install("T1", "xoxb-old-expiring", Some(now() + 2))).await.unwrap();
    let web = installations.authorized(ws("T1"), None).await.expect("installed").web().clone();
    store.save(install("T1", &emu.token(), Some(now() + 3600))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    web.auth_test().await.expect("sent with the refreshed token");
    let uses = emu.oauth().token_uses();
    assert!(uses.iter().any(|u| u.method == "auth.test" && u.is_token(&emu.token())));
    assert!(!uses.iter().any(|u| u.is_token("xoxb-old-expiring")), "the expired token was never sent");

    // T2's token expires and nothing refreshed it: the call fails here, nothing is sent.
    store.save(install("T2", "xoxb-t2-expiring", Some(now() + 2))).await.unwrap();
    let web = installations.authorized(ws("T2"), None).await.expect("installed").web().clone();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let err = web.auth_test().await.expect_err("an expired token is not sent");
    assert!(err.to_string().contains("token_expired"), "{err}");
    assert!(!emu.oauth().token_uses().iter().any(|u| u.is_token("xoxb-t2-expiring")));
    assert!(installations.authorized(ws("T2"), None).await.is_none(), "an expired installation is not used");
}
