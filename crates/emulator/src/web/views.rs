//! `views.open` (needs a fresh, unused `trigger_id`) and `views.update` (`hash` checked).

use super::handle::OpenedView;
use super::{Args, Outcome};
use crate::Shared;
use crate::workspace::{random_alnum, random_u64};
use serde_json::{Value, json};
use slack_rtm_types::UserId;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn new_hash() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("{secs}.{}", random_u64() % 1_000_000_000)
}

fn modal_arg(args: &Args) -> Result<Value, &'static str> {
    let view = args.json("view").map_err(|()| "invalid_arguments")?.ok_or("invalid_arguments")?;
    if view.get("type").and_then(Value::as_str) != Some("modal") || view.get("title").is_none() {
        return Err("invalid_arguments");
    }
    Ok(view)
}

/// The view as Slack returns it: what the app sent plus the server's fields.
fn shown(shared: &Shared, v: &OpenedView) -> Value {
    let mut view = v.view.clone();
    let team = shared.lock().ws.team.id.clone();
    view["id"] = json!(v.id);
    view["team_id"] = json!(team);
    view["hash"] = json!(v.hash);
    view["root_view_id"] = json!(v.id);
    view["state"] = json!({"values": {}});
    view["bot_id"] = json!(shared.bot.user);
    json!({"view": view})
}

pub(super) fn open(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let trigger_id = args.str("trigger_id").ok_or("invalid_trigger_id")?;
    let view = modal_arg(args)?;
    let mut st = shared.lock();
    let trigger = st.web.triggers.get_mut(&trigger_id).ok_or("invalid_trigger_id")?;
    if trigger.used {
        return Err("exchanged_trigger_id");
    }
    if trigger.expires <= Instant::now() {
        return Err("expired_trigger_id");
    }
    trigger.used = true;
    let opened = OpenedView {
        id: format!("V{}", random_alnum(10).to_ascii_uppercase()),
        user: user.clone(),
        trigger_id,
        view,
        hash: new_hash(),
        updates: 0,
    };
    st.web.add_view(opened.clone());
    drop(st);
    Ok(shown(shared, &opened))
}

pub(super) fn update(shared: &Shared, args: &Args) -> Outcome {
    let view_id = args.str("view_id");
    let external_id = args.str("external_id");
    if view_id.is_none() && external_id.is_none() {
        return Err("invalid_arguments");
    }
    let view = modal_arg(args)?;
    let hash = args.str("hash");
    let mut st = shared.lock();
    let stored = st
        .web
        .views
        .iter_mut()
        .rev()
        .find(|v| {
            view_id.as_deref() == Some(v.id.as_str())
                || external_id
                    .as_deref()
                    .is_some_and(|e| v.view.get("external_id").and_then(Value::as_str) == Some(e))
        })
        .ok_or("not_found")?;
    if hash.as_ref().is_some_and(|h| *h != stored.hash) {
        return Err("hash_conflict");
    }
    stored.view = view;
    stored.hash = new_hash();
    stored.updates += 1;
    let updated = stored.clone();
    drop(st);
    Ok(shown(shared, &updated))
}
