//! `--actions` lines for many workspaces and OAuth installs (see `bin_actions.rs`):
//!
//! ```text
//! {"do":"add_workspace","team":"T0SECOND1","name":"Second"}  → {"ok":true,"team_id":…,"general_channel":…,"installer":…,"bot_user":…}
//! {"do":"add_org","enterprise":"E0ORG0001","name":"Acme","teams":["T0A","T0B"]} → {"ok":true,"bot_user":…}
//! {"do":"approve_next","team":"T0SECOND1"}        (a `T…` workspace or, org-wide, an `E…` org)
//! {"do":"deny_next"}
//! {"do":"uninstall","team":"T0SECOND1"}          → {"ok":true,"seqs":[…]} (or an error when not installed)
//! {"do":"token_lifetime","secs":5}                (rotation on; "secs":null turns it off)
//! {"do":"code_lifetime","secs":1}
//! ```
//!
//! To act in another workspace, give a user action that workspace's user and channel by id
//! (`add_workspace` answers its `installer` and `general_channel`): events carry the user's
//! workspace.

use serde_json::{Value, json};
use slack_rtm_emulator::Emulator;
use std::time::Duration;

fn text<'a>(a: &'a Value, key: &str) -> Result<&'a str, String> {
    a[key].as_str().ok_or_else(|| format!("missing \"{key}\""))
}

fn secs(a: &Value) -> Result<Option<Duration>, String> {
    match &a["secs"] {
        Value::Null => Ok(None),
        v => v
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Some(Duration::from_secs_f64(s)))
            .ok_or_else(|| "\"secs\" must be a number of seconds".to_owned()),
    }
}

/// Answers an OAuth or workspace action; `None` when `what` is not one.
pub(crate) fn act(emu: &Emulator, what: &str, a: &Value) -> Option<Result<Value, String>> {
    let oauth = emu.oauth();
    Some((|| match what {
        "add_workspace" => {
            let w = emu.add_workspace(text(a, "team")?, a["name"].as_str().unwrap_or("Workspace"));
            Ok(json!({"ok": true, "team_id": w.team_id, "general_channel": w.general_channel,
                      "installer": w.installer, "bot_user": w.bot_user}))
        }
        "add_org" => {
            let teams: Vec<&str> = a["teams"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let o = emu.add_org(text(a, "enterprise")?, a["name"].as_str().unwrap_or("Org"), &teams);
            Ok(json!({"ok": true, "enterprise_id": o.enterprise_id, "teams": o.teams, "bot_user": o.bot_user}))
        }
        "approve_next" => {
            oauth.approve_next(text(a, "team")?);
            Ok(json!({"ok": true}))
        }
        "deny_next" => {
            oauth.deny_next();
            Ok(json!({"ok": true}))
        }
        "uninstall" => {
            let seqs = emu.uninstall(text(a, "team")?).ok_or("not_installed")?;
            Ok(json!({"ok": true, "seqs": seqs}))
        }
        "token_lifetime" => {
            oauth.set_token_lifetime(secs(a)?);
            Ok(json!({"ok": true}))
        }
        "code_lifetime" => {
            oauth.set_code_lifetime(secs(a)?.ok_or("missing \"secs\"")?);
            Ok(json!({"ok": true}))
        }
        _ => Err(String::new()),
    })())
    .filter(|r| r.as_ref().err().is_none_or(|e| !e.is_empty()))
}
