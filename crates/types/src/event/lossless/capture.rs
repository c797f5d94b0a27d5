//! The deserializer wrappers behind [`lossless!`](super::lossless): they watch serde's derived
//! code decode one struct, keep the fields it ignores, and hand them back as one more field.

use super::{EXTRA_KEY, Field, HANDOFF};
use crate::RawJson;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Wraps the deserializer of one struct: keeps the fields its derived code ignores.
pub(crate) struct Capture<D> {
    inner: D,
    /// Whether to drop a top-level `type` instead of keeping it (a whole frame).
    frame: bool,
}

impl<D> Capture<D> {
    /// Wraps `inner`; ignored fields are kept, except a `type` when `frame` is set.
    pub(crate) fn new(inner: D, frame: bool) -> Self {
        Capture { inner, frame }
    }
}

/// Forwards the `deserialize_*` methods that take only a visitor.
macro_rules! forward {
    ($($method:ident)*) => {$(
        #[inline(always)]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.$method(visitor)
        }
    )*};
}

/// Forwards the `deserialize_*` methods that take more than a visitor (but
/// `deserialize_struct` and `deserialize_newtype_struct`), and `is_human_readable`.
macro_rules! forward_compound {
    () => {
        #[inline(always)]
        fn deserialize_unit_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.inner.deserialize_unit_struct(name, visitor)
        }
        #[inline(always)]
        fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.deserialize_tuple(len, visitor)
        }
        #[inline(always)]
        fn deserialize_tuple_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            len: usize,
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.inner.deserialize_tuple_struct(name, len, visitor)
        }
        #[inline(always)]
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.inner.deserialize_enum(name, variants, visitor)
        }
        #[inline(always)]
        fn is_human_readable(&self) -> bool {
            self.inner.is_human_readable()
        }
    };
}

/// Forwards every `deserialize_*` method except `deserialize_struct`, `deserialize_ignored_any`
/// and `deserialize_newtype_struct`, which each wrapper writes itself.
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
        forward_compound!();
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Capture<D> {
    type Error = D::Error;

    #[inline(always)]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = CaptureVisitor { inner: visitor, frame: self.frame };
        self.inner.deserialize_struct(name, fields, visitor)
    }

    #[inline(always)]
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_ignored_any(visitor)
    }

    #[inline(always)]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_newtype_struct(name, visitor)
    }

    forward_rest!();
}

struct CaptureVisitor<V> {
    inner: V,
    frame: bool,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for CaptureVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    #[inline(always)]
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(CaptureMap {
            inner: map,
            kept: Vec::new(),
            frame: self.frame,
            key: None,
            state: State::Fields,
        })
    }

    /// Serde's derived code would also read a struct from an array of its fields in order; a
    /// JSON array is never one of Slack's objects, and reading it so would not give it back.
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Seq, &self))
    }
}

/// Where a [`CaptureMap`] is in its object.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the object's own fields.
    Fields,
    /// The object ended; [`EXTRA_KEY`] was given as one more key, its value is next.
    HandOff,
    /// Done.
    End,
}

struct CaptureMap<'de, A> {
    inner: A,
    /// The fields kept so far: key, JSON text.
    kept: Vec<Field>,
    frame: bool,
    /// The key just read, until its value is read.
    key: Option<Cow<'de, str>>,
    state: State,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for CaptureMap<'de, A> {
    type Error = A::Error;

    #[inline(always)]
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        if self.state != State::Fields {
            self.state = State::End;
            return Ok(None);
        }
        let mut seed = Some(seed);
        if let Some(key) = self.inner.next_key_seed(KeySeed { seed: &mut seed, slot: &mut self.key })? {
            return Ok(Some(key));
        }
        // The object ended (the seed was not used): hand the kept fields over as one more
        // field, if there are any (the derived code defaults a missing one to empty).
        if self.kept.is_empty() {
            self.state = State::End;
            return Ok(None);
        }
        self.state = State::HandOff;
        match seed {
            Some(seed) => seed.deserialize(de::value::BorrowedStrDeserializer::new(EXTRA_KEY)).map(Some),
            None => Err(de::Error::custom("map key seed used without a key")),
        }
    }

    #[inline(always)]
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        if self.state == State::HandOff {
            self.state = State::End;
            let kept = std::mem::take(&mut self.kept);
            return seed.deserialize(HandOff { kept, error: std::marker::PhantomData });
        }
        let value = ValueSeed { inner: seed, key: self.key.take(), frame: self.frame, kept: &mut self.kept };
        self.inner.next_value_seed(value)
    }

    #[inline(always)]
    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint().map(|n| n + 1)
    }
}

/// Records the key as it is read.
struct KeySeed<'a, 'de, K> {
    /// Taken when a key is read; left in place when the object has ended.
    seed: &'a mut Option<K>,
    slot: &'a mut Option<Cow<'de, str>>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, 'de, K> {
    type Value = K::Value;

    #[inline(always)]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        match self.seed.take() {
            Some(seed) => seed.deserialize(KeyDe { inner: d, slot: self.slot }),
            None => Err(de::Error::custom("map key seed used twice")),
        }
    }
}

struct KeyDe<'a, 'de, D> {
    inner: D,
    slot: &'a mut Option<Cow<'de, str>>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, 'de, D> {
    type Error = D::Error;

    #[inline(always)]
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_identifier(KeyVisitor { inner: visitor, slot: self.slot })
    }

    #[inline(always)]
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_str(KeyVisitor { inner: visitor, slot: self.slot })
    }

    #[inline(always)]
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_string(KeyVisitor { inner: visitor, slot: self.slot })
    }

    #[inline(always)]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(KeyVisitor { inner: visitor, slot: self.slot })
    }

    #[inline(always)]
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
    forward_compound!();
    #[inline(always)]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_newtype_struct(name, visitor)
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

    #[inline(always)]
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        *self.slot = Some(Cow::Borrowed(v));
        self.inner.visit_borrowed_str(v)
    }

    #[inline(always)]
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        *self.slot = Some(Cow::Owned(v.to_owned()));
        self.inner.visit_str(v)
    }

    #[inline(always)]
    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        *self.slot = Some(Cow::Owned(v.clone()));
        self.inner.visit_string(v)
    }

    #[inline(always)]
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        *self.slot = Some(Cow::Owned(v.to_string()));
        self.inner.visit_u64(v)
    }

    #[inline(always)]
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        *self.slot = Some(String::from_utf8_lossy(v).into_owned().into());
        self.inner.visit_bytes(v)
    }

    #[inline(always)]
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        *self.slot = Some(String::from_utf8_lossy(v).into_owned().into());
        self.inner.visit_borrowed_bytes(v)
    }

    #[inline(always)]
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        *self.slot = Some(String::from_utf8_lossy(&v).into_owned().into());
        self.inner.visit_byte_buf(v)
    }
}

/// Deserializes a value; if the derived code ignores it, keeps it under its key instead.
struct ValueSeed<'a, 'de, S> {
    inner: S,
    key: Option<Cow<'de, str>>,
    frame: bool,
    kept: &'a mut Vec<Field>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for ValueSeed<'_, 'de, S> {
    type Value = S::Value;

    #[inline(always)]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(ValueDe { inner: d, key: self.key, frame: self.frame, kept: self.kept })
    }
}

struct ValueDe<'a, 'de, D> {
    inner: D,
    key: Option<Cow<'de, str>>,
    frame: bool,
    kept: &'a mut Vec<Field>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ValueDe<'_, 'de, D> {
    type Error = D::Error;

    #[inline(always)]
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        match self.key {
            // A frame's own `type` is the event's variant, not a field to keep.
            Some(key) if !(self.frame && key == "type") => {
                let raw = RawJson::from_raw(Box::<RawValue>::deserialize(self.inner)?);
                self.kept.push((key.into(), raw));
                // The derived code asked for an `IgnoredAny`, which accepts a unit.
                visitor.visit_unit()
            }
            _ => self.inner.deserialize_ignored_any(visitor),
        }
    }

    #[inline(always)]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_struct(name, fields, visitor)
    }

    #[inline(always)]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        if name == HANDOFF {
            // The object itself has the key reserved for the hand-off: refuse it rather than
            // mistake its value for the kept fields.
            return Err(de::Error::custom(format_args!("reserved key {EXTRA_KEY:?}")));
        }
        self.inner.deserialize_newtype_struct(name, visitor)
    }

    forward_rest!();
}

/// Hands the kept fields to [`Extra`]'s deserializer, as a sequence of strings (key, JSON
/// text, ...), without copying them.
struct HandOff<E> {
    kept: Vec<Field>,
    error: std::marker::PhantomData<E>,
}

impl<'de, E: de::Error> Deserializer<'de> for HandOff<E> {
    type Error = E;

    #[inline(always)]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        let len = self.kept.len() * 2;
        let items = self.kept.into_iter().flat_map(|(k, v)| [k.into_string(), v.into_string()]);
        let mut seq = de::value::SeqDeserializer::<_, E>::new(items);
        let value = visitor.visit_seq(&mut seq)?;
        seq.end().map_err(|_| de::Error::invalid_length(len, &"the kept fields"))?;
        Ok(value)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}
