//! `conversations.list`, `.info`, `.members`, `.open`, `.join`, `.create`, `.invite` and
//! `users.conversations`, against the workspace's channels and the directory's memberships.

use super::directory::Kind;
use super::{Args, Outcome};
use crate::Shared;
use crate::shared::State;
use crate::workspace::{WorkspaceChannel, random_alnum};
use serde_json::{Value, json};
use slack_rtm_types::{ChannelId, UserId};

/// Page size when `limit` is absent; the largest allowed.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;
/// Slack's limits on a channel name and on the users of `conversations.open`.
const MAX_NAME: usize = 80;
const MAX_MPIM_USERS: usize = 8;

/// One page of `items` from the `cursor` argument, and the next cursor (`""` at the end).
pub(super) fn paged<T>(items: Vec<T>, args: &Args) -> Result<(Vec<T>, String), &'static str> {
    let limit = match args.str("limit") {
        Some(l) => l.parse::<usize>().map_err(|_| "invalid_limit")?,
        None => DEFAULT_LIMIT,
    };
    let limit = if limit == 0 { DEFAULT_LIMIT } else { limit.min(MAX_LIMIT) };
    let start = match args.str("cursor") {
        Some(c) => c.strip_prefix("dXNlcjo").and_then(|n| n.parse::<usize>().ok()).ok_or("invalid_cursor")?,
        None => 0,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next =
        if start + page.len() < total { format!("dXNlcjo{}", start + page.len()) } else { String::new() };
    Ok((page, next))
}

/// The key of the DM between two users.
pub(crate) fn im_key(a: &UserId, b: &UserId) -> Vec<UserId> {
    let mut key = vec![a.clone(), b.clone()];
    key.sort();
    key
}

fn all_users(st: &State) -> Vec<UserId> {
    st.ws.users.iter().map(|u| u.id.clone()).collect()
}

/// A conversation object as `user` sees it.
pub(super) fn render(shared: &Shared, st: &State, c: &WorkspaceChannel, user: &UserId) -> Value {
    let kind = st.web.dir.kind(c.id.as_str());
    let mut v = json!({
        "id": c.id, "created": 1_700_000_000, "is_archived": false,
        "is_channel": matches!(kind, Kind::Public | Kind::Private),
        "is_group": false, "is_im": matches!(kind, Kind::Im(_)), "is_mpim": kind == Kind::Mpim,
        "is_private": kind != Kind::Public, "is_general": c.id == shared.general,
        "is_member": st.web.dir.is_member(c.id.as_str(), user),
    });
    if let Kind::Im(other) = &kind {
        v["user"] = json!(other);
    } else {
        v["name"] = json!(c.name);
        v["name_normalized"] = json!(c.name);
    }
    v
}

fn channel<'a>(st: &'a State, id: &str) -> Result<&'a WorkspaceChannel, &'static str> {
    st.ws.channels.iter().find(|c| c.id.as_str() == id).ok_or("channel_not_found")
}

pub(super) fn info(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let id = args.str("channel").ok_or("channel_not_found")?;
    let st = shared.lock();
    let c = channel(&st, &id)?;
    Ok(json!({"channel": render(shared, &st, c, user)}))
}

/// `types` as the set of kinds asked for (default: public channels).
fn wanted(args: &Args) -> Result<Vec<&'static str>, &'static str> {
    let types = args.str("types").unwrap_or_else(|| "public_channel".into());
    types
        .split(',')
        .map(|t| match t.trim() {
            "public_channel" => Ok("public_channel"),
            "private_channel" => Ok("private_channel"),
            "im" => Ok("im"),
            "mpim" => Ok("mpim"),
            _ => Err("invalid_types"),
        })
        .collect()
}

fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Public => "public_channel",
        Kind::Private => "private_channel",
        Kind::Im(_) => "im",
        Kind::Mpim => "mpim",
    }
}

/// The conversations of the `types` asked for that `viewer` may see; only those `member` is
/// in, when given.
fn listing(shared: &Shared, viewer: &UserId, member: Option<&UserId>, args: &Args) -> Outcome {
    let types = wanted(args)?;
    let st = shared.lock();
    let items: Vec<Value> = st
        .ws
        .channels
        .iter()
        .filter(|c| {
            let kind = st.web.dir.kind(c.id.as_str());
            let visible = kind == Kind::Public || st.web.dir.is_member(c.id.as_str(), viewer);
            visible
                && types.contains(&kind_name(&kind))
                && member.is_none_or(|m| st.web.dir.is_member(c.id.as_str(), m))
        })
        .map(|c| render(shared, &st, c, viewer))
        .collect();
    let (page, next) = paged(items, args)?;
    Ok(json!({"channels": page, "response_metadata": {"next_cursor": next}}))
}

pub(super) fn list(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    listing(shared, user, None, args)
}

pub(super) fn user_conversations(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let member = match args.str("user") {
        Some(u) => {
            let u = UserId::new(u);
            if shared.lock().ws.user(&u).is_none() {
                return Err("user_not_found");
            }
            u
        }
        None => user.clone(),
    };
    listing(shared, user, Some(&member), args)
}

pub(super) fn members(shared: &Shared, args: &Args) -> Outcome {
    let id = args.str("channel").ok_or("channel_not_found")?;
    let st = shared.lock();
    channel(&st, &id)?;
    let members = st.web.dir.members_of(&id, &all_users(&st));
    let (page, next) = paged(members, args)?;
    Ok(json!({"members": page, "response_metadata": {"next_cursor": next}}))
}

fn new_id(prefix: char) -> ChannelId {
    ChannelId::new(format!("{prefix}{}", random_alnum(10).to_ascii_uppercase()))
}

/// The IM (or MPIM) of `key`'s members, made when it does not exist yet; whether it existed.
fn find_or_make_im(st: &mut State, key: Vec<UserId>, kind: Kind) -> (ChannelId, bool) {
    if let Some(id) = st.web.dir.ims.get(&key) {
        return (id.clone(), true);
    }
    let id = new_id(if kind == Kind::Mpim { 'G' } else { 'D' });
    let name = if kind == Kind::Mpim { format!("mpdm-{}", key.len()) } else { String::new() };
    st.ws.channels.push(WorkspaceChannel { id: id.clone(), name });
    st.web.dir.kinds.insert(id.as_str().to_owned(), kind);
    st.web.dir.members.insert(id.as_str().to_owned(), key.clone());
    st.web.dir.ims.insert(key, id.clone());
    (id, false)
}

/// `chat.postMessage` to a user id posts in the app's IM with that user (made when needed), as
/// Slack does; any other id is returned as it is.
pub(crate) fn resolve_user_channel(st: &mut State, poster: &UserId, channel: &str) -> String {
    if (channel.starts_with('U') || channel.starts_with('W')) && !st.ws.has_channel(channel) {
        let other = UserId::new(channel);
        if st.ws.user(&other).is_some() {
            let key = im_key(poster, &other);
            return find_or_make_im(st, key, Kind::Im(other)).0.as_str().to_owned();
        }
    }
    channel.to_owned()
}

pub(super) fn open(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let mut st = shared.lock();
    if let Some(id) = args.str("channel") {
        let c = channel(&st, &id)?.clone();
        return Ok(json!({"channel": render(shared, &st, &c, user), "already_open": true, "no_op": true}));
    }
    let users: Vec<UserId> = args
        .str("users")
        .ok_or("users_list_not_supplied")?
        .split(',')
        .map(|u| UserId::new(u.trim()))
        .filter(|u| !u.as_str().is_empty())
        .collect();
    if users.is_empty() {
        return Err("users_list_not_supplied");
    }
    if users.len() > MAX_MPIM_USERS {
        return Err("too_many_users");
    }
    if users.iter().any(|u| st.ws.user(u).is_none()) {
        return Err("user_not_found");
    }
    let (key, kind) = match users.as_slice() {
        [one] => (im_key(user, one), Kind::Im(one.clone())),
        _ => {
            let mut key = users.clone();
            key.push(user.clone());
            key.sort();
            key.dedup();
            (key, Kind::Mpim)
        }
    };
    let (id, already) = find_or_make_im(&mut st, key, kind);
    let c = channel(&st, id.as_str())?.clone();
    let mut answer = json!({"channel": render(shared, &st, &c, user)});
    if already {
        answer["already_open"] = json!(true);
        answer["no_op"] = json!(true);
    }
    Ok(answer)
}

/// Slack answers `ok` with the warning `already_in_channel` for a member.
pub(super) fn join(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let id = args.str("channel").ok_or("channel_not_found")?;
    let mut st = shared.lock();
    let c = channel(&st, &id)?.clone();
    if st.web.dir.kind(&id) != Kind::Public {
        return Err("method_not_supported_for_channel_type");
    }
    let warning = if st.web.dir.is_member(&id, user) {
        Some("already_in_channel")
    } else {
        st.web.dir.members.entry(id.clone()).or_default().push(user.clone());
        None
    };
    let body = json!({"channel": render(shared, &st, &c, user)});
    Ok(crate::api::form::with_warnings(body, warning.as_slice()))
}

fn valid_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("invalid_name_required");
    }
    if name.chars().count() > MAX_NAME {
        return Err("invalid_name_maxlength");
    }
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || !c.is_ascii();
    if !name.chars().all(ok) {
        return Err("invalid_name_specials");
    }
    Ok(())
}

pub(super) fn create(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let name = args.str("name").unwrap_or_default();
    valid_name(&name)?;
    let mut st = shared.lock();
    if st.ws.channels.iter().any(|c| c.name == name) {
        return Err("name_taken");
    }
    let id = st.ws.add_channel(&name);
    let kind = if args.bool("is_private") { Kind::Private } else { Kind::Public };
    st.web.dir.kinds.insert(id.as_str().to_owned(), kind);
    st.web.dir.members.insert(id.as_str().to_owned(), vec![user.clone()]);
    let c = channel(&st, id.as_str())?.clone();
    Ok(json!({"channel": render(shared, &st, &c, user)}))
}

pub(super) fn invite(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let id = args.str("channel").ok_or("channel_not_found")?;
    let users: Vec<UserId> = args
        .str("users")
        .ok_or("no_user")?
        .split(',')
        .map(|u| UserId::new(u.trim()))
        .filter(|u| !u.as_str().is_empty())
        .collect();
    if users.is_empty() {
        return Err("no_user");
    }
    let mut st = shared.lock();
    let c = channel(&st, &id)?.clone();
    if matches!(st.web.dir.kind(&id), Kind::Im(_) | Kind::Mpim) {
        return Err("method_not_supported_for_channel_type");
    }
    if !st.web.dir.is_member(&id, user) {
        return Err("not_in_channel");
    }
    if users.contains(user) {
        return Err("cant_invite_self");
    }
    if users.iter().any(|u| st.ws.user(u).is_none()) {
        return Err("user_not_found");
    }
    let new: Vec<UserId> = users.into_iter().filter(|u| !st.web.dir.is_member(&id, u)).collect();
    if new.is_empty() {
        return Err("already_in_channel");
    }
    st.web.dir.members.entry(id).or_default().extend(new);
    Ok(json!({"channel": render(shared, &st, &c, user)}))
}
