//! `views.publish`: a user's App Home tab (`type: "home"`), `hash` checked.

use super::{Args, Outcome};
use crate::Shared;
use crate::shared::State;
use crate::workspace::random_alnum;
use serde_json::{Value, json};
use slack_rtm_types::UserId;

/// The view as Slack returns it: what the app sent plus the server's fields.
pub(super) fn shown(st: &State, id: &str, hash: &str, view: &Value) -> Value {
    let mut view = view.clone();
    view["id"] = json!(id);
    view["team_id"] = json!(st.ws.team.id);
    view["hash"] = json!(hash);
    view["root_view_id"] = json!(id);
    view["state"] = json!({"values": {}});
    view
}

pub(super) fn publish(shared: &Shared, args: &Args) -> Outcome {
    let user = UserId::new(args.str("user_id").ok_or("invalid_arguments")?);
    let view = args.json("view").map_err(|()| "invalid_arguments")?.ok_or("invalid_arguments")?;
    if view.get("type").and_then(Value::as_str) != Some("home") {
        return Err("invalid_arguments");
    }
    if view.get("blocks").and_then(Value::as_array).is_some_and(|b| b.len() > 100) {
        return Err("invalid_arguments");
    }
    let hash = args.str("hash");
    let mut st = shared.lock();
    if st.ws.user(&user).is_none() {
        return Err("user_not_found");
    }
    let previous = st.web.dir.homes.get(&user);
    if let (Some(h), Some((_, current, _))) = (&hash, previous)
        && h != current
    {
        return Err("hash_conflict");
    }
    let id = previous
        .map_or_else(|| format!("V{}", random_alnum(10).to_ascii_uppercase()), |(id, _, _)| id.clone());
    let new_hash = format!("{}.{}", st.ws.team.id, random_alnum(8));
    let answer = shown(&st, &id, &new_hash, &view);
    st.web.dir.homes.insert(user, (id, new_hash, view));
    Ok(json!({"view": answer}))
}
