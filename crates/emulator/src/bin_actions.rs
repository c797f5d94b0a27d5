//! `--actions`: the actor API from the command line. Each line on stdin is one JSON action;
//! each answer is one JSON line on stdout, `ACTION {"ok":true,…}` or
//! `ACTION {"ok":false,"error":"…"}`, so scripts in any language can act as users and read
//! what the app did. The translation is the library's ([`slack_rtm_emulator::control`], shared
//! with the `slack-rtm emulator` control API); the action's name is in `"do"`.
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
//! {"do":"posted"}                                                     → what the bot posted
//! {"do":"acks"}                                                       → what the app acked
//! ```
//!
//! Every action is done as `"user"` (a name or an id; default `alice`) in `"channel"` (a name
//! or an id; default `general`). The workspace and OAuth actions (`add_workspace`, `add_org`,
//! `approve_next`, `deny_next`, `uninstall`, `token_lifetime`, `code_lifetime`) are in
//! `bin_oauth.rs`.

use serde_json::{Value, json};
use slack_rtm_emulator::{Emulator, control};
use std::io::BufRead;
use std::sync::Arc;

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

async fn act(emu: &Emulator, a: &Value) -> Result<Value, String> {
    let what = a.get("do").and_then(Value::as_str).ok_or("missing \"do\"")?;
    if let Some(answer) = crate::bin_oauth::act(emu, what, a) {
        return answer;
    }
    match what {
        "posted" => Ok(control::posted(emu)),
        "acks" => Ok(control::acks(emu)),
        action => control::act(emu, action, a).await,
    }
}
