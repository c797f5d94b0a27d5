//! The human-readable lines of `socket tail` (and of `demo --socket-mode`): who said what where
//! for each envelope, and a sentence for each change of the session. `--json` does not use
//! these.

use serde_json::Value;
use slack_rtm::socket_mode::Delivery;
use slack_rtm::socket_mode::SocketModeItem;

/// The payload's string at `path` (`/event/user`), if any.
fn s<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    v.pointer(path).and_then(Value::as_str).filter(|x| !x.is_empty())
}

/// `time  #channel  user  what` for a delivery, like `tail`'s lines for RTM events.
pub fn human_line(d: &Delivery) -> String {
    let whole = d.to_json();
    let p = whole.get("payload").unwrap_or(&Value::Null);
    let (ts, channel, user, what) = match d.envelope_type() {
        "events_api" => {
            let ty = s(p, "/event/type").unwrap_or("event");
            let text = s(p, "/event/text").map(|t| t.replace('\n', "\n    "));
            let what = match (ty, text) {
                ("message", Some(t)) => t,
                (ty, Some(t)) => format!("[{ty}] {t}"),
                (ty, None) => {
                    let extra = s(p, "/event/reaction").map(|r| format!(" :{r}:")).unwrap_or_default();
                    format!("[{ty}]{extra}")
                }
            };
            let channel = s(p, "/event/channel").or_else(|| s(p, "/event/item/channel"));
            let ts = s(p, "/event/event_ts").or_else(|| s(p, "/event/ts"));
            (ts, channel, s(p, "/event/user"), what)
        }
        "slash_commands" => {
            let what = match (s(p, "/command"), s(p, "/text")) {
                (Some(c), Some(t)) => format!("{c} {t}"),
                (Some(c), None) => c.to_owned(),
                _ => "a slash command".to_owned(),
            };
            (None, s(p, "/channel_id"), s(p, "/user_id"), what)
        }
        "interactive" => {
            let ty = s(p, "/type").unwrap_or("interaction");
            let what = match ty {
                "block_actions" => {
                    let id = s(p, "/actions/0/action_id").unwrap_or("?");
                    match s(p, "/actions/0/value") {
                        Some(v) => format!("clicked {id} (value {v})"),
                        None => format!("used {id}"),
                    }
                }
                "view_submission" => {
                    format!("submitted the view {}", s(p, "/view/callback_id").unwrap_or("?"))
                }
                "view_closed" => format!("closed the view {}", s(p, "/view/callback_id").unwrap_or("?")),
                "shortcut" | "message_action" => {
                    format!("ran the shortcut {}", s(p, "/callback_id").unwrap_or("?"))
                }
                other => format!("[{other}]"),
            };
            let channel = s(p, "/channel/id").or_else(|| s(p, "/container/channel_id"));
            (None, channel, s(p, "/user/id"), what)
        }
        other => (None, None, None, format!("[{other} envelope]")),
    };
    let mut line = format!(
        "{}  #{}  {}  {}",
        crate::output::clock(ts),
        channel.unwrap_or("-"),
        user.unwrap_or("-"),
        what
    );
    if d.retry_attempt() > 0 {
        line.push_str(&format!("  (delivered again, retry {})", d.retry_attempt()));
    }
    line
}

/// "1 socket" / "2 sockets".
fn sockets(n: usize) -> String {
    if n == 1 { "1 socket".to_owned() } else { format!("{n} sockets") }
}

/// A sentence for stderr (`None`: envelopes, which go to stdout).
pub fn lifecycle_line(item: &SocketModeItem) -> Option<String> {
    Some(match item {
        SocketModeItem::Connected { sockets: n } => format!("connected ({} open)", sockets(*n)),
        SocketModeItem::Disconnected { reason, sockets: n } => {
            format!("a socket closed: {reason} ({} still open)", sockets(*n))
        }
        SocketModeItem::Reconnecting { reason, attempt, delay } => {
            format!("reconnecting in {} ms (attempt {attempt}): {reason}", delay.as_millis())
        }
        SocketModeItem::Gap { from, to } => format!(
            "no socket was open for {} ms: Slack delivers the events of that time again",
            to.saturating_duration_since(*from).as_millis()
        ),
        SocketModeItem::Stopped { reason } => format!("stopped: {reason}"),
        SocketModeItem::Session(ev) => ev.to_string(),
        _ => return None,
    })
}
