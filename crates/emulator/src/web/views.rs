//! `views.open` and `views.push` (each needs a fresh, unused `trigger_id`), `views.update` (by
//! `view_id` or `external_id`, `hash` checked), and the per-user stack of modals they build.
//! The stack is also changed by a submission's `response_action` ([`crate::interact`]).

use super::handle::OpenedView;
use super::store::MAX_STACK;
use super::{Args, Outcome};
use crate::Shared;
use crate::shared::State;
use crate::workspace::{random_alnum, random_u64};
use serde_json::{Value, json};
use slack_rtm_types::UserId;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn new_hash() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("{secs}.{}", random_u64() % 1_000_000_000)
}

/// A view as given by an app: a `modal` with a `title`.
pub(crate) fn check_modal(view: Value) -> Result<Value, &'static str> {
    if view.get("type").and_then(Value::as_str) != Some("modal") || view.get("title").is_none() {
        return Err("invalid_arguments");
    }
    Ok(view)
}

fn modal_arg(args: &Args) -> Result<Value, &'static str> {
    check_modal(args.json("view").map_err(|()| "invalid_arguments")?.ok_or("invalid_arguments")?)
}

/// The view as Slack shows it (in API answers and in interaction payloads): what the app
/// sent plus the server's fields.
pub(crate) fn render_view(st: &State, bot: &UserId, v: &OpenedView) -> Value {
    let mut view = v.view.clone();
    view["id"] = json!(v.id);
    view["team_id"] = json!(st.ws.team.id);
    view["hash"] = json!(v.hash);
    view["root_view_id"] = json!(v.root_view_id);
    view["previous_view_id"] = json!(v.previous_view_id);
    view["state"] = json!({"values": v.state_values});
    view["bot_id"] = json!(bot);
    view["app_id"] = json!(st.sm.app_id);
    for (key, default) in [("private_metadata", ""), ("callback_id", ""), ("external_id", "")] {
        if view.get(key).is_none() {
            view[key] = json!(default);
        }
    }
    for key in ["clear_on_close", "notify_on_close"] {
        if view.get(key).is_none() {
            view[key] = json!(false);
        }
    }
    view
}

/// A new view record, on top of `previous` (or a new root).
pub(crate) fn new_view(
    user: UserId,
    trigger_id: String,
    view: Value,
    previous: Option<&OpenedView>,
) -> OpenedView {
    let id = format!("V{}", random_alnum(10).to_ascii_uppercase());
    OpenedView {
        root_view_id: previous.map_or_else(|| id.clone(), |p| p.root_view_id.clone()),
        previous_view_id: previous.map(|p| p.id.clone()),
        id,
        user,
        trigger_id,
        view,
        hash: new_hash(),
        updates: 0,
        closed: false,
        errors: None,
        state_values: json!({}),
    }
}

/// Pushes `view` on `user`'s stack: `push_limit_reached` past Slack's three modals.
pub(crate) fn push_view(
    st: &mut State,
    user: &UserId,
    trigger_id: String,
    view: Value,
) -> Result<OpenedView, &'static str> {
    let stack = st.web.stacks.get(user).cloned().unwrap_or_default();
    if stack.len() >= MAX_STACK {
        return Err("push_limit_reached");
    }
    let top = stack.last().and_then(|id| st.web.views.iter().rev().find(|v| &v.id == id)).cloned();
    let pushed = new_view(user.clone(), trigger_id, view, top.as_ref());
    st.web.add_view(pushed.clone());
    st.web.stacks.entry(user.clone()).or_default().push(pushed.id.clone());
    Ok(pushed)
}

/// Replaces an open view's content (a new hash; shown errors cleared).
pub(crate) fn replace_view(st: &mut State, view_id: &str, view: Value) -> Option<OpenedView> {
    let v = st.web.view_mut(view_id).filter(|v| !v.closed)?;
    v.view = view;
    v.hash = new_hash();
    v.updates += 1;
    v.errors = None;
    Some(v.clone())
}

pub(super) fn open(shared: &Shared, caller: &UserId, args: &Args) -> Outcome {
    let trigger_id = args.str("trigger_id").ok_or("invalid_trigger_id")?;
    let view = modal_arg(args)?;
    let mut st = shared.lock();
    let user = st.web.take_trigger(&trigger_id, Instant::now())?.unwrap_or_else(|| caller.clone());
    // A new root: whatever the user had open is replaced.
    st.web.close_all(&user);
    let opened = push_view(&mut st, &user, trigger_id, view)?;
    Ok(json!({"view": render_view(&st, &shared.bot.user, &opened)}))
}

/// `views.push`: on top of the user's open modal (`not_found` when none is open).
pub(super) fn push(shared: &Shared, caller: &UserId, args: &Args) -> Outcome {
    let trigger_id = args.str("trigger_id").ok_or("invalid_trigger_id")?;
    let view = modal_arg(args)?;
    let mut st = shared.lock();
    let user = st.web.take_trigger(&trigger_id, Instant::now())?.unwrap_or_else(|| caller.clone());
    if st.web.stacks.get(&user).is_none_or(Vec::is_empty) {
        return Err("not_found");
    }
    let pushed = push_view(&mut st, &user, trigger_id, view)?;
    Ok(json!({"view": render_view(&st, &shared.bot.user, &pushed)}))
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
        .iter()
        .rev()
        .find(|v| {
            !v.closed
                && (view_id.as_deref() == Some(v.id.as_str())
                    || external_id
                        .as_deref()
                        .is_some_and(|e| v.view.get("external_id").and_then(Value::as_str) == Some(e)))
        })
        .ok_or("not_found")?;
    if hash.as_ref().is_some_and(|h| *h != stored.hash) {
        return Err("hash_conflict");
    }
    let id = stored.id.clone();
    let updated = replace_view(&mut st, &id, view).ok_or("not_found")?;
    Ok(json!({"view": render_view(&st, &shared.bot.user, &updated)}))
}
