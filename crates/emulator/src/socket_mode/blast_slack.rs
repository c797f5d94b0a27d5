//! The Slack-shaped envelope blast (`--sm-blast-slack-shapes`,
//! [`crate::SocketModeServerConfig::blast_slack_shapes`]): `events_api` envelopes as Slack sends
//! them, one per write.
//!
//! The plain envelope blast ([`super::blast`]) is friendly to a client: one `message` shape,
//! the envelope's `type` after its `payload`, 64 envelopes per write. This one is as hard as
//! Slack itself:
//!
//! - the envelope's keys in the order Slack sends them, `type` first
//!   (`type`, `envelope_id`, `payload`, `accepts_response_payload`, `retry_attempt`,
//!   `retry_reason`), so a client that wants the `retry_*` fields or the payload must read
//!   the envelope to its end;
//! - the payload is Slack's `event_callback` (`token`, `team_id`, `api_app_id`, `event`,
//!   `type`, `event_id`, `event_time`, `authorizations`, `is_ext_shared_channel`,
//!   `event_context`), with `event_id` after the event;
//! - the events are the shapes of the `message` events Slack really sends (the RTM blast's
//!   [`crate::blast_shapes`]: file uploads, unfurls, edits, thread replies and parents, bot
//!   messages, plain messages): envelopes from about 1 KB to 2.6 KB (1.6 KB on average);
//! - written one envelope per write and per wake-up of the socket's task, as a server that
//!   makes each envelope when its event happens does: a client's read finds fewer envelopes
//!   already buffered, and its per-read and per-wake-up costs show.

use crate::blast_shapes;

/// The JSON of every Slack-shaped envelope: the envelope id is `envelope_placeholder`, the
/// event id `Ev` + `event_placeholder`; `ts`/`event_ts` and the tail of `client_msg_id` carry
/// the blast placeholders ([`crate::blast::TS_PLACEHOLDER`], [`crate::blast::ID_PLACEHOLDER`]).
pub(crate) fn envelopes(
    ids: (&str, &str),
    team: &str,
    channel: &str,
    user: &str,
    app_id: &str,
    bot: &str,
) -> Vec<String> {
    let (envelope_placeholder, event_placeholder) = ids;
    blast_shapes::payloads(team, channel, user)
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            // Slack's `event_context` is an opaque token; its length varies a little.
            let context = format!("4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJ{team}IiwiYWlkIjoi{app_id}{i:02}In0");
            format!(
                concat!(
                    r#"{{"type":"events_api","envelope_id":"{envelope}","payload":{{"#,
                    r#""token":"emulatorverificationtoken","team_id":"{team}","api_app_id":"{app_id}","#,
                    r#""event":{event},"type":"event_callback","event_id":"Ev{event_id}","#,
                    r#""event_time":{time},"authorizations":[{{"enterprise_id":null,"team_id":"{team}","#,
                    r#""user_id":"{bot}","is_bot":true,"is_enterprise_install":false}}],"#,
                    r#""is_ext_shared_channel":false,"event_context":"{context}"}},"#,
                    r#""accepts_response_payload":false,"retry_attempt":0,"retry_reason":""}}"#
                ),
                envelope = envelope_placeholder,
                team = team,
                app_id = app_id,
                event = event,
                event_id = event_placeholder,
                time = 1_700_000_000 + i,
                bot = bot,
                context = context,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blast::{ID_PLACEHOLDER, TS_PLACEHOLDER};
    use serde_json::Value;

    #[test]
    fn envelopes_are_slack_shaped_with_type_first() {
        let all = envelopes(
            ("eeeeeeee-0000-4000-8000-eeeeeeeeeeee", "EEEEEEEEEE"),
            "T0EMU00001",
            "C0EMU00001",
            "U0EMU00004",
            "A0EMU00001",
            "U0EMU00002",
        );
        assert_eq!(all.len(), 14);
        let mut sizes = Vec::new();
        for e in &all {
            assert!(e.starts_with(r#"{"type":"events_api","envelope_id":"eeeeeeee-"#), "{e}");
            let v: Value = serde_json::from_str(e).unwrap();
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            let mut want = [
                "type",
                "envelope_id",
                "payload",
                "accepts_response_payload",
                "retry_attempt",
                "retry_reason",
            ];
            want.sort_unstable();
            assert_eq!(keys, want);
            let p = &v["payload"];
            assert_eq!(p["type"], "event_callback");
            assert_eq!(p["event"]["type"], "message");
            assert_eq!(p["event_id"], "EvEEEEEEEEEE");
            assert_eq!(p["authorizations"][0]["user_id"], "U0EMU00002");
            for key in
                ["token", "team_id", "api_app_id", "event_time", "is_ext_shared_channel", "event_context"]
            {
                assert!(!p[key].is_null(), "{key} in {e}");
            }
            // The event comes before the payload's `event_id`, as Slack sends it.
            assert!(e.find(r#""event":{"#).unwrap() < e.find(r#""event_id":"#).unwrap());
            assert_eq!(e.matches(TS_PLACEHOLDER).count(), 2);
            assert!(e.matches(ID_PLACEHOLDER).count() <= 1);
            sizes.push(e.len());
        }
        assert!(sizes.iter().any(|&s| s < 1100) && sizes.iter().any(|&s| s > 2400), "{sizes:?}");
        assert!(sizes.iter().all(|&s| s < 3000), "{sizes:?}");
    }
}
