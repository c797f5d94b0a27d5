//! `slack-rtm installations list|show|delete --store URL`: the OAuth installations an app
//! keeps, in its SQLite file (`sqlite:PATH`) or its Redis (`redis://…`, with `--app`). Tokens,
//! refresh tokens and webhook URLs are never printed.

use crate::commands::Failure;
use clap::{Args as ClapArgs, Subcommand};
use serde_json::{Value, json};
use slack_rtm::app::oauth::{Installation, InstallationStore, Workspace};
use slack_rtm::types::oauth::Grant;
use slack_rtm_fleet::{FleetConfig, RedisInstallationStore};
use slack_rtm_oauth::SqliteInstallationStore;

/// Where the installations are.
#[derive(Clone, Debug, ClapArgs)]
pub struct StoreOpts {
    /// The store: sqlite:PATH (one file) or redis://[user:password@]host[:port][/db] (its
    /// password is never printed).
    #[arg(long, env = "SLACK_RTM_STORE", hide_env_values = true, value_name = "URL")]
    pub store: String,
    /// With a Redis store: the app's name (its keys are slack-rtm:{NAME}:installations…).
    #[arg(long, default_value = "app", value_name = "NAME")]
    pub app: String,
}

/// Which workspace (or org).
#[derive(Clone, Debug, ClapArgs)]
pub struct Which {
    /// The workspace (T…); leave it out for an org-wide install.
    #[arg(long, value_name = "TEAM")]
    pub team: Option<String>,
    /// The Enterprise Grid org (E…), if any.
    #[arg(long, value_name = "ENTERPRISE")]
    pub enterprise: Option<String>,
    /// A user's own installation (their user token) instead of the workspace's.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
}

/// The installation commands.
#[derive(Debug, Subcommand)]
pub enum InstallationsCommand {
    /// Every installation row (each workspace's bot row and each installing user's row).
    List {
        /// The store.
        #[command(flatten)]
        store: StoreOpts,
        /// One JSON object per line (NDJSON).
        #[arg(long)]
        json: bool,
    },
    /// One workspace's installation (or a user's), tokens redacted.
    Show {
        /// The store.
        #[command(flatten)]
        store: StoreOpts,
        /// Which one.
        #[command(flatten)]
        which: Which,
    },
    /// Delete a workspace's installations (or one user's row), as an uninstall would.
    Delete {
        /// The store.
        #[command(flatten)]
        store: StoreOpts,
        /// Which one.
        #[command(flatten)]
        which: Which,
    },
}

/// `--store` on `http tail`: optional there (each request's workspace looked up in it).
#[derive(Clone, Debug, ClapArgs)]
pub struct TailStoreOpts {
    /// Look each request's workspace up in this installation store (sqlite:PATH or
    /// redis://…): its line says whether it is installed, and --exec commands get its bot
    /// token in SLACK_BOT_TOKEN.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// With a Redis store: the app's name (its keys are slack-rtm:{NAME}:installations…).
    #[arg(long, default_value = "app", value_name = "NAME", requires = "store")]
    pub app: String,
}

impl TailStoreOpts {
    /// The store, when one was given.
    pub fn open(&self) -> Result<Option<Box<dyn InstallationStore>>, Failure> {
        self.store.as_deref().map(|url| open_url(url, &self.app)).transpose()
    }
}

fn open(opts: &StoreOpts) -> Result<Box<dyn InstallationStore>, Failure> {
    open_url(&opts.store, &opts.app)
}

fn open_url(url: &str, app: &str) -> Result<Box<dyn InstallationStore>, Failure> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let store = SqliteInstallationStore::open(path)
            .map_err(|e| Failure::other(format!("cannot open the SQLite store {path}: {e}")))?;
        return Ok(Box::new(store));
    }
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        let store = RedisInstallationStore::new(&FleetConfig::new(url.to_owned(), app))
            .map_err(|e| Failure::usage(format!("bad Redis store: {e}")))?;
        return Ok(Box::new(store));
    }
    Err(Failure::usage("--store must be sqlite:PATH or redis://…"))
}

fn workspace(which: &Which) -> Result<Workspace, Failure> {
    if which.team.is_none() && which.enterprise.is_none() {
        return Err(Failure::usage(
            "give --team (and --enterprise for a workspace of an org), or --enterprise alone",
        ));
    }
    Ok(Workspace {
        enterprise_id: which.enterprise.as_deref().map(Into::into),
        team_id: which.team.as_deref().map(Into::into),
    })
}

/// A token shown as its kind only (`xoxb-…`).
fn redacted(grant: &Grant) -> Value {
    let token = grant.token.expose_secret();
    let kind = token.split('-').next().unwrap_or("?");
    json!({
        "token": format!("{kind}-…(redacted)"),
        "scopes": grant.scopes,
        "expires_at": grant.expires_at,
        "rotating": grant.refresh_token.is_some(),
    })
}

/// An installation as JSON without a secret.
pub fn describe(i: &Installation) -> Value {
    json!({
        "enterprise_id": i.enterprise_id.as_ref().map(|e| e.as_str()),
        "enterprise_name": i.enterprise_name,
        "team_id": i.team_id.as_ref().map(|t| t.as_str()),
        "team_name": i.team_name,
        "is_enterprise_install": i.is_enterprise_install,
        "app_id": i.app_id,
        "bot": i.bot.as_ref().map(|b| {
            let mut v = redacted(&b.grant);
            v["user_id"] = json!(b.user_id.as_str());
            v["bot_id"] = json!(b.bot_id.as_ref().map(|x| x.as_str()));
            v
        }),
        "user": i.user.as_ref().map(|u| json!({
            "user_id": u.user_id.as_str(),
            "grant": u.grant.as_ref().map(redacted),
        })),
        "incoming_webhook_channel": i.incoming_webhook.as_ref().and_then(|w| w.channel.clone()),
        "installed_at": i.installed_at,
    })
}

fn line(i: &Installation) -> String {
    let org = i.enterprise_id.as_ref().map_or("-", |e| e.as_str());
    let team = i.team_id.as_ref().map_or("(org-wide)", |t| t.as_str());
    let name = i.team_name.as_deref().or(i.enterprise_name.as_deref()).unwrap_or("");
    let bot = i.bot.as_ref().map_or("-".to_owned(), |b| {
        let rot = if b.grant.refresh_token.is_some() { " rotating" } else { "" };
        format!("bot {}{rot}", b.user_id)
    });
    let user = i.user.as_ref().map_or("-".to_owned(), |u| {
        format!("user {}{}", u.user_id, if u.grant.is_some() { " (token)" } else { "" })
    });
    format!("{org}\t{team}\t{name}\t{bot}\t{user}")
}

/// Runs an installations command.
pub async fn run(command: InstallationsCommand) -> Result<u8, Failure> {
    let fail = |e: slack_rtm::app::oauth::StoreError| Failure::other(e.to_string());
    match command {
        InstallationsCommand::List { store, json } => {
            for i in open(&store)?.list().await.map_err(fail)? {
                if json {
                    println!("{}", describe(&i));
                } else {
                    println!("{}", line(&i));
                }
            }
        }
        InstallationsCommand::Show { store, which } => {
            let ws = workspace(&which)?;
            let user = which.user.as_deref().map(Into::into);
            match open(&store)?.find(ws, user).await.map_err(fail)? {
                Some(i) => println!("{}", serde_json::to_string_pretty(&describe(&i)).unwrap_or_default()),
                None => return Err(Failure::other("no such installation")),
            }
        }
        InstallationsCommand::Delete { store, which } => {
            let ws = workspace(&which)?;
            let user = which.user.as_deref().map(Into::into);
            let n = open(&store)?.delete(ws, user).await.map_err(fail)?;
            eprintln!("deleted {n} installation row(s)");
        }
    }
    Ok(crate::cli::exit::OK)
}
