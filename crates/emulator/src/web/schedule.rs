//! `chat.scheduleMessage` (posted at its time through `chat.postMessage`'s path),
//! `chat.getPermalink`, `pins.add`.

use super::directory::ScheduledMessage;
use super::history::find;
use super::{Args, Outcome};
use crate::Shared;
use crate::workspace::random_alnum;
use serde_json::json;
use slack_rtm_types::{ChannelId, UserId};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Slack schedules at most 120 days ahead.
const MAX_AHEAD_SECS: i64 = 120 * 24 * 3600;

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub(super) fn schedule(shared: &Arc<Shared>, user: &UserId, args: &Args) -> Outcome {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let post_at: i64 = args.str("post_at").ok_or("invalid_time")?.parse().map_err(|_| "invalid_time")?;
    let text = args.str("text").ok_or("no_text")?;
    let now = now_secs();
    if post_at <= now {
        return Err("time_in_past");
    }
    if post_at > now + MAX_AHEAD_SECS {
        return Err("time_too_far");
    }
    let id = format!("Q{}", random_alnum(10).to_ascii_uppercase());
    {
        let mut st = shared.lock();
        if !st.ws.has_channel(&channel) {
            return Err("channel_not_found");
        }
        let pending = st.web.dir.scheduled.iter().filter(|m| m.posted_ts.is_none()).count();
        if pending >= shared.config.record_limit.max(1) {
            return Err("restricted_too_many");
        }
        if st.web.dir.scheduled.len() >= shared.config.record_limit.max(1)
            && let Some(i) = st.web.dir.scheduled.iter().position(|m| m.posted_ts.is_some())
        {
            st.web.dir.scheduled.remove(i);
        }
        st.web.dir.scheduled.push(ScheduledMessage {
            id: id.clone(),
            channel: ChannelId::new(channel.clone()),
            post_at,
            text: text.clone(),
            user: user.clone(),
            posted_ts: None,
        });
    }
    let weak = Arc::downgrade(shared);
    let (args, poster, scheduled) = (Args(args.0.clone()), user.clone(), id.clone());
    let wait = Duration::from_secs((post_at - now) as u64);
    shared.spawn(async move {
        tokio::time::sleep(wait).await;
        post_now(&weak, &poster, &args, &scheduled);
    });
    let bot = shared.lock().ws.user(user).and_then(|u| u.bot_id.clone());
    Ok(json!({
        "channel": channel, "scheduled_message_id": id, "post_at": post_at,
        "message": {"type": "message", "text": text, "user": user, "bot_id": bot},
    }))
}

/// Posts a scheduled message through `chat.postMessage`'s path and records its `ts`.
fn post_now(shared: &Weak<Shared>, user: &UserId, args: &Args, id: &str) {
    let Some(shared) = shared.upgrade() else { return };
    let outcome = super::chat::post_message(&shared, user, args);
    match outcome {
        Ok(body) => {
            let ts = body["ts"].as_str().map(str::to_owned);
            if let Some(m) = shared.lock().web.dir.scheduled.iter_mut().find(|m| m.id == id) {
                m.posted_ts = ts;
            }
            shared.notify();
        }
        Err(code) => tracing::warn!(id, code, "scheduled message not posted"),
    }
}

pub(super) fn permalink(shared: &Shared, args: &Args) -> Outcome {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let ts = args.str("message_ts").ok_or("message_not_found")?;
    let st = shared.lock();
    if !st.ws.has_channel(&channel) {
        return Err("channel_not_found");
    }
    let m = find(&st, &channel, &ts).ok_or("message_not_found")?;
    let mut link =
        format!("https://{}.slack.com/archives/{channel}/p{}", st.ws.team.domain, ts.replace('.', ""));
    if let Some(parent) = &m.thread_ts {
        link.push_str(&format!("?thread_ts={parent}&cid={channel}"));
    }
    Ok(json!({"channel": channel, "permalink": link}))
}

pub(super) fn pin(shared: &Shared, args: &Args) -> Outcome {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let ts = args.str("timestamp").ok_or("no_item_specified")?;
    let mut st = shared.lock();
    if !st.ws.has_channel(&channel) {
        return Err("channel_not_found");
    }
    find(&st, &channel, &ts).ok_or("message_not_found")?;
    if st.web.dir.pins.len() >= shared.config.record_limit {
        return Err("too_many_pins");
    }
    if !st.web.dir.pins.insert((channel, ts)) {
        return Err("already_pinned");
    }
    Ok(json!({}))
}
