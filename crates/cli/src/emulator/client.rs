//! `slack-rtm emulator say|mention|command|click|submit|home|posted|acks`: the client of the
//! standalone emulator's control API ([`super::control`]), for a shell or a test written in
//! another language.

use crate::cli::exit;
use crate::commands::Failure;
use clap::{Args as ClapArgs, Subcommand};
use serde_json::{Value, json};
use std::io::Write;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Who acts, where, and which emulator.
#[derive(Clone, Debug, ClapArgs)]
pub struct Who {
    /// The user who acts (default: the emulator's second user, alice).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// The channel (default: general).
    #[arg(long, value_name = "CHANNEL")]
    pub channel: Option<String>,
    /// The emulator's control URL (printed by `slack-rtm emulator` as `control url`).
    #[arg(long, env = "SLACK_RTM_EMULATOR", value_name = "URL")]
    pub control: String,
}

/// Where to find the emulator, for the listing commands.
#[derive(Clone, Debug, ClapArgs)]
pub struct Control {
    /// The emulator's control URL (printed by `slack-rtm emulator` as `control url`).
    #[arg(long, env = "SLACK_RTM_EMULATOR", value_name = "URL")]
    pub control: String,
}

/// What a user of the running emulator does, or what to list. Each action prints the
/// emulator's answer as one JSON line (the envelope made, the message's ts, the trigger_id, …).
#[derive(Debug, Subcommand)]
pub enum EmulatorAction {
    /// A user says TEXT in a channel: the app gets a `message` event.
    Say {
        /// What the user says.
        text: String,
        /// Reply in the thread of this message.
        #[arg(long, value_name = "TS")]
        thread: Option<String>,
        /// Who and where.
        #[command(flatten)]
        who: Who,
    },
    /// A user mentions the bot: the app gets an `app_mention` (and a `message`).
    Mention {
        /// The rest of the message.
        #[arg(default_value = "")]
        text: String,
        /// Who and where.
        #[command(flatten)]
        who: Who,
    },
    /// A user runs a slash command, e.g. `command /deploy staging`.
    Command {
        /// The command, e.g. /deploy.
        command: String,
        /// Its text.
        #[arg(trailing_var_arg = true)]
        text: Vec<String>,
        /// Who and where.
        #[command(flatten)]
        who: Who,
    },
    /// A user clicks the button ACTION_ID (or picks --value in a select) in a message the app
    /// posted (--ts) or in a modal it opened (--view).
    Click {
        /// The element's action_id.
        action_id: String,
        /// The message's ts (in --channel).
        #[arg(long, value_name = "TS", required_unless_present = "view")]
        ts: Option<String>,
        /// The modal's view id.
        #[arg(long, value_name = "VIEW_ID")]
        view: Option<String>,
        /// Pick this value (a select, radio buttons, …) instead of clicking.
        #[arg(long)]
        value: Option<String>,
        /// Who and where.
        #[command(flatten)]
        who: Who,
    },
    /// A user submits the open modal VIEW_ID.
    Submit {
        /// The view id.
        view: String,
        /// An input: ACTION_ID=VALUE (repeatable); inputs not given are submitted empty.
        #[arg(long = "input", value_name = "ACTION_ID=VALUE")]
        inputs: Vec<String>,
        /// Who and where.
        #[command(flatten)]
        who: Who,
    },
    /// A user opens the app's Home tab: the app gets `app_home_opened`.
    Home {
        /// Who and where.
        #[command(flatten)]
        who: Who,
    },
    /// What the app's bot posted, oldest first: one JSON object per line.
    Posted {
        /// Which emulator.
        #[command(flatten)]
        control: Control,
    },
    /// The acks the app sent, oldest first: one JSON object per line.
    Acks {
        /// Which emulator.
        #[command(flatten)]
        control: Control,
    },
}

/// Runs one action against the control API.
pub async fn run(action: EmulatorAction) -> Result<u8, Failure> {
    let body = |who: &Who, mut v: Value| {
        if let Some(u) = &who.user {
            v["user"] = json!(u);
        }
        if let Some(c) = &who.channel {
            v["channel"] = json!(c);
        }
        v
    };
    let (url, method, path, request) = match &action {
        EmulatorAction::Say { text, thread, who } => {
            (&who.control, "POST", "say", body(who, json!({"text": text, "thread_ts": thread})))
        }
        EmulatorAction::Mention { text, who } => {
            (&who.control, "POST", "mention", body(who, json!({"text": text})))
        }
        EmulatorAction::Command { command, text, who } => {
            (&who.control, "POST", "command", body(who, json!({"command": command, "text": text.join(" ")})))
        }
        EmulatorAction::Click { action_id, ts, view, value, who } => (
            &who.control,
            "POST",
            "click",
            body(who, json!({"action_id": action_id, "ts": ts, "view_id": view, "value": value})),
        ),
        EmulatorAction::Submit { view, inputs, who } => {
            let mut values = serde_json::Map::new();
            for i in inputs {
                let Some((k, v)) = i.split_once('=') else {
                    return Err(Failure::usage(format!("--input {i:?} is not ACTION_ID=VALUE")));
                };
                values.insert(k.to_owned(), json!(v));
            }
            (&who.control, "POST", "submit", body(who, json!({"view_id": view, "values": values})))
        }
        EmulatorAction::Home { who } => (&who.control, "POST", "home", body(who, json!({}))),
        EmulatorAction::Posted { control } => (&control.control, "GET", "posted", Value::Null),
        EmulatorAction::Acks { control } => (&control.control, "GET", "acks", Value::Null),
    };
    let answer = call(url, method, path, &request).await?;
    if answer["ok"] != json!(true) {
        let why = answer["error"].as_str().unwrap_or("no reason given");
        return Err(Failure::other(format!("the emulator refused: {why}")));
    }
    let mut out = std::io::stdout().lock();
    let list = match path {
        "posted" => answer["messages"].as_array(),
        "acks" => answer["acks"].as_array(),
        _ => None,
    };
    match list {
        Some(items) => items.iter().for_each(|i| {
            let _ = writeln!(out, "{i}");
        }),
        None => {
            let _ = writeln!(out, "{answer}");
        }
    }
    let _ = out.flush();
    Ok(exit::OK)
}

/// One HTTP/1.1 request to the control API (plain http on this machine).
async fn call(url: &str, method: &str, path: &str, body: &Value) -> Result<Value, Failure> {
    let not_there = |e: String| Failure {
        message: format!(
            "no emulator control API at {url} ({e}): start `slack-rtm emulator` and pass the \
             `control url` it prints with --control or SLACK_RTM_EMULATOR"
        ),
        code: exit::NETWORK,
    };
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(Failure::usage(format!("the control URL must start with http:// (got {url})")));
    };
    let (host, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_end_matches('/');
    let target = if prefix.is_empty() { format!("/{path}") } else { format!("/{prefix}/{path}") };
    let mut sock = tokio::net::TcpStream::connect(host).await.map_err(|e| not_there(e.to_string()))?;
    let payload = if body.is_null() { String::new() } else { body.to_string() };
    let request = format!(
        "{method} {target} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{payload}",
        payload.len()
    );
    sock.write_all(request.as_bytes()).await.map_err(|e| not_there(e.to_string()))?;
    let mut response = Vec::new();
    // The control API's answers are small; a bound keeps a wrong server from filling memory.
    (&mut sock)
        .take(16 * 1024 * 1024)
        .read_to_end(&mut response)
        .await
        .map_err(|e| not_there(e.to_string()))?;
    let text = String::from_utf8_lossy(&response);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).map_err(|_| not_there("the answer is not the control API's JSON".into()))
}
