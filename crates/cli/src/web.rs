//! The Web API commands: `api`, `history`, and `send --blocks`.

use crate::cli::{ConnOpts, exit};
use crate::commands::{Failure, builder};
use serde_json::{Map, Value};
use slack_rtm::ErrorKind;
use slack_rtm::WebClient;
use slack_rtm::types::blocks::{Blocks, Surface};
use slack_rtm::types::web::HistoryQuery;
use std::io::{IsTerminal, Read, Write};

pub(crate) fn web_client(conn: &ConnOpts) -> Result<WebClient, Failure> {
    Ok(builder(conn)?.build_web()?)
}

/// The start-up check of the commands that read their input (stdin, a file) before their first
/// call: the token is tried with `auth.test` first, so a refused token is reported at once, in
/// words, with exit 3 — not after a line was typed or the input was read. (The other commands
/// need no extra call: their first call is made at start-up, and a refused token stops them
/// there.)
pub(crate) async fn checked_web_client(conn: &ConnOpts) -> Result<WebClient, Failure> {
    let web = web_client(conn)?;
    match web.auth_test().await {
        Ok(_) => Ok(web),
        Err(e) if e.kind() == ErrorKind::Auth => {
            let mut failure = Failure::from(e);
            failure.message =
                format!("the token was refused at start-up (nothing was read or sent): {}", failure.message);
            Err(failure)
        }
        Err(e) => Err(e.into()),
    }
}

/// Parses `key=value` arguments (values stay strings).
fn parse_pairs(pairs: &[String]) -> Result<Map<String, Value>, Failure> {
    let mut map = Map::new();
    for p in pairs {
        let Some((k, v)) = p.split_once('=') else {
            return Err(Failure::usage(format!("argument {p:?} is not KEY=VALUE")));
        };
        if k.is_empty() {
            return Err(Failure::usage(format!("argument {p:?} has an empty key")));
        }
        if k == "token" {
            return Err(Failure::usage(
                "pass the token with SLACK_BOT_TOKEN or --token-file, not as an argument",
            ));
        }
        map.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    Ok(map)
}

fn print_json(value: &Value) {
    let text = if std::io::stdout().is_terminal() {
        serde_json::to_string_pretty(value).unwrap_or_default()
    } else {
        value.to_string()
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// `slack-rtm api METHOD key=value … [--json BODY]`.
pub async fn api(
    conn: ConnOpts,
    method: String,
    args: Vec<String>,
    json: Option<String>,
) -> Result<u8, Failure> {
    let pairs = parse_pairs(&args)?;
    let web = web_client(&conn)?;
    let answer = match json {
        Some(body) => {
            let mut map = match serde_json::from_str::<Value>(&body) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(Failure::usage("--json must be a JSON object")),
                Err(e) => return Err(Failure::usage(format!("--json is not valid JSON: {e}"))),
            };
            map.extend(pairs);
            web.call_json(&method, map).await?
        }
        None => web.call(&method, Value::Object(pairs)).await?,
    };
    for w in &answer.warnings {
        eprintln!("slack-rtm: warning: {w}");
    }
    print_json(&answer.value);
    Ok(exit::OK)
}

/// Reads `--blocks FILE|-`: an array of blocks, or an object with `blocks`.
fn read_blocks(source: &str) -> Result<Value, Failure> {
    let text = if source == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::usage(format!("cannot read blocks from stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(source).map_err(|e| Failure::usage(format!("cannot read {source}: {e}")))?
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Failure::usage(format!("the blocks are not valid JSON: {e}")))?;
    let blocks = match value {
        Value::Object(mut m) => m.remove("blocks").unwrap_or(Value::Null),
        other => other,
    };
    match blocks {
        Value::Array(list) if !list.is_empty() => Ok(Value::Array(list)),
        _ => Err(Failure::usage("--blocks needs a non-empty JSON array of blocks (or {\"blocks\": [...]})")),
    }
}

/// A notification fallback from the blocks' texts, when no --text is given.
fn fallback_text(blocks: &Value) -> String {
    let mut parts = Vec::new();
    for b in blocks.as_array().into_iter().flatten() {
        if let Some(t) = b.get("text").and_then(|t| t.get("text")).and_then(Value::as_str) {
            parts.push(t.to_owned());
        }
    }
    if parts.is_empty() { "(message with blocks)".to_owned() } else { parts.join(" ") }
}

/// `slack-rtm send --blocks FILE|- [--text FALLBACK] [--thread TS]`: one `chat.postMessage`.
pub async fn send_blocks(
    conn: ConnOpts,
    channel: String,
    text: Option<String>,
    thread: Option<String>,
    blocks: String,
) -> Result<u8, Failure> {
    if channel.trim().is_empty() {
        return Err(Failure::usage("--channel must not be empty"));
    }
    let web = checked_web_client(&conn).await?;
    let blocks = read_blocks(&blocks)?;
    // Slack's Block Kit limits, before any network call.
    Blocks::Raw(blocks.clone())
        .validate(Surface::Message)
        .map_err(|e| Failure::usage(format!("invalid blocks: {e}")))?;
    let fallback = text.unwrap_or_else(|| fallback_text(&blocks));
    let mut call = web.post_message(channel.as_str(), fallback).blocks(blocks);
    if let Some(ts) = thread {
        call = call.in_thread(ts.as_str());
    }
    match call.await {
        Ok(posted) => {
            println!("{}", posted.ts);
            Ok(exit::OK)
        }
        Err(e) if e.may_have_been_applied() => {
            eprintln!("slack-rtm: message not acknowledged: {e} (it may have been posted)");
            Ok(exit::NOT_ALL_SENT)
        }
        Err(e) => Err(e.into()),
    }
}

/// `slack-rtm history --channel C [--since TS] [--limit N] [--json]`.
pub async fn history(
    conn: ConnOpts,
    channel: String,
    since: Option<String>,
    limit: usize,
    json: bool,
) -> Result<u8, Failure> {
    if channel.trim().is_empty() {
        return Err(Failure::usage("--channel must not be empty"));
    }
    if limit == 0 || limit > 100_000 {
        return Err(Failure::usage("--limit must be between 1 and 100000"));
    }
    let web = web_client(&conn)?;
    let mut query = HistoryQuery::new(channel.as_str());
    query.oldest = since.map(Into::into);
    query.limit = Some(limit.min(200) as u32);
    let mut messages = web.history(query).collect_messages(limit).await?;
    messages.reverse();
    let color = crate::output::use_color(std::io::stdout().is_terminal());
    let mut out = std::io::stdout().lock();
    for mut m in messages {
        m.channel.get_or_insert_with(|| channel.as_str().into());
        let line = if json {
            serde_json::to_string(&m).unwrap_or_default()
        } else {
            crate::output::human_line(&slack_rtm::rtm::Event::Message(Box::new(m)), color)
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    Ok(exit::OK)
}
