//! One envelope as a stream entry: the fields a gateway writes, and the [`FleetEvent`] a
//! worker hands to its handler.

pub(crate) use crate::entry_view::{EntryView, FIELD_COUNT, FIELD_NAMES};
use redis::Value;
use slack_rtm::socket_mode::{Envelope, Payload};
use std::borrow::Cow;
use std::collections::HashMap;

/// Entry field names.
pub(crate) mod field {
    pub const EVENT_ID: &str = "event_id";
    pub const ENVELOPE_ID: &str = "envelope_id";
    pub const TYPE: &str = "type";
    pub const EVENT_TYPE: &str = "event_type";
    pub const RETRY_ATTEMPT: &str = "retry_attempt";
    pub const RECEIVED_MS: &str = "received_ms";
    pub const BODY: &str = "body";
    /// The stream's entries: `[event_id, type, event_type, retry_attempt, received_ms]` as a
    /// JSON array (`""` for an id or type there is none of), beside `envelope_id` and `body`.
    pub const META: &str = "meta";
    /// Dead-letter entries only.
    pub const ORIGINAL_ID: &str = "original_id";
    pub const ATTEMPTS: &str = "attempts";
    pub const ERROR: &str = "error";
    pub const GROUP: &str = "group";
}

/// What a gateway appends for one envelope.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// The Events API `event_id` (`None` for slash commands, interactions, …).
    pub event_id: Option<String>,
    /// The envelope's id.
    pub envelope_id: String,
    /// `events_api`, `slash_commands`, `interactive`, or another type as it came.
    pub envelope_type: String,
    /// The inner event's type (`message`, `app_mention`, …) or the interaction's type.
    pub event_type: Option<String>,
    /// Slack's `retry_attempt` (0 for a first delivery).
    pub retry_attempt: u32,
    /// When the gateway received it (Unix ms).
    pub received_ms: u64,
    /// The whole envelope as it arrived.
    pub body: String,
}

impl NewEntry {
    /// Reads what the entry needs from an envelope's text with one light pass (the payload is
    /// not decoded): `None` if it is not a JSON object with an `envelope_id`.
    pub fn from_envelope_text(body: &str, received_ms: u64) -> Option<Self> {
        EntryView::parse(body, received_ms).map(EntryView::into_owned)
    }

    /// The entry, borrowed.
    pub(crate) fn view(&self) -> EntryView<'_> {
        EntryView {
            event_id: self.event_id.as_deref().map(Cow::Borrowed),
            envelope_id: Cow::Borrowed(&self.envelope_id),
            envelope_type: Cow::Borrowed(&self.envelope_type),
            event_type: self.event_type.as_deref().map(Cow::Borrowed),
            retry_attempt: self.retry_attempt,
            received_ms: self.received_ms,
            body: &self.body,
        }
    }

    /// The entry's fields one by one, each under its own name (the dead-letter stream's
    /// entries, read by people with `redis-cli`).
    pub(crate) fn readable_fields(&self) -> impl Iterator<Item = (&'static str, Cow<'_, str>)> {
        let values = [
            Cow::Borrowed(self.event_id.as_deref().unwrap_or_default()),
            Cow::Borrowed(self.envelope_id.as_str()),
            Cow::Borrowed(self.envelope_type.as_str()),
            Cow::Borrowed(self.event_type.as_deref().unwrap_or_default()),
            Cow::Owned(self.retry_attempt.to_string()),
            Cow::Owned(self.received_ms.to_string()),
            Cow::Borrowed(self.body.as_str()),
        ];
        [
            field::EVENT_ID,
            field::ENVELOPE_ID,
            field::TYPE,
            field::EVENT_TYPE,
            field::RETRY_ATTEMPT,
            field::RECEIVED_MS,
            field::BODY,
        ]
        .into_iter()
        .zip(values)
    }
}

/// An event handed to a worker's handler: at least once, with its ids, so handlers can be
/// idempotent (key on [`FleetEvent::event_id`], or the envelope id when there is none).
#[derive(Clone, Debug)]
pub struct FleetEvent {
    /// The stream entry's id (`<ms>-<seq>`).
    pub stream_id: String,
    /// The Events API `event_id` (the same on every Slack redelivery), if any.
    pub event_id: Option<String>,
    /// The envelope's id.
    pub envelope_id: String,
    /// `events_api`, `slash_commands`, `interactive`, …
    pub envelope_type: String,
    /// The inner event's or interaction's type, if any.
    pub event_type: Option<String>,
    /// Slack's `retry_attempt` of the delivery that was appended.
    pub retry_attempt: u32,
    /// When a gateway received it (Unix ms).
    pub received_ms: u64,
    /// How many times the stream has handed this entry to a worker, this time included
    /// (1 on a first delivery; more after a handler failure or a worker crash).
    pub attempt: u32,
    /// The whole envelope as Slack sent it.
    pub body: String,
}

impl FleetEvent {
    /// From a stream entry's fields as Redis sent them (name, value, name, value, …); its id
    /// back if it lacks the fields a gateway writes. The values are moved into the event, not
    /// copied (a field named twice: the last one counts).
    pub(crate) fn from_fields(stream_id: String, fields: Vec<Value>, attempt: u32) -> Result<Self, String> {
        fn name(v: &Value) -> &[u8] {
            match v {
                Value::BulkString(b) => b,
                Value::SimpleString(s) => s.as_bytes(),
                _ => b"",
            }
        }
        fn text(v: Value) -> Option<String> {
            match v {
                Value::BulkString(b) => String::from_utf8(b).ok(),
                Value::SimpleString(s) => Some(s),
                _ => None,
            }
        }
        let (mut event_id, mut envelope_id, mut envelope_type, mut event_type) = (None, None, None, None);
        let (mut retry_attempt, mut received_ms, mut body, mut meta) = (None, None, None, None);
        let mut it = fields.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            let slot = match std::str::from_utf8(name(&k)).unwrap_or_default() {
                field::EVENT_ID => &mut event_id,
                field::ENVELOPE_ID => &mut envelope_id,
                field::TYPE => &mut envelope_type,
                field::EVENT_TYPE => &mut event_type,
                field::RETRY_ATTEMPT => &mut retry_attempt,
                field::RECEIVED_MS => &mut received_ms,
                field::BODY => &mut body,
                field::META => &mut meta,
                _ => continue,
            };
            *slot = text(v);
        }
        let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
        let (Some(envelope_id), Some(body)) = (envelope_id, body) else { return Err(stream_id) };
        fn number<T: std::str::FromStr + Default>(s: Option<String>) -> T {
            s.and_then(|s| s.parse().ok()).unwrap_or_default()
        }
        let (event_id, envelope_type, event_type, retry_attempt, received_ms) = match meta {
            // The compact entry: the small fields in one (see `NewEntry::values`).
            Some(meta) => {
                type Meta<'a> = (Cow<'a, str>, Cow<'a, str>, Cow<'a, str>, u32, u64);
                let Ok((id, ty, event_ty, retry, received)) = serde_json::from_str::<Meta<'_>>(&meta) else {
                    return Err(stream_id);
                };
                let non_empty = |s: Cow<'_, str>| (!s.is_empty()).then(|| s.into_owned());
                (non_empty(id), ty.into_owned(), non_empty(event_ty), retry, received)
            }
            // One field each (dead letters, and entries of older gateways).
            None => (
                non_empty(event_id),
                envelope_type.unwrap_or_default(),
                non_empty(event_type),
                number(retry_attempt),
                number(received_ms),
            ),
        };
        Ok(Self {
            stream_id,
            event_id,
            envelope_id,
            envelope_type,
            event_type,
            retry_attempt,
            received_ms,
            attempt,
            body,
        })
    }

    /// From a stream entry as the redis crate's stream replies give it (a map of its fields).
    pub(crate) fn from_entry(stream_id: String, map: HashMap<String, Value>, attempt: u32) -> Option<Self> {
        let fields = map.into_iter().flat_map(|(k, v)| [Value::BulkString(k.into_bytes()), v]).collect();
        Self::from_fields(stream_id, fields, attempt).ok()
    }

    /// The entry a gateway appended for it.
    pub(crate) fn as_entry(&self) -> NewEntry {
        NewEntry {
            event_id: self.event_id.clone(),
            envelope_id: self.envelope_id.clone(),
            envelope_type: self.envelope_type.clone(),
            event_type: self.event_type.clone(),
            retry_attempt: self.retry_attempt,
            received_ms: self.received_ms,
            body: self.body.clone(),
        }
    }

    /// The envelope, decoded (its payload stays raw until [`Envelope::decode_payload`]).
    pub fn envelope(&self) -> Result<Envelope, serde_json::Error> {
        serde_json::from_str(&self.body)
    }

    /// The typed payload (an Events API callback, a slash command, an interaction, or
    /// [`Payload::Unknown`]); `None` if the body is not an envelope.
    pub fn payload(&self) -> Option<Payload> {
        self.envelope().ok().map(|e| e.decode_payload())
    }

    /// The key a handler should deduplicate on: the `event_id`, or else the envelope id.
    pub fn idempotency_key(&self) -> &str {
        self.event_id.as_deref().unwrap_or(&self.envelope_id)
    }

    /// The event as a JSON object (ids, types, attempt, and the envelope itself), as
    /// `slack-rtm fleet tail` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "stream_id": self.stream_id,
            "event_id": self.event_id,
            "envelope_id": self.envelope_id,
            "type": self.envelope_type,
            "event_type": self.event_type,
            "retry_attempt": self.retry_attempt,
            "received_ms": self.received_ms,
            "attempt": self.attempt,
            "envelope": serde_json::from_str::<serde_json::Value>(&self.body).unwrap_or(serde_json::Value::Null),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_is_read_without_decoding_its_payload() {
        let body = r#"{"envelope_id":"e1","type":"events_api","retry_attempt":2,"payload":{"event_id":"Ev9","event":{"type":"app_mention","text":"hi"}}}"#;
        let e = NewEntry::from_envelope_text(body, 7).unwrap();
        assert_eq!(
            (e.event_id.as_deref(), e.envelope_id.as_str(), e.envelope_type.as_str()),
            (Some("Ev9"), "e1", "events_api")
        );
        assert_eq!((e.event_type.as_deref(), e.retry_attempt, e.received_ms), (Some("app_mention"), 2, 7));
        let slash = NewEntry::from_envelope_text(
            r#"{"envelope_id":"s\"1","type":"slash_commands","payload":{"command":"/x"}}"#,
            0,
        )
        .unwrap();
        assert_eq!((slash.event_id, slash.envelope_id.as_str(), slash.event_type), (None, "s\"1", None));
        let i = NewEntry::from_envelope_text(
            r#"{"envelope_id":"i","type":"interactive","payload":{"type":"block_actions"}}"#,
            0,
        );
        assert_eq!(i.unwrap().event_type.as_deref(), Some("block_actions"));
        for bad in ["", "[]", "{}", "{\"envelope_id\":5}", "not json"] {
            assert!(NewEntry::from_envelope_text(bad, 0).is_none(), "{bad}");
        }
    }

    #[test]
    fn an_entry_round_trips_into_the_event_a_handler_gets() {
        let body = r#"{"envelope_id":"e1","type":"events_api","payload":{"event_id":"Ev1","event":{"type":"message","text":"x"}}}"#;
        let e = NewEntry::from_envelope_text(body, 42).unwrap();
        let map: HashMap<String, Value> = e
            .readable_fields()
            .map(|(k, v)| (k.to_owned(), Value::BulkString(v.as_bytes().to_vec())))
            .collect();
        let ev = FleetEvent::from_entry("1-0".into(), map.clone(), 3).unwrap();
        assert_eq!((ev.event_id.as_deref(), ev.idempotency_key(), ev.attempt), (Some("Ev1"), "Ev1", 3));
        assert_eq!((ev.received_ms, ev.body.as_str()), (42, body));
        assert!(matches!(ev.payload(), Some(Payload::EventsApi(_))));
        assert_eq!(ev.to_json()["envelope"]["payload"]["event_id"], "Ev1");
        let mut missing = map.clone();
        missing.remove(field::BODY);
        assert!(FleetEvent::from_entry("1-0".into(), missing, 1).is_none());
        // As Redis sends them: names and values in turn, read without a map; a field
        // named twice counts once (the last), unknown fields are skipped.
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let mut fields: Vec<Value> = e.readable_fields().flat_map(|(k, v)| [bulk(k), bulk(&v)]).collect();
        fields.extend([Value::SimpleString("extra".into()), Value::Int(1)]);
        fields.extend([bulk("event_type"), bulk("app_mention")]);
        let ev = FleetEvent::from_fields("2-0".into(), fields, 1).unwrap();
        assert_eq!(
            (ev.stream_id.as_str(), ev.event_type.as_deref(), ev.body.as_str()),
            ("2-0", Some("app_mention"), body)
        );
        assert_eq!((ev.envelope_id.as_str(), ev.retry_attempt, ev.received_ms), ("e1", 0, 42));
        let no_body: Vec<Value> = e
            .readable_fields()
            .filter(|(k, _)| *k != field::BODY)
            .flat_map(|(k, v)| [bulk(k), bulk(&v)])
            .collect();
        assert_eq!(FleetEvent::from_fields("3-0".into(), no_body, 1).err().as_deref(), Some("3-0"));
    }

    #[test]
    fn a_compact_entry_carries_every_field_in_three() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let stream_fields = |e: &NewEntry| -> Vec<Value> {
            FIELD_NAMES.into_iter().zip(e.view().values()).flat_map(|(k, v)| [bulk(k), bulk(&v)]).collect()
        };
        let body = r#"{"envelope_id":"e\"1","type":"interactive","retry_attempt":2,"payload":{"type":"block_actions"}}"#;
        let e = NewEntry::from_envelope_text(body, 1_700_000_000_123).unwrap();
        let fields = stream_fields(&e);
        assert_eq!(fields.len(), 6, "three fields: envelope_id, meta, body");
        let ev = FleetEvent::from_fields("1-0".into(), fields, 2).unwrap();
        assert_eq!(
            (ev.event_id, ev.envelope_id.as_str(), ev.envelope_type.as_str()),
            (None, "e\"1", "interactive")
        );
        assert_eq!(
            (ev.event_type.as_deref(), ev.retry_attempt, ev.received_ms),
            (Some("block_actions"), 2, 1_700_000_000_123)
        );
        assert_eq!((ev.body.as_str(), ev.attempt), (body, 2));
        let api = NewEntry::from_envelope_text(
            r#"{"envelope_id":"e2","type":"events_api","payload":{"event_id":"Ev\"2","event":{"type":"message"}}}"#,
            5,
        )
        .unwrap();
        let ev = FleetEvent::from_fields("2-0".into(), stream_fields(&api), 1).unwrap();
        assert_eq!(
            (ev.event_id.as_deref(), ev.event_type.as_deref(), ev.received_ms),
            (Some("Ev\"2"), Some("message"), 5)
        );
        // A meta that is not one: not a fleet entry (dead-lettered), never a panic.
        for bad in ["", "[]", "nope", r#"["a","b","c","x",1]"#, r#"["a","b","c",1]"#] {
            let fields =
                vec![bulk("envelope_id"), bulk("e"), bulk("meta"), bulk(bad), bulk("body"), bulk("{}")];
            assert_eq!(
                FleetEvent::from_fields("3-0".into(), fields, 1).err().as_deref(),
                Some("3-0"),
                "{bad}"
            );
        }
    }
}
