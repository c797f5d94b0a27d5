//! Lossless decoding: every typed event and nested object keeps the fields it does not model.
//!
//! # The mechanism
//!
//! A struct is defined through `lossless!`, which adds a last field `pub extra: Extra` and
//! implements serde's traits. On decode, serde's derived visitor for the struct runs unchanged
//! (one pass, its own field matching, no buffering) over a deserializer wrapper that watches
//! it ([`Capture`]):
//!
//! - every key is noted as it is read (a borrowed `&str`: no copy);
//! - the derived code hands the value of a field it does not know to `IgnoredAny`, which
//!   reaches the wrapper as `deserialize_ignored_any`: the wrapper keeps that value's JSON text
//!   instead ([`RawJson`], taken over from serde_json's `RawValue` without a copy) under the
//!   noted key;
//! - at the end of the object, the wrapper hands the kept fields to the derived code as one
//!   more field (a key no JSON object of Slack's has), so the struct is built with its `extra`
//!   in place, in one go: no second pass, no move of the finished struct.
//!
//! A frame whose fields are all modelled costs a few extra instructions per field and no
//! allocation (an empty [`Extra`] does not allocate). On encode, `extra` is flattened back after
//! the typed fields.
//!
//! `#[serde(flatten)]` into a map on the decode side would be simpler, but serde then buffers
//! every field of the struct into its internal `Content` tree before matching them: measured on
//! `user_typing` and `reaction_added`, that costs two to five times the wrapper's overhead
//! (see `docs/perf/history-2026-12-01.md`). The flatten here is serialize-only, which serde implements
//! without buffering.

mod capture;

pub(crate) use capture::Capture;

use crate::RawJson;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// The fields of an object that its type does not model, in the order they came, each kept as
/// raw JSON. Serializing the object writes them back after its typed fields.
///
/// One pointer wide (a frame with no such field does not allocate), so it adds little to the
/// size of the structs that hold it.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
#[allow(clippy::box_collection, reason = "one pointer wide, where a `Vec` is three: it is in every struct")]
pub struct Extra(Option<Box<Vec<Field>>>);

/// One kept field: its key and its JSON text.
pub(crate) type Field = (Box<str>, RawJson);

impl Extra {
    /// No fields.
    pub const fn new() -> Self {
        Extra(None)
    }

    /// Keeps `fields` (no allocation when empty).
    pub(crate) fn from_vec(fields: Vec<Field>) -> Self {
        if fields.is_empty() { Extra(None) } else { Extra(Some(Box::new(fields))) }
    }

    fn fields(&self) -> &[Field] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.fields().len()
    }

    /// The raw JSON of a field, if present.
    pub fn get(&self, key: &str) -> Option<&RawJson> {
        self.fields().iter().find(|(k, _)| &**k == key).map(|(_, v)| v)
    }

    /// A field parsed into a [`serde_json::Value`] (see [`RawJson::to_value`]), if present.
    pub fn value(&self, key: &str) -> Option<serde_json::Value> {
        self.get(key).map(RawJson::to_value)
    }

    /// Whether a field is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets a field, replacing a previous value of the same key; returns the previous value.
    pub fn insert(&mut self, key: impl Into<Box<str>>, value: RawJson) -> Option<RawJson> {
        let key = key.into();
        let fields = self.0.get_or_insert_with(Box::default);
        match fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                fields.push((key, value));
                None
            }
        }
    }

    /// Removes a field, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<RawJson> {
        let fields = self.0.as_mut()?;
        let i = fields.iter().position(|(k, _)| &**k == key)?;
        let (_, value) = fields.remove(i);
        if fields.is_empty() {
            self.0 = None;
        }
        Some(value)
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawJson)> {
        self.fields().iter().map(|(k, v)| (&**k, v))
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.fields() {
            map.serialize_entry(&**k, v)?;
        }
        map.end()
    }
}

/// The key under which [`Capture`] hands a struct's kept fields to its derived code (the
/// `rename` of the mirror's `extra` field in `lossless!` must be the same literal).
pub(crate) const EXTRA_KEY: &str = "\u{0}slack_rtm_extra";

/// The newtype name [`Extra`] asks for, so that the hand-off can answer with the kept fields.
pub(crate) const HANDOFF: &str = "\u{0}slack_rtm_extra_handoff";

impl<'de> Deserialize<'de> for Extra {
    /// Reads any JSON object, keeping every field.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_newtype_struct(HANDOFF, ExtraVisitor)
    }
}

struct ExtraVisitor;

impl<'de> Visitor<'de> for ExtraVisitor {
    type Value = Extra;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Extra, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Extra, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            out.push((key.into(), map.next_value::<RawJson>()?));
        }
        Ok(Extra::from_vec(out))
    }

    /// Only [`HandOff`] answers with a sequence: key, JSON text, key, JSON text, ...
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Extra, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0) / 2);
        while let Some(key) = seq.next_element::<String>()? {
            let Some(json) = seq.next_element::<String>()? else {
                return Err(de::Error::invalid_length(out.len() * 2 + 1, &self));
            };
            out.push((key.into_boxed_str(), RawJson::from_trusted_string(json)));
        }
        Ok(Extra::from_vec(out))
    }
}

/// Defines a struct whose decoding keeps every field it does not model in a generated
/// `pub extra: Extra` field (the last one), and implements `Serialize` (typed fields, then
/// `extra`), `Deserialize` (through [`Capture`]) and [`Payload`] for it.
///
/// Inside, a private mirror of the struct derives `Deserialize` with
/// `#[serde(remote = "...")]`: serde's derived code then builds the public struct directly, and
/// the public struct has no inherent `deserialize` that would bypass the capture.
///
/// `fast_frame: path;` before the struct names a reader tried first on a whole frame (it
/// gives `None` to leave the frame to the serde decode, see `message_fast`).
macro_rules! lossless {
    (fast_frame: $fast:path; $($rest:tt)*) => {
        $crate::event::lossless::lossless!(@with [$fast] $($rest)*);
    };
    (@with [$($fast:path)?]
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(serde::Serialize)]
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field : $fty, )*
            /// Every field this type does not model, as it came (see [`Extra`](crate::event::Extra)).
            #[serde(flatten)]
            pub extra: $crate::event::Extra,
        }

        const _: () = {
            type Public = $name;

            #[derive(serde::Deserialize)]
            #[serde(remote = "Public")]
            #[allow(dead_code)]
            struct Wire {
                $( $(#[$fmeta])* $fvis $field : $fty, )*
                // `lossless::EXTRA_KEY`.
                #[serde(rename = "\u{0}slack_rtm_extra", default)]
                extra: $crate::event::Extra,
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    Wire::deserialize($crate::event::lossless::Capture::new(d, false))
                }
            }

            /// The serde decode of a whole frame.
            fn serde_frame(text: &str) -> Result<Public, serde_json::Error> {
                let mut de = serde_json::Deserializer::from_str(text);
                let value = Wire::deserialize($crate::event::lossless::Capture::new(&mut de, true))?;
                de.end()?;
                Ok(value)
            }

            impl $crate::event::lossless::Payload for $name {
                fn from_frame(text: &str) -> Result<Self, serde_json::Error> {
                    $( if let Some(value) = $fast(text) {
                        return Ok(*value);
                    } )?
                    serde_frame(text)
                }
                $(
                    fn from_frame_boxed(text: &str) -> Result<Box<Self>, serde_json::Error> {
                        if let Some(value) = $fast(text) {
                            return Ok(value);
                        }
                        serde_frame(text).map(Box::new)
                    }
                )?
            }

            $(
                #[cfg(test)]
                impl $name {
                    /// The serde decode of a whole frame, without the reader tried first.
                    pub(crate) fn from_frame_serde(text: &str) -> Result<Self, serde_json::Error> {
                        let _first: fn(&str) -> Option<Box<Self>> = $fast;
                        serde_frame(text)
                    }
                }
            )?
        };
    };
    ($($rest:tt)*) => {
        $crate::event::lossless::lossless!(@with [] $($rest)*);
    };
}
pub(crate) use lossless;

/// An event payload decoded from a whole frame: its top-level `type` is the [`Event`]
/// variant, written back by the variant's serializer, so it is not kept in `extra`.
///
/// [`Event`]: super::Event
pub(crate) trait Payload: Sized {
    /// Decodes the payload from the frame's text.
    fn from_frame(text: &str) -> Result<Self, serde_json::Error>;

    /// Decodes the payload into a box (a type may build it there rather than move it in).
    fn from_frame_boxed(text: &str) -> Result<Box<Self>, serde_json::Error> {
        Self::from_frame(text).map(Box::new)
    }
}

impl<T: Payload> Payload for Box<T> {
    fn from_frame(text: &str) -> Result<Self, serde_json::Error> {
        T::from_frame_boxed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    lossless! {
        #[derive(Debug, PartialEq)]
        struct Probe {
            a: u32,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            b: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            inner: Option<Box<Probe>>,
        }
    }

    #[test]
    fn keeps_unknown_fields_in_order_and_writes_them_back() {
        let text = r#"{"z":[1,{"x":null}],"a":1,"e\u0301":"é","inner":{"a":2,"q":true},"n":null,"b":"x"}"#;
        let p: Probe = serde_json::from_str(text).unwrap();
        assert_eq!(p.a, 1);
        assert_eq!(p.b.as_deref(), Some("x"));
        let keys: Vec<&str> = p.extra.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["z", "e\u{301}", "n"]);
        assert_eq!(p.extra.get("z").unwrap().as_str(), r#"[1,{"x":null}]"#);
        assert_eq!(p.extra.get("n").unwrap().as_str(), "null");
        let inner = p.inner.as_ref().unwrap();
        assert_eq!(inner.extra.get("q").unwrap().as_str(), "true");
        assert!(inner.extra.get("z").is_none(), "fields stay with their own object");
        let back: serde_json::Value = serde_json::to_value(&p).unwrap();
        let original: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn works_from_a_value_too_and_errors_stay_errors() {
        let v = serde_json::json!({"a": 3, "k": {"deep": [1, 2]}});
        let p: Probe = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(p.extra.value("k"), Some(serde_json::json!({"deep": [1, 2]})));
        assert_eq!(serde_json::to_value(&p).unwrap(), v);
        let p = Probe::deserialize(&v).unwrap();
        assert_eq!(p.a, 3);
        assert!(
            serde_json::from_str::<Probe>(r#"{"b":"x","k":1}"#)
                .unwrap_err()
                .to_string()
                .contains("missing field `a`")
        );
        assert!(serde_json::from_str::<Probe>(r#"{"a":"x"}"#).is_err());
        assert!(serde_json::from_str::<Probe>("[1]").is_err(), "an array is not a struct");
        assert!(serde_json::from_str::<Probe>(r#"{"a":1,"k":}"#).is_err());
    }

    #[test]
    fn the_hand_off_key_in_a_frame_is_refused_not_misread() {
        for text in [
            r#"{"a":1,"\u0000slack_rtm_extra":{"x":1}}"#,
            r#"{"a":1,"\u0000slack_rtm_extra":{"x":1},"z":2}"#,
            r#"{"a":1,"z":2,"\u0000slack_rtm_extra":[]}"#,
        ] {
            let err = serde_json::from_str::<Probe>(text).unwrap_err().to_string();
            assert!(err.contains("slack_rtm_extra"), "{text}: {err}");
        }
        // At the event level that is a shape error: the frame is kept whole.
        let frame = r#"{"type":"user_typing","channel":"C1","user":"U1","\u0000slack_rtm_extra":{"x":1}}"#;
        match crate::Event::from_json(frame).unwrap() {
            crate::Event::Unknown { raw, shape_error: Some(_), .. } => assert_eq!(raw.as_str(), frame),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn extra_edits() {
        let mut e = Extra::new();
        assert!(e.is_empty());
        assert_eq!(e.insert("a", RawJson::from_json("1").unwrap()), None);
        assert_eq!(e.insert("a", RawJson::from_json("2").unwrap()).unwrap().as_str(), "1");
        assert_eq!(e.len(), 1);
        assert!(e.contains_key("a"));
        assert_eq!(format!("{e:?}"), "{\"a\": RawJson(2)}");
        assert_eq!(e.remove("a").unwrap().as_str(), "2");
        assert!(e.is_empty());
        let parsed: Extra = serde_json::from_str(r#"{"x":1,"y":[true]}"#).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), r#"{"x":1,"y":[true]}"#);
    }
}
