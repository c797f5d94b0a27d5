//! An entry as a gateway appends it, borrowed from the envelope's text: the body (kilobytes)
//! is not copied on its way to Redis, and the ids only when they carry escapes.

use crate::entry::{NewEntry, field};
use std::borrow::Cow;

/// How many fields a gateway writes per stream entry.
pub(crate) const FIELD_COUNT: usize = 3;

/// The names of the fields a gateway writes, in `XADD` order. `envelope_id` and `body` keep
/// their own fields, so a worker of an older version (which needs those two) still reads them.
pub(crate) const FIELD_NAMES: [&str; FIELD_COUNT] = [field::ENVELOPE_ID, field::META, field::BODY];

/// A [`NewEntry`], borrowed.
pub(crate) struct EntryView<'a> {
    pub event_id: Option<Cow<'a, str>>,
    pub envelope_id: Cow<'a, str>,
    pub envelope_type: Cow<'a, str>,
    pub event_type: Option<Cow<'a, str>>,
    pub retry_attempt: u32,
    pub received_ms: u64,
    pub body: &'a str,
}

impl<'a> EntryView<'a> {
    /// Reads what the entry needs from an envelope's text with one light pass (the payload is
    /// not decoded): `None` if it is not a JSON object with an `envelope_id`.
    pub fn parse(body: &'a str, received_ms: u64) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct Peek<'a> {
            #[serde(borrow)]
            envelope_id: Cow<'a, str>,
            #[serde(rename = "type", borrow, default)]
            envelope_type: Option<Cow<'a, str>>,
            #[serde(default)]
            retry_attempt: Option<u32>,
            #[serde(borrow, default)]
            payload: Option<PeekPayload<'a>>,
        }
        #[derive(serde::Deserialize)]
        struct PeekPayload<'a> {
            #[serde(borrow, default)]
            event_id: Option<Cow<'a, str>>,
            #[serde(rename = "type", borrow, default)]
            payload_type: Option<Cow<'a, str>>,
            #[serde(borrow, default)]
            event: Option<PeekEvent<'a>>,
        }
        #[derive(serde::Deserialize)]
        struct PeekEvent<'a> {
            #[serde(rename = "type", borrow, default)]
            event_type: Option<Cow<'a, str>>,
        }
        let p: Peek<'a> = serde_json::from_str(body).ok()?;
        let envelope_type = p.envelope_type.unwrap_or_default();
        let (event_id, event_type) = match p.payload {
            Some(pl) => {
                let event_type = match envelope_type.as_ref() {
                    "events_api" => pl.event.and_then(|e| e.event_type),
                    "interactive" => pl.payload_type,
                    _ => None,
                };
                (pl.event_id.filter(|id| !id.is_empty()), event_type)
            }
            None => (None, None),
        };
        Some(Self {
            event_id,
            envelope_id: p.envelope_id,
            envelope_type,
            event_type,
            retry_attempt: p.retry_attempt.unwrap_or(0),
            received_ms,
            body,
        })
    }

    /// The owned entry.
    pub fn into_owned(self) -> NewEntry {
        NewEntry {
            event_id: self.event_id.map(Cow::into_owned),
            envelope_id: self.envelope_id.into_owned(),
            envelope_type: self.envelope_type.into_owned(),
            event_type: self.event_type.map(Cow::into_owned),
            retry_attempt: self.retry_attempt,
            received_ms: self.received_ms,
            body: self.body.to_owned(),
        }
    }

    /// The values of the stream entry's fields, in the order of [`FIELD_NAMES`]: three
    /// fields, the small ones in one (each field costs Redis an argument to parse, a Lua
    /// string, a listpack element, an AOF item and a reply item, and the worker a value to
    /// parse).
    #[cfg(test)]
    pub fn values(&self) -> [Cow<'_, str>; FIELD_COUNT] {
        [Cow::Borrowed(self.envelope_id.as_ref()), Cow::Owned(self.meta()), Cow::Borrowed(self.body)]
    }

    /// The `meta` field: `[event_id, type, event_type, retry_attempt, received_ms]`.
    #[cfg(test)]
    fn meta(&self) -> String {
        let mut meta = String::new();
        self.write_meta(&mut meta);
        meta
    }

    /// [`EntryView::meta`], written at the end of `out` (a buffer the caller reuses).
    pub(crate) fn write_meta(&self, out: &mut String) {
        let meta = (
            self.event_id.as_deref().unwrap_or_default(),
            self.envelope_type.as_ref(),
            self.event_type.as_deref().unwrap_or_default(),
            self.retry_attempt,
            self.received_ms,
        );
        let mut bytes = std::mem::take(out).into_bytes();
        // A tuple of strings and integers always serialises, as UTF-8.
        let _ = serde_json::to_writer(&mut bytes, &meta);
        *out = String::from_utf8(bytes).unwrap_or_default();
    }
}
