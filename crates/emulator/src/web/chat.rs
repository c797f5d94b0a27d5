//! `chat.postMessage`, `chat.update`, `chat.delete`, `chat.postEphemeral`, `reactions.*`.

use super::history::{find, render};
use super::{Args, Outcome};
use crate::Shared;
use crate::record::ConnectionId;
use crate::socket::PostError;
use crate::workspace::format_message_text;
use bytes::Bytes;
use serde_json::{Value, json};
use slack_rtm_types::UserId;

/// Slack's limit on a message's text.
const MAX_TEXT_CHARS: usize = 40_000;
/// Slack's limit on blocks per message.
const MAX_BLOCKS: usize = 50;

pub(super) fn blocks_arg(args: &Args) -> Result<Option<Value>, &'static str> {
    let blocks = args.json("blocks").map_err(|()| "invalid_blocks")?;
    match &blocks {
        Some(Value::Array(list))
            if list.len() <= MAX_BLOCKS && list.iter().all(|b| b.get("type").is_some()) =>
        {
            Ok(blocks)
        }
        Some(_) => Err("invalid_blocks"),
        None => Ok(None),
    }
}

fn text_arg(args: &Args) -> Result<Option<String>, &'static str> {
    let text = args.str("text");
    if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS) {
        return Err("msg_too_long");
    }
    Ok(text)
}

/// The text Slack builds for a message posted with blocks and no `text`: the text objects of
/// its blocks (a section's text and fields, a header, a context's elements…), in order, one per
/// line. Empty for blocks with no text (a divider, an image without alt text).
fn text_of_blocks(blocks: &Value) -> String {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                let is_text_object =
                    matches!(o.get("type").and_then(Value::as_str), Some("plain_text" | "mrkdwn"));
                match o.get("text") {
                    Some(Value::String(t)) if is_text_object => out.push(t.clone()),
                    // A block's own text comes before its fields and elements.
                    text => {
                        text.into_iter().for_each(|t| walk(t, out));
                        o.iter().filter(|(k, _)| *k != "text").for_each(|(_, child)| walk(child, out));
                    }
                }
            }
            Value::Array(list) => list.iter().for_each(|child| walk(child, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(blocks, &mut out);
    out.join("\n")
}

/// Sends an event to every connection in the channel.
fn fan_out(shared: &Shared, channel: &str, event: &Value) {
    shared.fan_out(channel, None, Bytes::from(event.to_string()));
}

/// The channel exists, and the thread (if any) is a message of it, or one `also` accepts.
pub(super) fn check_target(
    st: &crate::shared::State,
    channel: &str,
    thread_ts: Option<&str>,
    also: impl Fn(&crate::shared::State, &str) -> bool,
) -> Result<(), &'static str> {
    if !st.ws.has_channel(channel) {
        return Err("channel_not_found");
    }
    match thread_ts {
        Some(parent) if find(st, channel, parent).is_none() && !also(st, parent) => Err("invalid_thread_ts"),
        _ => Ok(()),
    }
}

/// The API error of a refused post.
pub(super) fn post_error(e: PostError) -> &'static str {
    match e {
        PostError::Channel => "not_in_channel",
    }
}

pub(super) fn post_message(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let blocks = blocks_arg(args)?;
    // Slack does not require `text` when there are blocks (it is their notification fallback;
    // the SDKs warn client-side when it is missing, Slack's answer carries no warning): like
    // Slack, the emulator then builds the text from the blocks' text objects.
    let text = match (text_arg(args)?.filter(|t| !t.is_empty()), &blocks) {
        (Some(text), _) => text,
        (None, Some(blocks)) => text_of_blocks(blocks),
        (None, None) => return Err("no_text"),
    };
    let thread_ts = args.str("thread_ts");
    let channel = super::conversations::resolve_user_channel(&mut shared.lock(), user, &channel);
    check_target(&shared.lock(), &channel, thread_ts.as_deref(), |_, _| false)?;
    let formatted = format_message_text(&text);
    let ts = shared
        .post_message(ConnectionId(0), user, &channel, &text, &formatted, thread_ts.as_deref(), None)
        .map_err(post_error)?;
    let broadcast = thread_ts.is_some() && args.bool("reply_broadcast");
    let mut st = shared.lock();
    if blocks.is_some() || broadcast {
        let extra = st.web.extra_mut(&channel, &ts);
        extra.blocks = blocks;
        extra.broadcast = broadcast;
    }
    let message = find(&st, &channel, &ts).map_or(Value::Null, |m| render(&st, &m));
    Ok(json!({"channel": channel, "ts": ts, "message": message}))
}

/// The message `channel`/`ts` written by `user`, for an edit or a deletion.
fn own_message(
    shared: &Shared,
    user: &UserId,
    args: &Args,
    not_yours: &'static str,
) -> Result<(String, String), &'static str> {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let ts = args.str("ts").ok_or("message_not_found")?;
    let st = shared.lock();
    if !st.ws.has_channel(&channel) {
        return Err("channel_not_found");
    }
    let m = find(&st, &channel, &ts).ok_or("message_not_found")?;
    if &m.user != user {
        return Err(not_yours);
    }
    Ok((channel, ts))
}

pub(super) fn update(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let (channel, ts) = own_message(shared, user, args, "cant_update_message")?;
    let blocks = blocks_arg(args)?;
    let text = text_arg(args)?;
    if text.is_none() && blocks.is_none() {
        return Err("no_text");
    }
    let event_ts = shared.clock.next();
    let mut st = shared.lock();
    let before = find(&st, &channel, &ts).map_or(Value::Null, |m| render(&st, &m));
    let extra = st.web.extra_mut(&channel, &ts);
    if let Some(t) = &text {
        extra.new_text = Some(format_message_text(t).into_owned());
    }
    if blocks.is_some() {
        extra.blocks = blocks;
    }
    extra.edited = Some((user.as_str().to_owned(), event_ts.clone()));
    let after = find(&st, &channel, &ts).map_or(Value::Null, |m| render(&st, &m));
    drop(st);
    fan_out(
        shared,
        &channel,
        &json!({"type": "message", "subtype": "message_changed", "hidden": true, "channel": channel,
                "ts": event_ts, "event_ts": event_ts, "message": after, "previous_message": before}),
    );
    Ok(json!({"channel": channel, "ts": ts, "text": after["text"], "message": after}))
}

pub(super) fn delete(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let (channel, ts) = own_message(shared, user, args, "cant_delete_message")?;
    let event_ts = shared.clock.next();
    let mut st = shared.lock();
    let before = find(&st, &channel, &ts).map_or(Value::Null, |m| render(&st, &m));
    st.web.extra_mut(&channel, &ts).deleted = true;
    drop(st);
    fan_out(
        shared,
        &channel,
        &json!({"type": "message", "subtype": "message_deleted", "hidden": true, "channel": channel,
                "ts": event_ts, "event_ts": event_ts, "deleted_ts": ts, "previous_message": before}),
    );
    Ok(json!({"channel": channel, "ts": ts}))
}

pub(super) fn post_ephemeral(shared: &Shared, args: &Args) -> Outcome {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let to = args.str("user").ok_or("user_not_found")?;
    let blocks = blocks_arg(args)?;
    if text_arg(args)?.is_none() && blocks.is_none() {
        return Err("no_text");
    }
    let mut st = shared.lock();
    if !st.ws.has_channel(&channel) {
        return Err("channel_not_found");
    }
    let to = UserId::new(to);
    if st.ws.user(&to).is_none() {
        return Err("user_not_in_channel");
    }
    let msg = crate::interact::EphemeralMessage {
        at: std::time::Instant::now(),
        channel: Some(slack_rtm_types::ChannelId::new(channel)),
        user: to,
        text: text_arg(args)?,
        blocks,
        source: "chat.postEphemeral",
    };
    super::respond::record_ephemeral(&mut st, msg);
    drop(st);
    Ok(json!({"message_ts": shared.clock.next()}))
}

/// Distinct reactions one message may carry (Slack answers `too_many_reactions` past its
/// limit): a client cannot grow a message's record without bound.
const MAX_DISTINCT_REACTIONS: usize = 50;

pub(super) fn react(shared: &Shared, user: &UserId, args: &Args, add: bool) -> Outcome {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let ts = args.str("timestamp").ok_or("no_item_specified")?;
    let name = args.str("name").map(|n| n.trim_matches(':').to_owned()).filter(|n| !n.is_empty());
    let name = name.ok_or("invalid_name")?;
    let mut st = shared.lock();
    if !st.ws.has_channel(&channel) {
        return Err("channel_not_found");
    }
    let author = find(&st, &channel, &ts).ok_or("message_not_found")?.user;
    let extra = st.web.extra_mut(&channel, &ts);
    let pos = extra.reactions.iter().position(|(n, _)| *n == name);
    if add {
        match pos {
            Some(i) if extra.reactions[i].1.contains(user) => return Err("already_reacted"),
            Some(i) => extra.reactions[i].1.push(user.clone()),
            None if extra.reactions.len() >= MAX_DISTINCT_REACTIONS => return Err("too_many_reactions"),
            None => extra.reactions.push((name.clone(), vec![user.clone()])),
        }
    } else {
        let i = pos.filter(|i| extra.reactions[*i].1.contains(user)).ok_or("no_reaction")?;
        extra.reactions[i].1.retain(|u| u != user);
        if extra.reactions[i].1.is_empty() {
            extra.reactions.remove(i);
        }
    }
    drop(st);
    let kind = if add { "reaction_added" } else { "reaction_removed" };
    fan_out(
        shared,
        &channel,
        &json!({"type": kind, "user": user, "reaction": name, "item_user": author,
                "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": shared.clock.next()}),
    );
    Ok(json!({}))
}
