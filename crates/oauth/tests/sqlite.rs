//! The SQLite store against real files.

use slack_rtm_oauth::testing::{installation, lease_contract, state_ledger_contract, store_contract};
use slack_rtm_oauth::{InstallationStore, SqliteInstallationStore, StoreError, Workspace};

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("slack-rtm-oauth-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn the_sqlite_store_keeps_the_contract() {
    let d = dir("contract");
    let store = SqliteInstallationStore::open(d.join("installs.db")).unwrap();
    store_contract(&store).await;
}

#[tokio::test]
async fn installations_survive_a_reopen_and_the_file_is_private() {
    let d = dir("reopen");
    let path = d.join("installs.db");
    {
        let store = SqliteInstallationStore::open(&path).unwrap();
        store.save(installation(None, Some("T1"), Some("xoxb-keep"), None)).await.unwrap();
        assert!(!format!("{store:?}").contains("xoxb"));
    }
    let store = SqliteInstallationStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 3);
    let ws = Workspace { enterprise_id: None, team_id: Some("T1".into()) };
    let found = store.find(ws, None).await.unwrap().unwrap();
    assert_eq!(found.bot.unwrap().grant.token.expose_secret(), "xoxb-keep");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[tokio::test]
async fn a_file_from_a_newer_library_is_refused_and_an_old_one_is_migrated() {
    let d = dir("versions");
    let newer = d.join("newer.db");
    {
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (99);",
        )
        .unwrap();
    }
    assert!(matches!(
        SqliteInstallationStore::open(&newer),
        Err(StoreError::SchemaTooNew { found: 99, known: 3 })
    ));
    // A file at version 0 (the version table only, as an interrupted first open might leave).
    let old = d.join("old.db");
    {
        let c = rusqlite::Connection::open(&old).unwrap();
        c.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (0);",
        )
        .unwrap();
    }
    let store = SqliteInstallationStore::open(&old).unwrap();
    assert_eq!(store.schema_version().unwrap(), 3);
    store.save(installation(None, Some("T1"), Some("xoxb-1"), None)).await.unwrap();
}

#[tokio::test]
async fn a_corrupt_row_is_a_typed_error() {
    let d = dir("corrupt");
    let path = d.join("installs.db");
    let store = SqliteInstallationStore::open(&path).unwrap();
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute("INSERT INTO installations VALUES ('', 'T9', '', '{\"v\":7}', 0)", []).unwrap();
    }
    let ws = Workspace { enterprise_id: None, team_id: Some("T9".into()) };
    assert!(matches!(store.find(ws, None).await, Err(StoreError::Corrupt(_))));
}

#[tokio::test]
async fn sqlite_leases_keep_the_contract_across_two_connections_to_one_file() {
    let d = dir("leases");
    let path = d.join("installs.db");
    let one = SqliteInstallationStore::open(&path).unwrap();
    let two = SqliteInstallationStore::open(&path).unwrap();
    lease_contract(&one, &two).await;
}

#[tokio::test]
async fn two_handles_on_one_file_share_the_single_use_state_ledger() {
    let path = dir("states").join("installs.db");
    let one = SqliteInstallationStore::open(&path).unwrap();
    let two = SqliteInstallationStore::open(&path).unwrap();
    state_ledger_contract(&one, &two).await;
}

#[tokio::test]
async fn a_version_2_file_gains_the_state_ledger_and_keeps_its_leases() {
    let path = dir("v2").join("installs.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (2);
             CREATE TABLE installations (enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL,
               user_id TEXT NOT NULL, data TEXT NOT NULL, installed_at INTEGER NOT NULL,
               PRIMARY KEY (enterprise_id, team_id, user_id));
             CREATE TABLE leases (name TEXT PRIMARY KEY NOT NULL, holder TEXT NOT NULL,
               expires_at_ms INTEGER NOT NULL);
             INSERT INTO leases VALUES ('kept', 'holder-a', 9223372036854775807);",
        )
        .unwrap();
    }
    let store = SqliteInstallationStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 3);
    let other = slack_rtm_oauth::Lease { name: "kept".into(), holder: "holder-b".into() };
    assert!(!store.try_lease(other, std::time::Duration::from_secs(1)).await.unwrap(), "the lease survived");
    assert_eq!(store.consume_state("n".into(), u64::MAX / 2).await.unwrap(), Some(true));
    assert_eq!(store.consume_state("n".into(), u64::MAX / 2).await.unwrap(), Some(false));
}
