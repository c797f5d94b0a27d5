//! `--actions`: the actor API from the command line. Each line on stdin is one JSON action;
//! each answer is one JSON line on stdout, `ACTION {"ok":true,…}` or
//! `ACTION {"ok":false,"error":"…"}`, so scripts in any language can act as users and read
//! what the app did.
//!
//! ```text
//! {"do":"say","channel":"general","text":"ping"}                 → {"ok":true,"seq":3,"ts":"…"}
//! {"do":"mention","channel":"general","text":"hi"}
//! {"do":"say","channel":"general","thread_ts":"…","text":"in thread"}
//! {"do":"command","channel":"general","command":"/echo","text":"hi"}
//! {"do":"click","channel":"general","ts":"…","action_id":"approve"}    (or "view_id" instead)
//! {"do":"select","view_id":"V…","action_id":"pick","value":"apple"}
//! {"do":"type","channel":"general","ts":"…","action_id":"pick","value":"ap"}
//! {"do":"shortcut","callback_id":"open_form"}
//! {"do":"message_shortcut","channel":"general","ts":"…","callback_id":"save"}
//! {"do":"submit","view_id":"V…","values":{"value":"Ada"}}
//! {"do":"close","view_id":"V…"}
//! {"do":"home","tab":"home"}
//! {"do":"wait_ack","seq":3,"timeout_ms":3000}                         → {"ok":true,"payload":…}
//! {"do":"views"}                                                      → the user's open modals
//! ```
//!
//! Every action is done as `"user"` (a name or an id; default `alice`); `"channel"` is a name
//! or an id. The workspace and OAuth actions (`add_workspace`, `add_org`, `approve_next`,
//! `deny_next`, `uninstall`, `token_lifetime`, `code_lifetime`) are in `bin_oauth.rs`.

use serde_json::{Value, json};
use slack_rtm_emulator::{ActError, Emulator, Sent, Surface};
use slack_rtm_types::{ChannelId, Ts, UserId};
use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

/// Reads actions from stdin until it closes, answering each on stdout.
pub(crate) async fn run(emu: Arc<Emulator>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(64);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { return };
            if tx.blocking_send(line).is_err() {
                return;
            }
        }
    });
    while let Some(line) = rx.recv().await {
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Ok(action) => act(&emu, &action).await.unwrap_or_else(|e| json!({"ok": false, "error": e})),
            Err(e) => json!({"ok": false, "error": format!("not JSON: {e}")}),
        };
        println!("ACTION {answer}");
    }
}

fn sent(s: Sent) -> Value {
    json!({"ok": true, "seq": s.seq, "envelopes": s.envelopes, "channel": s.channel, "ts": s.ts,
           "trigger_id": s.trigger_id, "response_url": s.response_url, "view_id": s.view_id})
}

fn text<'a>(a: &'a Value, key: &str) -> Result<&'a str, String> {
    a[key].as_str().ok_or_else(|| format!("missing \"{key}\""))
}

fn user(emu: &Emulator, a: &Value) -> UserId {
    let wanted = a["user"].as_str().unwrap_or("alice");
    emu.users()
        .into_iter()
        .find(|u| u.name == wanted || u.id.as_str() == wanted)
        .map_or_else(|| UserId::new(wanted), |u| u.id)
}

fn channel(emu: &Emulator, a: &Value) -> Result<ChannelId, String> {
    let wanted = text(a, "channel")?;
    let found = emu.channels().into_iter().find(|c| c.name == wanted || c.id.as_str() == wanted);
    found.map(|c| c.id).ok_or_else(|| format!("no channel {wanted:?}"))
}

fn surface(emu: &Emulator, a: &Value) -> Result<Surface, String> {
    match a["view_id"].as_str() {
        Some(id) => Ok(Surface::view(id)),
        None => Ok(Surface::message(&channel(emu, a)?, &Ts::new(text(a, "ts")?))),
    }
}

fn acted(r: Result<Sent, ActError>) -> Result<Value, String> {
    r.map(sent).map_err(|e| e.to_string())
}

async fn act(emu: &Emulator, a: &Value) -> Result<Value, String> {
    let what = text(a, "do")?;
    if let Some(answer) = crate::bin_oauth::act(emu, what, a) {
        return answer;
    }
    let actor = emu.user(&user(emu, a));
    match what {
        "say" => match a["thread_ts"].as_str() {
            Some(t) => acted(actor.say_in_thread(&channel(emu, a)?, &Ts::new(t), text(a, "text")?)),
            None => acted(actor.say(&channel(emu, a)?, text(a, "text")?)),
        },
        "mention" => acted(actor.mention_bot(&channel(emu, a)?, text(a, "text")?)),
        "command" => Ok(sent(actor.run_command(
            &channel(emu, a)?,
            text(a, "command")?,
            a["text"].as_str().unwrap_or(""),
        ))),
        "click" => acted(actor.click(&surface(emu, a)?, text(a, "action_id")?)),
        "select" => acted(actor.select(&surface(emu, a)?, text(a, "action_id")?, text(a, "value")?)),
        "type" => acted(actor.type_in_select(&surface(emu, a)?, text(a, "action_id")?, text(a, "value")?)),
        "shortcut" => Ok(sent(actor.global_shortcut(text(a, "callback_id")?))),
        "message_shortcut" => {
            let (ch, ts) = (channel(emu, a)?, Ts::new(text(a, "ts")?));
            acted(actor.message_shortcut(&ch, &ts, text(a, "callback_id")?))
        }
        "submit" => {
            let values: Vec<(String, String)> = a["values"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect();
            let inputs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            acted(actor.submit_view(text(a, "view_id")?, &inputs))
        }
        "close" => match actor.close_view(text(a, "view_id")?) {
            Ok(Some(s)) => Ok(sent(s)),
            Ok(None) => Ok(json!({"ok": true, "notified": false})),
            Err(e) => Err(e.to_string()),
        },
        "home" => Ok(sent(actor.open_home(a["tab"].as_str().unwrap_or("home")))),
        "wait_ack" => {
            let seq = a["seq"].as_u64().ok_or("missing \"seq\"")?;
            let timeout = Duration::from_millis(a["timeout_ms"].as_u64().unwrap_or(3000));
            let ack = emu.wait_for_ack(seq, timeout).await.map_err(|e| e.to_string())?;
            Ok(json!({"ok": true, "payload": ack.payload, "late": ack.late}))
        }
        "views" => {
            let views: Vec<Value> = emu
                .open_views(actor.id())
                .into_iter()
                .map(|v| json!({"id": v.id, "view": v.view, "errors": v.errors, "hash": v.hash}))
                .collect();
            Ok(json!({"ok": true, "views": views}))
        }
        other => Err(format!("unknown action {other:?}")),
    }
}
