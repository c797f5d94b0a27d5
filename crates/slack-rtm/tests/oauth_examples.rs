//! The examples serving the install flow, run as processes against the emulator:
//! `multi_workspace` and the contract example `app` (`--http … --store sqlite:PATH` with
//! `SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET`, `SLACK_SCOPES` and no bot token).

mod example_process;
mod oauth_support;

use example_process::{example, spawn_first_line};
use oauth_support::*;
use slack_rtm_emulator::Emulator;
use slack_rtm_oauth::{InstallationStore, SqliteInstallationStore, Workspace};

/// Starts the example over HTTP with the install flow; returns it and its Request URL.
async fn run(name: &str, emu: &Emulator, db: &std::path::Path) -> (tokio::process::Child, String) {
    spawn_first_line(
        tokio::process::Command::new(example(name))
            .args(["--http", "127.0.0.1:0", "--store", &format!("sqlite:{}", db.display())])
            .env("SLACK_SIGNING_SECRET", SECRET)
            .env("SLACK_CLIENT_ID", emu.oauth_client_id())
            .env("SLACK_CLIENT_SECRET", emu.oauth_client_secret())
            .env("SLACK_SCOPES", "chat:write,channels:history")
            .env("SLACK_API_URL", emu.api_url())
            .env_remove("SLACK_BOT_TOKEN")
            .env_remove("SLACK_APP_TOKEN")
            .env_remove("SLACK_REDIRECT_URI"),
    )
    .await
}

/// Installs into two workspaces through the example, sends `message` from each and checks
/// each answer used that workspace's token.
async fn two_workspaces(name: &str, message: &str) {
    let emu = emulator().await;
    let infos = [emu.add_workspace("T0AAAA001", "Alpha"), emu.add_workspace("T0BBBB002", "Beta")];
    let d = dir(name);
    let db = d.join("installs.db");
    let (_child, url) = run(name, &emu, &db).await;
    assert!(url.ends_with("/slack/events"), "{url}");
    let (addr, _) = split(&url);
    emu.set_request_url(Some(&url)).await.unwrap();
    for info in &infos {
        let page = install(&emu, addr, info.team_id.as_str()).await;
        assert_eq!(page.status, 200, "{}", page.text());
    }
    let store = SqliteInstallationStore::open(&db).unwrap();
    for info in &infos {
        let ws = Workspace { enterprise_id: None, team_id: Some(info.team_id.clone()) };
        let row = store.find(ws, None).await.unwrap().expect("installed");
        let token = row.bot.unwrap().grant.token.expose_secret().to_owned();
        let before = emu.oauth().token_uses().iter().filter(|u| u.method == "chat.postMessage").count();
        emu.in_team(info.team_id.as_str()).user(&info.installer).say(&info.general_channel, message).unwrap();
        until("an answer", || {
            emu.oauth().token_uses().iter().filter(|u| u.method == "chat.postMessage").count() > before
        })
        .await;
        let uses = emu.oauth().token_uses();
        let last = uses.iter().rev().find(|u| u.method == "chat.postMessage").unwrap();
        assert!(last.is_token(&token), "{}: its own token ({last:?})", info.team_id);
        assert_eq!(last.error, None);
    }
    // A forged state is refused by the example too, and nothing more is stored.
    let started = start_install(addr).await;
    let page =
        get(addr, "/slack/oauth_redirect?code=x&state=v1.1.forgedforgedforged.tag", Some(&started.cookie))
            .await;
    assert!(page.text().contains("state_forged"), "{}", page.text());
    assert_eq!(store.list().await.unwrap().len(), 4);
}

#[tokio::test]
async fn the_multi_workspace_example_installs_and_answers_each_workspace_with_its_token() {
    two_workspaces("multi_workspace", "ping").await;
}

#[tokio::test]
async fn the_contract_example_serves_the_install_flow_with_a_sqlite_store() {
    // Its `ping` listener answers in a thread through ctx.web(): the workspace's token.
    two_workspaces("app", "ping").await;
}
