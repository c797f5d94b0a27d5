//! `users.info`, `users.list`, `users.lookupByEmail`, `team.info`, `bots.info`.

use super::conversations::paged;
use super::{Args, Outcome};
use crate::Shared;
use crate::shared::State;
use crate::workspace::UserInfo;
use serde_json::{Value, json};
use slack_rtm_types::UserId;

/// A user object as the Web API shows it.
fn render(st: &State, u: &UserInfo) -> Value {
    let mut profile =
        json!({"real_name": u.name, "display_name": u.name, "email": st.web.dir.email(&u.id, &u.name)});
    if let Some(bot) = &u.bot_id {
        profile["bot_id"] = json!(bot);
    }
    json!({
        "id": u.id, "team_id": crate::oauth::team_of_user(st, &u.id), "name": u.name, "real_name": u.name, "deleted": false,
        "is_bot": u.bot_id.is_some(), "tz": "UTC", "tz_label": "Coordinated Universal Time", "tz_offset": 0,
        "profile": profile,
    })
}

pub(super) fn info(shared: &Shared, args: &Args) -> Outcome {
    let id = args.str("user").ok_or("user_not_found")?;
    let st = shared.lock();
    let u = st.ws.user(&UserId::new(id)).ok_or("user_not_found")?;
    Ok(json!({"user": render(&st, u)}))
}

pub(super) fn list(shared: &Shared, args: &Args) -> Outcome {
    let st = shared.lock();
    let all: Vec<Value> = st.ws.users.iter().map(|u| render(&st, u)).collect();
    let (page, next) = paged(all, args)?;
    Ok(json!({"members": page, "response_metadata": {"next_cursor": next}}))
}

pub(super) fn lookup_by_email(shared: &Shared, args: &Args) -> Outcome {
    let email = args.str("email").ok_or("invalid_email")?;
    let st = shared.lock();
    let u = st
        .ws
        .users
        .iter()
        .find(|u| st.web.dir.email(&u.id, &u.name).eq_ignore_ascii_case(&email))
        .ok_or("users_not_found")?;
    Ok(json!({"user": render(&st, u)}))
}

/// The workspace of the `team` argument, else the caller's (`team_not_found` when unknown).
pub(super) fn team_info(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let st = shared.lock();
    let team = match args.str("team") {
        Some(t) => slack_rtm_types::TeamId::new(t),
        None => crate::oauth::team_of_user(&st, user),
    };
    let (id, name, domain, enterprise) = crate::oauth::team_named(&st, &team).ok_or("team_not_found")?;
    let mut body = json!({
        "id": id, "name": name, "domain": domain, "email_domain": "example.com",
        "icon": {"image_default": true},
    });
    if let Some(e) = enterprise {
        body["enterprise_id"] = json!(e);
    }
    Ok(json!({"team": body}))
}

pub(super) fn bot_info(shared: &Shared, args: &Args) -> Outcome {
    let bot = args.str("bot").ok_or("bot_not_found")?;
    let st = shared.lock();
    let u = st
        .ws
        .users
        .iter()
        .find(|u| u.bot_id.as_ref().is_some_and(|b| b.as_str() == bot))
        .ok_or("bot_not_found")?;
    let app_id = st.sm.app_id.clone();
    Ok(json!({"bot": {
        "id": bot, "deleted": false, "name": u.name, "updated": 1_700_000_000, "app_id": app_id,
        "user_id": u.id, "team_id": crate::oauth::team_of_user(&st, &u.id), "icons": {},
    }}))
}
