//! The realistic blast variant (`--blast-slack-shapes`): `message` events shaped like the ones
//! Slack really sends, not one template.
//!
//! The shapes follow recorded Slack frames and Slack's documentation examples (the contents are
//! made up): a plain message with `blocks`; a thread reply (`thread_ts`, `parent_user_id`); a
//! link unfurl (`attachments`); a file upload (`file_share` with a full file object); an edit
//! (`message_changed`, with the new and the previous message and `edited`); a thread parent
//! update (`message_replied`); a bot message (`bot_profile`, `attachments` with fields). Each
//! shape comes with a short and a longer text, so frames range from about 450 bytes to 2 KB.
//!
//! Keys are in Slack's order at the top level (`type` first or second); the top-level `ts` and
//! `event_ts` are placeholders patched per event, like the plain blast's.

use crate::blast::{ID_PLACEHOLDER, TS_PLACEHOLDER};
use serde_json::{Value, json};

/// A thread parent, before any blast event (its replies point at it).
const PARENT_TS: &str = "1700000000.000100";
/// An edit's original message.
const EDITED_TS: &str = "1700000100.000200";

/// A JSON object with its keys in this order (a `Value` map would sort them).
fn ordered(fields: &[(&str, Value)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(*key).to_string());
        out.push(':');
        out.push_str(&value.to_string());
    }
    out.push('}');
    out
}

fn rich_text(block_id: &str, text: &str) -> Value {
    json!([{
        "type": "rich_text",
        "block_id": block_id,
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]
    }])
}

/// The payloads, with `ts`/`event_ts` and (where there is one) the tail of `client_msg_id` as
/// placeholders.
pub(crate) fn payloads(team: &str, channel: &str, user: &str) -> Vec<String> {
    let texts = [
        "Deploy finished on staging, please have a look before lunch.",
        "Latency is down after the cache change: p50 went from 41 ms to 18 ms and p99 from 310 ms \
         to 120 ms on the checkout path. I will keep the old path behind the flag until Friday, \
         then remove it. Shout if you see anything odd in the dashboards.",
    ];
    let mut out = Vec::new();
    for (n, text) in texts.iter().enumerate() {
        let id = format!("7e57ab1e-{n:04x}-4000-8000-{ID_PLACEHOLDER}");
        let other = "U0EMU00009";
        let common = |extra: Vec<(&'static str, Value)>| {
            let mut fields = vec![
                ("client_msg_id", json!(id)),
                ("type", json!("message")),
                ("text", json!(text)),
                ("user", json!(user)),
                ("ts", json!(TS_PLACEHOLDER)),
                ("blocks", rich_text(&format!("p{n}"), text)),
                ("team", json!(team)),
            ];
            fields.extend(extra);
            fields.extend([("channel", json!(channel)), ("event_ts", json!(TS_PLACEHOLDER))]);
            fields
        };
        // Plain, and a thread reply.
        out.push(ordered(&common(vec![])));
        out.push(ordered(&common(vec![
            ("thread_ts", json!(PARENT_TS)),
            ("parent_user_id", json!(other)),
            ("source_team", json!(team)),
            ("user_team", json!(team)),
        ])));
        // A link unfurl.
        let link = format!("https://status.example.com/incidents/{}", 4000 + n);
        let unfurl = json!([{
            "from_url": link, "service_icon": "https://status.example.com/favicon.ico",
            "id": 1, "original_url": link, "fallback": "Status: Incident resolved",
            "text": text, "title": "Incident resolved: elevated error rates", "title_link": link,
            "service_name": "Status", "image_url": "https://status.example.com/og.png",
            "image_width": 1200, "image_height": 630, "image_bytes": 48213
        }]);
        let with_link = format!("{text} <{link}>");
        let mut fields = common(vec![("attachments", unfurl)]);
        fields[2] = ("text", json!(with_link));
        out.push(ordered(&fields));
        // A file upload.
        let file = json!([{
            "id": format!("F0EMU{n:05}"), "created": 1_700_000_200, "timestamp": 1_700_000_200,
            "name": "latency-after-cache.png", "title": "latency after cache change",
            "mimetype": "image/png", "filetype": "png", "pretty_type": "PNG", "user": user,
            "user_team": team, "editable": false, "size": 184_233, "mode": "hosted",
            "is_external": false, "external_type": "", "is_public": true,
            "public_url_shared": false, "display_as_bot": false, "username": "",
            "url_private": "https://files.slack.com/files-pri/T0EMU-F0EMU/latency.png",
            "url_private_download": "https://files.slack.com/files-pri/T0EMU-F0EMU/download/latency.png",
            "media_display_type": "unknown",
            "thumb_64": "https://files.slack.com/files-tmb/T0EMU-F0EMU-1a2b3c/latency_64.png",
            "thumb_360": "https://files.slack.com/files-tmb/T0EMU-F0EMU-1a2b3c/latency_360.png",
            "thumb_360_w": 360, "thumb_360_h": 189,
            "thumb_720": "https://files.slack.com/files-tmb/T0EMU-F0EMU-1a2b3c/latency_720.png",
            "thumb_720_w": 720, "thumb_720_h": 378, "original_w": 1440, "original_h": 756,
            "thumb_tiny": "AwAYADCx0p3amg0ZNRcRp3amg0ZNdpdXbs1g",
            "permalink": "https://example.slack.com/files/U0EMU/F0EMU/latency.png",
            "permalink_public": "https://slack-files.com/T0EMU-F0EMU-9d8e7f",
            "is_starred": false, "has_rich_preview": false, "file_access": "visible"
        }]);
        out.push(ordered(&[
            ("type", json!("message")),
            ("subtype", json!("file_share")),
            ("text", json!(text)),
            ("files", file),
            ("upload", json!(true)),
            ("user", json!(user)),
            ("display_as_bot", json!(false)),
            ("ts", json!(TS_PLACEHOLDER)),
            ("blocks", rich_text(&format!("f{n}"), text)),
            ("client_msg_id", json!(id)),
            ("channel", json!(channel)),
            ("event_ts", json!(TS_PLACEHOLDER)),
        ]));
        // An edit.
        let before = json!({
            "client_msg_id": format!("7e57ab1e-{n:04x}-4000-8000-0000000000ed"), "type": "message",
            "text": "Deploy finished on stagign", "user": user, "ts": EDITED_TS, "team": team,
            "blocks": rich_text(&format!("e{n}"), "Deploy finished on stagign")
        });
        let mut after = before.clone();
        after["text"] = json!(text);
        after["blocks"] = rich_text(&format!("e{n}"), text);
        after["edited"] = json!({"user": user, "ts": "1700000160.000000"});
        after["source_team"] = json!(team);
        after["user_team"] = json!(team);
        out.push(ordered(&[
            ("type", json!("message")),
            ("subtype", json!("message_changed")),
            ("message", after),
            ("previous_message", before),
            ("channel", json!(channel)),
            ("hidden", json!(true)),
            ("ts", json!(TS_PLACEHOLDER)),
            ("event_ts", json!(TS_PLACEHOLDER)),
        ]));
        // A thread parent whose replies changed.
        let parent = json!({
            "type": "message", "text": text, "user": other, "ts": PARENT_TS,
            "thread_ts": PARENT_TS, "reply_count": 3 + n, "reply_users_count": 2,
            "latest_reply": "1700000300.000400", "reply_users": [user, other],
            "is_locked": false, "subscribed": true, "last_read": "1700000300.000400",
            "blocks": rich_text(&format!("r{n}"), text), "team": team
        });
        out.push(ordered(&[
            ("type", json!("message")),
            ("subtype", json!("message_replied")),
            ("message", parent),
            ("channel", json!(channel)),
            ("hidden", json!(true)),
            ("ts", json!(TS_PLACEHOLDER)),
            ("event_ts", json!(TS_PLACEHOLDER)),
        ]));
        // A bot message.
        let card = json!([{
            "id": 1, "color": "2eb886", "fallback": "Build #1287 passed",
            "title": "Build #1287 passed", "title_link": "https://ci.example.com/builds/1287",
            "text": text, "footer": "CI", "ts": 1_700_000_400,
            "fields": [
                {"title": "Branch", "value": "main", "short": true},
                {"title": "Duration", "value": "6m 12s", "short": true}
            ]
        }]);
        out.push(ordered(&[
            ("type", json!("message")),
            ("subtype", json!("bot_message")),
            ("text", json!("")),
            ("username", json!("ci-bot")),
            ("bot_id", json!("B0EMU00001")),
            ("app_id", json!("A0EMU00001")),
            ("attachments", card),
            (
                "bot_profile",
                json!({
                    "id": "B0EMU00001", "deleted": false, "name": "ci-bot", "updated": 1_690_000_000,
                    "app_id": "A0EMU00001", "team_id": team,
                    "icons": {
                        "image_36": "https://avatars.example.com/ci_36.png",
                        "image_48": "https://avatars.example.com/ci_48.png",
                        "image_72": "https://avatars.example.com/ci_72.png"
                    }
                }),
            ),
            ("team", json!(team)),
            ("channel", json!(channel)),
            ("ts", json!(TS_PLACEHOLDER)),
            ("event_ts", json!(TS_PLACEHOLDER)),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_messages_with_patchable_timestamps() {
        let all = payloads("T0EMU00001", "C0EMU00001", "U0EMU00004");
        assert_eq!(all.len(), 14);
        let mut subtypes = std::collections::BTreeSet::new();
        for p in &all {
            let v: Value = serde_json::from_str(p).unwrap();
            assert_eq!(v["type"], "message", "{p}");
            // Exactly the top-level `ts` and `event_ts` are patched.
            assert_eq!(p.matches(TS_PLACEHOLDER).count(), 2, "{p}");
            assert_eq!(
                (v["ts"].as_str(), v["event_ts"].as_str()),
                (Some(TS_PLACEHOLDER), Some(TS_PLACEHOLDER))
            );
            assert!(p.matches(ID_PLACEHOLDER).count() <= 1);
            // `type` comes early, as Slack sends it.
            assert!(p.find("\"type\":\"message\"").unwrap() < 80, "{p}");
            subtypes.insert(v["subtype"].as_str().unwrap_or("").to_owned());
        }
        let want = ["", "bot_message", "file_share", "message_changed", "message_replied"];
        assert_eq!(subtypes.into_iter().collect::<Vec<_>>(), want);
        let sizes: Vec<usize> = all.iter().map(String::len).collect();
        assert!(sizes.iter().any(|&s| s < 600) && sizes.iter().any(|&s| s > 2000), "{sizes:?}");
        assert!(sizes.iter().all(|&s| s < 3000), "{sizes:?}");
        println!("payload sizes {sizes:?}, mean {}", sizes.iter().sum::<usize>() / sizes.len());
    }

    #[test]
    fn shapes_decode_as_typed_messages_without_loss() {
        for p in payloads("T0EMU00001", "C0EMU00001", "U0EMU00004") {
            let event = slack_rtm_types::Event::from_json(&p).unwrap();
            assert!(matches!(event, slack_rtm_types::Event::Message(_)), "{p}");
            let back = serde_json::to_value(&event).unwrap();
            assert_eq!(back, serde_json::from_str::<Value>(&p).unwrap(), "{p}");
        }
    }
}
