//! `conversations.history`, `conversations.replies` (cursor pagination), `conversations.info`,
//! `users.info`: read from the workspace's message record and what the Web API added to it.

use super::{Args, Outcome};
use crate::Shared;
use crate::record::PostedMessage;
use crate::shared::State;
use serde_json::{Value, json};
use slack_rtm_types::UserId;

/// Page size when `limit` is absent, and the largest allowed.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 999;

/// Slack's ordering of timestamps: seconds, then the fraction, as numbers.
fn ts_key(ts: &str) -> Option<(u64, u64)> {
    let (s, f) = ts.split_once('.').unwrap_or((ts, "0"));
    Some((s.parse().ok()?, if f.is_empty() { 0 } else { f.parse().ok()? }))
}

/// A cursor is opaque to clients: the hex of `next_ts:<ts>`.
fn encode_cursor(ts: &str) -> String {
    format!("next_ts:{ts}").bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Option<(u64, u64)> {
    if !cursor.len().is_multiple_of(2) || cursor.len() > 200 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..cursor.len()).step_by(2).map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok()).collect();
    let text = String::from_utf8(bytes?).ok()?;
    ts_key(text.strip_prefix("next_ts:")?)
}

fn deleted(st: &State, m: &PostedMessage) -> bool {
    st.web.extra(m.channel.as_str(), m.ts.as_str()).is_some_and(|e| e.deleted)
}

/// The message `ts` of `channel`, unless deleted.
pub(crate) fn find(st: &State, channel: &str, ts: &str) -> Option<PostedMessage> {
    st.messages.iter().find(|m| m.channel == channel && m.ts == ts && !deleted(st, m)).cloned()
}

/// A message as the Web API shows it.
pub(crate) fn render(st: &State, m: &PostedMessage) -> Value {
    let extra = st.web.extra(m.channel.as_str(), m.ts.as_str());
    let text = extra.and_then(|e| e.new_text.clone()).unwrap_or_else(|| m.formatted_text.clone());
    let mut v = json!({"type": "message", "user": m.user, "text": text, "ts": m.ts, "team": st.ws.team.id});
    if let Some(bot) = st.ws.user(&m.user).and_then(|u| u.bot_id.clone()) {
        v["bot_id"] = json!(bot);
    }
    if let Some(parent) = &m.thread_ts {
        v["thread_ts"] = json!(parent);
        if extra.is_some_and(|e| e.broadcast) {
            v["subtype"] = json!("thread_broadcast");
        }
    } else {
        let replies: Vec<&PostedMessage> = st
            .messages
            .iter()
            .filter(|r| r.channel == m.channel && r.thread_ts.as_ref() == Some(&m.ts) && !deleted(st, r))
            .collect();
        if let Some(last) = replies.last() {
            let mut users: Vec<&UserId> = Vec::new();
            for r in &replies {
                if !users.contains(&&r.user) {
                    users.push(&r.user);
                }
            }
            v["thread_ts"] = json!(m.ts);
            v["reply_count"] = json!(replies.len());
            v["reply_users_count"] = json!(users.len());
            v["reply_users"] = json!(users);
            v["latest_reply"] = json!(last.ts);
        }
    }
    if let Some(e) = extra {
        if let Some(b) = &e.blocks {
            v["blocks"] = b.clone();
        }
        if let Some((user, ts)) = &e.edited {
            v["edited"] = json!({"user": user, "ts": ts});
        }
        if !e.reactions.is_empty() {
            let r: Vec<Value> = e
                .reactions
                .iter()
                .map(|(name, users)| json!({"name": name, "users": users, "count": users.len()}))
                .collect();
            v["reactions"] = json!(r);
        }
    }
    v
}

struct Range {
    oldest: Option<(u64, u64)>,
    latest: Option<(u64, u64)>,
    inclusive: bool,
    limit: usize,
    cursor: Option<(u64, u64)>,
}

impl Range {
    fn from(args: &Args) -> Result<Self, &'static str> {
        let ts = |name, err| args.str(name).map(|t| ts_key(&t).ok_or(err)).transpose();
        let limit = match args.str("limit") {
            Some(l) => l.parse::<usize>().map_err(|_| "invalid_limit")?,
            None => DEFAULT_LIMIT,
        };
        let cursor = args.str("cursor").map(|c| decode_cursor(&c).ok_or("invalid_cursor")).transpose()?;
        Ok(Self {
            oldest: ts("oldest", "invalid_ts_oldest")?,
            latest: ts("latest", "invalid_ts_latest")?,
            inclusive: args.bool("inclusive"),
            limit: if limit == 0 { DEFAULT_LIMIT } else { limit.min(MAX_LIMIT) },
            cursor,
        })
    }

    fn contains(&self, key: (u64, u64)) -> bool {
        let after = self.oldest.is_none_or(|o| if self.inclusive { key >= o } else { key > o });
        let before = self.latest.is_none_or(|l| if self.inclusive { key <= l } else { key < l });
        after && before
    }
}

/// One page of `items` (already in page order) after the cursor, with Slack's envelope.
fn page(st: &State, items: Vec<&PostedMessage>, limit: usize) -> Value {
    let has_more = items.len() > limit;
    let shown: Vec<Value> = items.iter().take(limit).map(|m| render(st, m)).collect();
    let next = if has_more { items.get(limit - 1).map(|m| encode_cursor(m.ts.as_str())) } else { None };
    json!({"messages": shown, "has_more": has_more, "pin_count": 0,
           "response_metadata": {"next_cursor": next.unwrap_or_default()}})
}

pub(super) fn history(shared: &Shared, args: &Args) -> Outcome {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let range = Range::from(args)?;
    let st = shared.lock();
    if !st.ws.has_channel(&channel) {
        return Err("channel_not_found");
    }
    let mut items: Vec<(&PostedMessage, (u64, u64))> = st
        .messages
        .iter()
        .filter(|m| m.channel == channel.as_str() && !deleted(&st, m))
        .filter(|m| {
            m.thread_ts.is_none()
                || st.web.extra(m.channel.as_str(), m.ts.as_str()).is_some_and(|e| e.broadcast)
        })
        .filter_map(|m| Some((m, ts_key(m.ts.as_str())?)))
        .filter(|(_, k)| range.contains(*k) && range.cursor.is_none_or(|c| *k < c))
        .collect();
    items.sort_by_key(|(_, k)| std::cmp::Reverse(*k));
    Ok(page(&st, items.into_iter().map(|(m, _)| m).collect(), range.limit))
}

pub(super) fn replies(shared: &Shared, args: &Args) -> Outcome {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let ts = args.str("ts").ok_or("thread_not_found")?;
    let range = Range::from(args)?;
    let st = shared.lock();
    if !st.ws.has_channel(&channel) {
        return Err("channel_not_found");
    }
    let parent = find(&st, &channel, &ts).filter(|p| p.thread_ts.is_none()).ok_or("thread_not_found")?;
    let mut items: Vec<(&PostedMessage, (u64, u64))> = st
        .messages
        .iter()
        .filter(|m| m.channel == channel.as_str() && !deleted(&st, m))
        .filter(|m| m.ts == parent.ts || m.thread_ts.as_ref() == Some(&parent.ts))
        .filter_map(|m| Some((m, ts_key(m.ts.as_str())?)))
        .filter(|(m, k)| (m.ts == parent.ts || range.contains(*k)) && range.cursor.is_none_or(|c| *k > c))
        .collect();
    items.sort_by_key(|(_, k)| *k);
    Ok(page(&st, items.into_iter().map(|(m, _)| m).collect(), range.limit))
}

pub(super) fn info(shared: &Shared, args: &Args) -> Outcome {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let st = shared.lock();
    let c = st.ws.channels.iter().find(|c| c.id == channel.as_str()).ok_or("channel_not_found")?;
    Ok(json!({"channel": {
        "id": c.id, "name": c.name, "name_normalized": c.name, "is_channel": true, "is_group": false,
        "is_im": false, "is_mpim": false, "is_private": false, "is_archived": false,
        "is_general": c.id == shared.general, "is_member": true, "created": 1_700_000_000,
    }}))
}

pub(super) fn user_info(shared: &Shared, args: &Args) -> Outcome {
    let id = args.str("user").ok_or("user_not_found")?;
    let st = shared.lock();
    let u = st.ws.user(&UserId::new(id)).ok_or("user_not_found")?;
    let mut profile = json!({"real_name": u.name, "display_name": u.name});
    if let Some(bot) = &u.bot_id {
        profile["bot_id"] = json!(bot);
    }
    Ok(json!({"user": {
        "id": u.id, "team_id": st.ws.team.id, "name": u.name, "real_name": u.name, "deleted": false,
        "is_bot": u.bot_id.is_some(), "tz": "UTC", "tz_label": "Coordinated Universal Time", "tz_offset": 0,
        "profile": profile,
    }}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor("1700000000.000123");
        assert_eq!(decode_cursor(&c), Some((1_700_000_000, 123)));
        for bad in ["zz", "abc", "6e6f", &"a".repeat(400)] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps_order_numerically() {
        assert!(ts_key("10.000001") > ts_key("9.999999"));
        assert_eq!(ts_key("x.1"), None);
    }
}
