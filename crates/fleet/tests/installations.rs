//! The Redis installation store against a real redis-server.
#![cfg(feature = "testing")]

use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{FleetConfig, RedisInstallationStore};
use slack_rtm_oauth::testing::{installation, lease_contract, state_ledger_contract, store_contract};
use slack_rtm_oauth::{InstallationStore, StoreError, Workspace};

#[tokio::test]
async fn the_redis_store_keeps_the_contract() {
    let redis = RedisServer::start().unwrap();
    let store = RedisInstallationStore::new(&FleetConfig::new(redis.url(), "contract")).unwrap();
    store_contract(&store).await;
}

#[tokio::test]
async fn two_instances_share_installations_and_apps_are_apart() {
    let redis = RedisServer::start().unwrap();
    let a = RedisInstallationStore::new(&FleetConfig::new(redis.url(), "app")).unwrap();
    let b = RedisInstallationStore::new(&FleetConfig::new(redis.url(), "app")).unwrap();
    let other = RedisInstallationStore::new(&FleetConfig::new(redis.url(), "other")).unwrap();
    a.save(installation(None, Some("T1"), Some("xoxb-shared"), None)).await.unwrap();
    let ws = Workspace { enterprise_id: None, team_id: Some("T1".into()) };
    let seen = b.find(ws.clone(), None).await.unwrap().unwrap();
    assert_eq!(seen.bot.unwrap().grant.token.expose_secret(), "xoxb-shared");
    assert_eq!(other.find(ws.clone(), None).await.unwrap(), None);
    // An id with the separator cannot reach another workspace's hash.
    let tricky = Workspace { enterprise_id: Some("E1:T1".into()), team_id: None };
    assert_eq!(a.find(tricky, None).await.unwrap(), None);
    assert!(!format!("{a:?}").contains("xoxb"));
}

#[tokio::test]
async fn a_redis_that_is_down_is_a_typed_error() {
    let mut redis = RedisServer::start().unwrap();
    let store = RedisInstallationStore::new(&FleetConfig::new(redis.url(), "down")).unwrap();
    redis.kill();
    let ws = Workspace { enterprise_id: None, team_id: Some("T1".into()) };
    assert!(matches!(store.find(ws, None).await, Err(StoreError::Backend(_))));
}

#[tokio::test]
async fn redis_leases_keep_the_contract_across_two_instances() {
    let redis = RedisServer::start().unwrap();
    let a = RedisInstallationStore::new(&FleetConfig::new(redis.url(), "lease")).unwrap();
    let b = RedisInstallationStore::new(&FleetConfig::new(redis.url(), "lease")).unwrap();
    lease_contract(&a, &b).await;
}

#[tokio::test]
async fn two_redis_clients_share_the_single_use_state_ledger() {
    let redis = RedisServer::start().unwrap();
    let a = RedisInstallationStore::new(&FleetConfig::new(redis.url(), "states")).unwrap();
    let b = RedisInstallationStore::new(&FleetConfig::new(redis.url(), "states")).unwrap();
    state_ledger_contract(&a, &b).await;
}
