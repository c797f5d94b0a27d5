//! `slack-rtm installations list|show|delete` on a real SQLite file and a real Redis: tokens
//! are never printed.

use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{FleetConfig, RedisInstallationStore};
use slack_rtm_oauth::testing::installation;
use slack_rtm_oauth::{InstallationStore, SqliteInstallationStore};
use std::process::Command;

fn cli<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_slack-rtm"))
        .args(args)
        .env_remove("SLACK_RTM_STORE")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn fill(store: &dyn InstallationStore) {
    store
        .save(installation(None, Some("T1"), Some("xoxb-secret-t1"), Some(("U1", Some("xoxp-secret-u1")))))
        .await
        .unwrap();
    store.save(installation(Some("E1"), None, Some("xoxb-secret-org"), None)).await.unwrap();
}

fn check(store_url: &'static str, extra: &[&str]) {
    let with = |args: &[&'static str]| -> Vec<String> {
        args.iter().chain(extra).map(|s| (*s).to_owned()).collect()
    };
    let (code, out, err) = cli(&with(&["installations", "list", "--store", store_url]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "T1's bot row, U1's row, the org's row:\n{out}");
    assert!(out.contains("T1") && out.contains("(org-wide)") && out.contains("E1"), "{out}");
    let (code, json, _) = cli(&with(&["installations", "list", "--json", "--store", store_url]));
    assert_eq!(code, 0);
    for line in json.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["bot"]["token"], "xoxb-…(redacted)");
    }
    let (code, shown, _) =
        cli(&with(&["installations", "show", "--store", store_url, "--team", "T1", "--user", "U1"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(
        (v["team_id"].as_str(), v["user"]["grant"]["token"].as_str()),
        (Some("T1"), Some("xoxp-…(redacted)"))
    );
    for printed in [&out, &json, &shown] {
        assert!(!printed.contains("secret"), "a token was printed: {printed}");
    }
    let (code, _, err) = cli(&with(&["installations", "delete", "--store", store_url, "--team", "T1"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("deleted 2"), "{err}");
    let (code, _, _) = cli(&with(&["installations", "show", "--store", store_url, "--team", "T1"]));
    assert_eq!(code, 1, "gone");
    let (code, _, err) = cli(&with(&["installations", "show", "--store", store_url]));
    assert_eq!(code, 2, "no workspace given: {err}");
}

#[tokio::test]
async fn installations_in_a_sqlite_file_are_listed_shown_and_deleted_tokens_redacted() {
    let dir = std::env::temp_dir().join(format!("slack-rtm-cli-installs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("installs.db");
    fill(&SqliteInstallationStore::open(&path).unwrap()).await;
    let url: &'static str = Box::leak(format!("sqlite:{}", path.display()).into_boxed_str());
    tokio::task::spawn_blocking(move || check(url, &[])).await.unwrap();
    let (code, _, err) = cli(&["installations", "list", "--store", "postgres://x"]);
    assert_eq!(code, 2, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn installations_in_redis_are_listed_shown_and_deleted_tokens_redacted() {
    let redis = RedisServer::start().unwrap();
    fill(&RedisInstallationStore::new(&FleetConfig::new(redis.url(), "myapp")).unwrap()).await;
    let url: &'static str = Box::leak(redis.url().into_boxed_str());
    tokio::task::spawn_blocking(move || check(url, &["--app", "myapp"])).await.unwrap();
}
