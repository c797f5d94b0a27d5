//! Lossless decoding: every typed event and nested object keeps the fields it does not model.
//!
//! # The mechanism
//!
//! A struct is defined through `lossless!`, which adds a last field `pub extra: Extra` and
//! implements serde's traits. On decode, serde's derived visitor for the struct runs unchanged
//! (one pass, its own field matching, no buffering) over a deserializer wrapper that watches
//! it: the derived code hands every field it does not know to `IgnoredAny`, which reaches the
//! wrapper as `deserialize_ignored_any`, and the wrapper keeps that value's JSON text
//! ([`RawJson`], taken over from serde_json's `RawValue` without a copy) under the key it
//! recorded when the key was read. A frame whose fields are all modelled costs nothing more than
//! before: no allocation (an empty [`Extra`] does not allocate) and no second comparison of
//! keys. On encode, `extra` is flattened back after the typed fields.
//!
//! `#[serde(flatten)]` into a map on the decode side would be simpler, but it makes serde
//! buffer every field of the struct into its internal `Content` tree before matching them,
//! which is several times slower on the hot path (see `docs/benchmarks.md`); the flatten here is
//! serialize-only, which serde implements without buffering.

use crate::RawJson;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// The fields of an object that its type does not model, in the order they came, each kept as
/// raw JSON. Serializing the object writes them back after its typed fields.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Extra(Vec<(Box<str>, RawJson)>);

impl Extra {
    /// No fields.
    pub const fn new() -> Self {
        Extra(Vec::new())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The raw JSON of a field, if present.
    pub fn get(&self, key: &str) -> Option<&RawJson> {
        self.0.iter().find(|(k, _)| &**k == key).map(|(_, v)| v)
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
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Removes a field, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<RawJson> {
        let i = self.0.iter().position(|(k, _)| &**k == key)?;
        Some(self.0.remove(i).1)
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawJson)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(&**k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Extra {
    /// Reads any JSON object, keeping every field.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ExtraVisitor;
        impl<'de> Visitor<'de> for ExtraVisitor {
            type Value = Extra;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Extra, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    out.push((key.into(), map.next_value::<RawJson>()?));
                }
                Ok(Extra(out))
            }
        }
        d.deserialize_map(ExtraVisitor)
    }
}

/// Defines a struct whose decoding keeps every field it does not model in a generated
/// `pub extra: Extra` field (the last one), and implements `Serialize` (typed fields, then
/// `extra`), `Deserialize` (through [`Capture`]) and [`Payload`] for it.
///
/// Inside, a private mirror of the struct derives `Deserialize` with
/// `#[serde(remote = "...")]`: serde's derived code then builds the public struct directly, and
/// the public struct has no inherent `deserialize` that would bypass the capture.
macro_rules! lossless {
    (
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
                #[serde(skip_deserializing)]
                extra: $crate::event::Extra,
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    let mut extra = $crate::event::Extra::new();
                    let mut value = Wire::deserialize($crate::event::lossless::Capture::new(d, &mut extra, false))?;
                    value.extra = extra;
                    Ok(value)
                }
            }

            impl $crate::event::lossless::Payload for $name {
                fn from_frame(text: &str) -> Result<Self, serde_json::Error> {
                    let mut extra = $crate::event::Extra::new();
                    let mut de = serde_json::Deserializer::from_str(text);
                    let mut value = Wire::deserialize($crate::event::lossless::Capture::new(&mut de, &mut extra, true))?;
                    de.end()?;
                    value.extra = extra;
                    Ok(value)
                }
            }
        };
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
}

impl<T: Payload> Payload for Box<T> {
    fn from_frame(text: &str) -> Result<Self, serde_json::Error> {
        T::from_frame(text).map(Box::new)
    }
}

/// Wraps the deserializer of one struct: keeps the fields its derived code ignores.
pub(crate) struct Capture<'a, D> {
    inner: D,
    extra: &'a mut Extra,
    /// Whether to drop a top-level `type` instead of keeping it (a whole frame).
    frame: bool,
}

impl<'a, D> Capture<'a, D> {
    /// Wraps `inner`; ignored fields go to `extra`, except a `type` when `frame` is set.
    pub(crate) fn new(inner: D, extra: &'a mut Extra, frame: bool) -> Self {
        Capture { inner, extra, frame }
    }
}

/// Forwards the `deserialize_*` methods that take only a visitor.
macro_rules! forward {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.$method(visitor)
        }
    )*};
}

/// Forwards every `deserialize_*` method except the ones listed before it in the impl.
macro_rules! forward_rest {
    () => {
        forward! {
            deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
            deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
            deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
            deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
            deserialize_option deserialize_unit deserialize_seq deserialize_map
            deserialize_identifier
        }
        fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.deserialize_unit_struct(name, visitor)
        }
        fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.deserialize_newtype_struct(name, visitor)
        }
        fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.deserialize_tuple(len, visitor)
        }
        fn deserialize_tuple_struct<V: Visitor<'de>>(self, name: &'static str, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.deserialize_tuple_struct(name, len, visitor)
        }
        fn deserialize_enum<V: Visitor<'de>>(self, name: &'static str, variants: &'static [&'static str], visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.deserialize_enum(name, variants, visitor)
        }
        fn is_human_readable(&self) -> bool {
            self.inner.is_human_readable()
        }
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Capture<'_, D> {
    type Error = D::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = CaptureVisitor { inner: visitor, extra: self.extra, frame: self.frame };
        self.inner.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_ignored_any(visitor)
    }

    forward_rest!();
}

struct CaptureVisitor<'a, V> {
    inner: V,
    extra: &'a mut Extra,
    frame: bool,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for CaptureVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(CaptureMap { inner: map, extra: self.extra, frame: self.frame, key: None })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(seq)
    }
}

struct CaptureMap<'a, 'de, A> {
    inner: A,
    extra: &'a mut Extra,
    frame: bool,
    /// The key just read, until its value is read.
    key: Option<Cow<'de, str>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for CaptureMap<'_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(KeySeed { inner: seed, slot: &mut self.key })
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        let key = match self.key.take() {
            Some(key) if self.frame && key == "type" => None,
            key => key,
        };
        self.inner.next_value_seed(ValueSeed { inner: seed, key, extra: self.extra })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Records the key as it is read.
struct KeySeed<'a, 'de, K> {
    inner: K,
    slot: &'a mut Option<Cow<'de, str>>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, 'de, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        self.inner.deserialize(KeyDe { inner: d, slot: self.slot })
    }
}

struct KeyDe<'a, 'de, D> {
    inner: D,
    slot: &'a mut Option<Cow<'de, str>>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, 'de, D> {
    type Error = D::Error;

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_identifier(KeyVisitor { inner: visitor, slot: self.slot })
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_str(KeyVisitor { inner: visitor, slot: self.slot })
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_string(KeyVisitor { inner: visitor, slot: self.slot })
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(KeyVisitor { inner: visitor, slot: self.slot })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_struct(name, fields, visitor)
    }

    forward! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes
        deserialize_byte_buf deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_ignored_any
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_unit_struct(name, visitor)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_newtype_struct(name, visitor)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_tuple(len, visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(self, name: &'static str, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_tuple_struct(name, len, visitor)
    }
    fn deserialize_enum<V: Visitor<'de>>(self, name: &'static str, variants: &'static [&'static str], visitor: V) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_enum(name, variants, visitor)
    }
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Passes a key through to the derived field visitor, remembering its text.
struct KeyVisitor<'a, 'de, V> {
    inner: V,
    slot: &'a mut Option<Cow<'de, str>>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        *self.slot = Some(Cow::Borrowed(v));
        self.inner.visit_borrowed_str(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        *self.slot = Some(Cow::Owned(v.to_owned()));
        self.inner.visit_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        *self.slot = Some(Cow::Owned(v.clone()));
        self.inner.visit_string(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        *self.slot = Some(Cow::Owned(v.to_string()));
        self.inner.visit_u64(v)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        *self.slot = Some(String::from_utf8_lossy(v).into_owned().into());
        self.inner.visit_bytes(v)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        *self.slot = Some(String::from_utf8_lossy(v).into_owned().into());
        self.inner.visit_borrowed_bytes(v)
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        *self.slot = Some(String::from_utf8_lossy(&v).into_owned().into());
        self.inner.visit_byte_buf(v)
    }
}

/// Deserializes a value; if the derived code ignores it, keeps it under its key instead.
struct ValueSeed<'a, 'de, S> {
    inner: S,
    key: Option<Cow<'de, str>>,
    extra: &'a mut Extra,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for ValueSeed<'_, 'de, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(ValueDe { inner: d, key: self.key, extra: self.extra })
    }
}

struct ValueDe<'a, 'de, D> {
    inner: D,
    key: Option<Cow<'de, str>>,
    extra: &'a mut Extra,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ValueDe<'_, 'de, D> {
    type Error = D::Error;

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let Some(key) = self.key else {
            // A frame's own `type`: skip as asked.
            return self.inner.deserialize_ignored_any(visitor);
        };
        let raw = RawJson::from_raw(Box::<RawValue>::deserialize(self.inner)?);
        self.extra.0.push((key.into(), raw));
        // The derived code asked for an `IgnoredAny`, which accepts a unit.
        visitor.visit_unit()
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_struct(name, fields, visitor)
    }

    forward_rest!();
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
        assert!(serde_json::from_str::<Probe>(r#"{"b":"x","k":1}"#).unwrap_err().to_string().contains("missing field `a`"));
        assert!(serde_json::from_str::<Probe>(r#"{"a":"x"}"#).is_err());
        assert!(serde_json::from_str::<Probe>(r#"{"a":1,"k":}"#).is_err());
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
