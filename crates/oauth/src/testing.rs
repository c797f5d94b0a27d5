//! The contract every [`InstallationStore`] must keep, as one async function a store's own
//! tests call against the real backend (feature `testing`).

use crate::{InstallationStore, Lease, StoreError, Workspace};
use slack_rtm_types::oauth::{BotInstallation, Grant, Installation, UserInstallation};
use slack_rtm_types::{Token, UserId};
use std::time::Duration;

fn grant(token: &str) -> Grant {
    Grant {
        token: Token::new(token),
        scopes: vec!["chat:write".into()],
        expires_at: Some(2000),
        refresh_token: None,
    }
}

/// An installation into `team` (of `enterprise`, if any) with a bot token `bot` and, when
/// `user` is given, that user with the user token `user_token`.
pub fn installation(
    enterprise: Option<&str>,
    team: Option<&str>,
    bot: Option<&str>,
    user: Option<(&str, Option<&str>)>,
) -> Installation {
    Installation {
        app_id: Some("A1".into()),
        enterprise_id: enterprise.map(Into::into),
        enterprise_name: None,
        team_id: team.map(Into::into),
        team_name: team.map(|t| format!("team {t}")),
        is_enterprise_install: team.is_none(),
        bot: bot.map(|b| BotInstallation {
            grant: grant(b),
            user_id: "UBOT".into(),
            bot_id: Some("B1".into()),
        }),
        user: user.map(|(id, token)| UserInstallation { user_id: id.into(), grant: token.map(grant) }),
        incoming_webhook: None,
        installed_at: 1000,
    }
}

fn ws(enterprise: Option<&str>, team: Option<&str>) -> Workspace {
    Workspace { enterprise_id: enterprise.map(Into::into), team_id: team.map(Into::into) }
}

fn bot_token(i: &Option<Installation>) -> Option<String> {
    i.as_ref()?.bot.as_ref().map(|b| b.grant.token.expose_secret().to_owned())
}

fn user_token(i: &Option<Installation>) -> Option<String> {
    i.as_ref()?.user.as_ref()?.grant.as_ref().map(|g| g.token.expose_secret().to_owned())
}

/// Runs the contract on an empty `store`; panics (with what differs) on a breach.
pub async fn store_contract(store: &dyn InstallationStore) {
    let u = |s: &str| Some(UserId::from(s));
    let a = installation(None, Some("T1"), Some("xoxb-t1"), Some(("U1", Some("xoxp-u1"))));
    store.save(a.clone()).await.unwrap();
    store.save(installation(None, Some("T2"), Some("xoxb-t2"), None)).await.unwrap();
    store.save(installation(Some("E1"), None, Some("xoxb-e1-org"), Some(("W1", None)))).await.unwrap();
    store.save(installation(Some("E1"), Some("T3"), Some("xoxb-e1-t3"), None)).await.unwrap();

    assert_eq!(
        store.find(ws(None, Some("T1")), None).await.unwrap(),
        Some(a.clone()),
        "the bot row reads back whole"
    );
    assert_eq!(store.find(ws(None, Some("T1")), u("U1")).await.unwrap(), Some(a.clone()));
    assert_eq!(
        bot_token(&store.find(ws(None, Some("T1")), u("U9")).await.unwrap()).as_deref(),
        Some("xoxb-t1")
    );
    assert_eq!(bot_token(&store.find(ws(None, Some("T2")), None).await.unwrap()).as_deref(), Some("xoxb-t2"));
    let org = Workspace::for_event(Some("E1".into()), Some("T7".into()), true);
    assert_eq!(bot_token(&store.find(org, None).await.unwrap()).as_deref(), Some("xoxb-e1-org"));
    assert_eq!(
        bot_token(&store.find(ws(Some("E1"), Some("T3")), None).await.unwrap()).as_deref(),
        Some("xoxb-e1-t3")
    );
    assert_eq!(
        store.find(ws(None, Some("T3")), None).await.unwrap(),
        None,
        "T3 is E1's: the org is part of the key"
    );
    assert_eq!(store.find(ws(None, Some("T404")), None).await.unwrap(), None);

    // A later install by someone else replaces the bot; U1 keeps their user token.
    store.save(installation(None, Some("T1"), Some("xoxb-t1-new"), Some(("U2", None)))).await.unwrap();
    let for_u1 = store.find(ws(None, Some("T1")), u("U1")).await.unwrap();
    assert_eq!(bot_token(&for_u1).as_deref(), Some("xoxb-t1-new"), "the bot comes from the bot row");
    assert_eq!(user_token(&for_u1).as_deref(), Some("xoxp-u1"));
    assert_eq!(store.list().await.unwrap().len(), 7);

    // tokens_revoked (bot): the bot goes, users stay.
    assert_eq!(store.delete_bot(ws(None, Some("T1"))).await.unwrap(), 1);
    assert_eq!(store.find(ws(None, Some("T1")), None).await.unwrap(), None);
    let for_u1 = store.find(ws(None, Some("T1")), u("U1")).await.unwrap();
    assert_eq!((bot_token(&for_u1), user_token(&for_u1).as_deref()), (None, Some("xoxp-u1")));
    // tokens_revoked (user), then app_uninstalled.
    assert_eq!(store.delete(ws(None, Some("T1")), u("U1")).await.unwrap(), 1);
    assert_eq!(store.find(ws(None, Some("T1")), u("U1")).await.unwrap(), None);
    assert_eq!(store.delete(ws(Some("E1"), None), None).await.unwrap(), 2, "the org's bot and user rows");
    assert_eq!(
        store.find(ws(Some("E1"), Some("T3")), None).await.unwrap().map(|i| i.team_id),
        Some(Some("T3".into()))
    );
    assert_eq!(store.delete(ws(None, Some("T2")), None).await.unwrap(), 1);
    assert_eq!(store.delete(ws(None, Some("T2")), None).await.unwrap(), 0);
    assert_eq!(store.list().await.unwrap().len(), 2, "T1's U2 row and E1/T3");

    let nowhere = installation(None, None, Some("xoxb-x"), None);
    let nowhere = Installation { is_enterprise_install: false, ..nowhere };
    assert!(matches!(store.save(nowhere).await, Err(StoreError::NoWorkspace)));
}

/// The lease contract on an empty `store` (`other` is a second handle on the same backend, as
/// another instance would have): one holder at a time, extended by its holder, released
/// only by it, taken over once its time ran out, and a save under a lost lease writes nothing.
pub async fn lease_contract(store: &dyn InstallationStore, other: &dyn InstallationStore) {
    let name = Lease::refresh_of(&ws(None, Some("T1")), None);
    let a = Lease { name: name.clone(), holder: "holder-a".into() };
    let b = Lease { name: name.clone(), holder: "holder-b".into() };
    let long = Duration::from_secs(30);
    assert!(store.try_lease(a.clone(), long).await.unwrap(), "a free lease is taken");
    assert!(!other.try_lease(b.clone(), long).await.unwrap(), "one holder at a time");
    assert!(store.try_lease(a.clone(), long).await.unwrap(), "its holder extends it");
    let inst = installation(None, Some("T1"), Some("xoxb-by-b"), None);
    assert!(!other.save_leased(b.clone(), inst.clone()).await.unwrap(), "fenced: b does not hold it");
    assert_eq!(store.find(ws(None, Some("T1")), None).await.unwrap(), None, "nothing written");
    other.release_lease(b.clone()).await.unwrap();
    assert!(!other.try_lease(b.clone(), long).await.unwrap(), "only the holder releases it");
    let by_a = installation(None, Some("T1"), Some("xoxb-by-a"), None);
    assert!(store.save_leased(a.clone(), by_a).await.unwrap());
    assert_eq!(
        bot_token(&other.find(ws(None, Some("T1")), None).await.unwrap()).as_deref(),
        Some("xoxb-by-a")
    );
    store.release_lease(a.clone()).await.unwrap();
    assert!(other.try_lease(b.clone(), Duration::from_millis(100)).await.unwrap(), "released: b takes it");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(store.try_lease(a.clone(), long).await.unwrap(), "b's time ran out: a takes it over");
    assert!(!other.save_leased(b, inst).await.unwrap(), "b's lease is lost: its save is fenced off");
    let unrelated = Lease { name: Lease::refresh_of(&ws(None, Some("T2")), None), holder: "holder-b".into() };
    assert!(other.try_lease(unrelated, long).await.unwrap(), "leases are per name");
    store.delete(ws(None, Some("T1")), None).await.unwrap();
}

/// The shared state ledger (`consume_state`) on `store` and `other` (two handles on one
/// backend, as two instances would have): a nonce is consumed once across both, until its
/// expiry, after which it may be forgotten.
pub async fn state_ledger_contract(store: &dyn InstallationStore, other: &dyn InstallationStore) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let until = now + 60_000;
    assert_eq!(store.consume_state("nonce-1".into(), until).await.unwrap(), Some(true), "first use");
    assert_eq!(other.consume_state("nonce-1".into(), until).await.unwrap(), Some(false), "reused elsewhere");
    assert_eq!(store.consume_state("nonce-1".into(), until).await.unwrap(), Some(false), "reused here");
    assert_eq!(other.consume_state("nonce-2".into(), until).await.unwrap(), Some(true), "per nonce");
    assert_eq!(store.consume_state("short".into(), now + 100).await.unwrap(), Some(true));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        other.consume_state("short".into(), now + 60_000).await.unwrap(),
        Some(true),
        "an expired nonce is forgotten (the state itself is refused as expired by then)"
    );
}
