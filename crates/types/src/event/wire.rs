//! Tolerant field types, for fields that Slack has sent in two forms. Each keeps the form that
//! arrived and writes that form back, so a round trip gives the same JSON.
//!
//! - [`Numeric`]: a JSON number or a numeric string ([`Count`], [`UnixTime`]).
//! - [`Flag`]: a JSON boolean or a number (`"is_mpim": 1`).
//! - [`FileRef`], [`ChannelRef`]: a bare id or the whole object.

use super::{ChannelInfo, FileInfo};
use crate::ids::ChannelId;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// A number that Slack sends as a JSON number in some payloads and as a numeric string in
/// others (`"user_count":"3"`, a channel's `"created":"1448262090"`). The form that arrived is
/// the form written back.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Numeric<T> {
    /// Sent as a number.
    Number(T),
    /// Sent as a string.
    Text(String),
}

/// A count: a non-negative [`Numeric`].
pub type Count = Numeric<u64>;

/// A time in Unix seconds: a [`Numeric`] that may be negative.
pub type UnixTime = Numeric<i64>;

/// The integer types a [`Numeric`] holds (`u64`, `i64`).
pub trait NumericValue:
    Copy + fmt::Display + std::str::FromStr + TryFrom<u64> + TryFrom<i64> + Serialize + private::Sealed
{
}

mod private {
    pub trait Sealed {}
    impl Sealed for u64 {}
    impl Sealed for i64 {}
}

impl NumericValue for u64 {}
impl NumericValue for i64 {}

impl<T: NumericValue> Numeric<T> {
    /// The value, if it is a number or a string holding one.
    pub fn get(&self) -> Option<T> {
        match self {
            Numeric::Number(n) => Some(*n),
            Numeric::Text(s) => s.trim().parse().ok(),
        }
    }
}

impl<T> From<T> for Numeric<T> {
    fn from(n: T) -> Self {
        Numeric::Number(n)
    }
}

impl<T: Serialize> Serialize for Numeric<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Numeric::Number(n) => n.serialize(s),
            Numeric::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de, T: NumericValue> Deserialize<'de> for Numeric<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumericVisitor<T>(PhantomData<T>);

        impl<T: NumericValue> Visitor<'_> for NumericVisitor<T> {
            type Value = Numeric<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer, or a string")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Numeric<T>, E> {
                T::try_from(v)
                    .map(Numeric::Number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Numeric<T>, E> {
                T::try_from(v)
                    .map(Numeric::Number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Numeric<T>, E> {
                Ok(Numeric::Text(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Numeric<T>, E> {
                Ok(Numeric::Text(v))
            }
        }

        d.deserialize_any(NumericVisitor(PhantomData))
    }
}

/// A yes/no that Slack sends as a JSON boolean in most payloads and as a number in some
/// (`"is_mpim": 1` in `mpim_history_changed`). The form that arrived is the form written back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flag {
    /// Sent as a boolean.
    Bool(bool),
    /// Sent as a number (non-zero is yes).
    Number(i64),
}

impl Flag {
    /// Whether it is set.
    pub fn get(self) -> bool {
        match self {
            Flag::Bool(b) => b,
            Flag::Number(n) => n != 0,
        }
    }
}

impl From<bool> for Flag {
    fn from(b: bool) -> Self {
        Flag::Bool(b)
    }
}

impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Flag::Bool(b) => s.serialize_bool(*b),
            Flag::Number(n) => s.serialize_i64(*n),
        }
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FlagVisitor;

        impl Visitor<'_> for FlagVisitor {
            type Value = Flag;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean or an integer")
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag::Bool(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flag, E> {
                Ok(Flag::Number(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                i64::try_from(v)
                    .map(Flag::Number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
        }

        d.deserialize_any(FlagVisitor)
    }
}

/// Defines a field that Slack sends either as a bare id or as the whole object.
macro_rules! id_or_object {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { id: $id:ty, object: $object:ty, expecting: $expecting:literal }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub enum $name {
            /// A bare id.
            Id($id),
            /// The object.
            Info(Box<$object>),
        }

        impl $name {
            /// The id, whichever form arrived.
            pub fn id(&self) -> &str {
                match self {
                    $name::Id(id) => id.as_ref(),
                    $name::Info(info) => info.id.as_ref(),
                }
            }

            /// The object, if that form arrived.
            pub fn info(&self) -> Option<&$object> {
                match self {
                    $name::Id(_) => None,
                    $name::Info(info) => Some(info),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $name::Id(id) => id.serialize(s),
                    $name::Info(info) => info.serialize(s),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct RefVisitor;

                impl<'de> Visitor<'de> for RefVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::Id(<$id>::from(v)))
                    }

                    fn visit_string<E: de::Error>(self, v: String) -> Result<$name, E> {
                        Ok($name::Id(<$id>::from(v)))
                    }

                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$name, A::Error> {
                        let info = <$object as Deserialize>::deserialize(de::value::MapAccessDeserializer::new(map))?;
                        Ok($name::Info(Box::new(info)))
                    }
                }

                d.deserialize_any(RefVisitor)
            }
        }
    };
}

id_or_object! {
    /// A `file` field, which Slack sends either as a bare file id or as a file object. The form
    /// that arrived is the form written back.
    pub enum FileRef { id: String, object: FileInfo, expecting: "a file id or a file object" }
}

id_or_object! {
    /// A `channel` field, which Slack sends either as a bare conversation id (e.g. the documented
    /// `group_joined` example) or as a conversation object. The form that arrived is the form
    /// written back.
    pub enum ChannelRef { id: ChannelId, object: ChannelInfo, expecting: "a channel id or a channel object" }
}

impl ChannelRef {
    /// The conversation id, typed.
    pub fn channel_id(&self) -> &ChannelId {
        match self {
            ChannelRef::Id(id) => id,
            ChannelRef::Info(info) => &info.id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug>(json: &str, want: T) {
        let got: T = serde_json::from_str(json).unwrap();
        assert_eq!(got, want, "{json}");
        assert_eq!(serde_json::to_string(&got).unwrap(), json, "written back in the form that came");
    }

    #[test]
    fn numeric_keeps_its_form() {
        round_trip::<UnixTime>("1448262090", Numeric::Number(1_448_262_090));
        round_trip::<UnixTime>("\"1448262090\"", Numeric::Text("1448262090".into()));
        round_trip::<UnixTime>("-5", Numeric::Number(-5));
        round_trip::<Count>("\"3\"", Numeric::Text("3".into()));
        assert_eq!(UnixTime::Text(" 12 ".into()).get(), Some(12));
        assert_eq!(Count::Text("x".into()).get(), None);
        assert!(serde_json::from_str::<Count>("-1").is_err(), "a count is never negative");
        assert!(serde_json::from_str::<Count>("1.5").is_err());
        assert!(serde_json::from_str::<UnixTime>("18446744073709551615").is_err());
        assert!(serde_json::from_str::<UnixTime>("true").is_err());
    }

    #[test]
    fn flag_keeps_its_form() {
        round_trip("true", Flag::Bool(true));
        round_trip("1", Flag::Number(1));
        round_trip("0", Flag::Number(0));
        assert!(Flag::Number(1).get() && !Flag::Number(0).get() && !Flag::Bool(false).get());
        assert!(serde_json::from_str::<Flag>("\"yes\"").is_err());
        assert!(serde_json::from_str::<Flag>("18446744073709551615").is_err());
    }

    #[test]
    fn channel_ref_takes_both_forms() {
        round_trip("\"G02ELGNBH\"", ChannelRef::Id(ChannelId::new("G02ELGNBH")));
        let r: ChannelRef = serde_json::from_str(r#"{"id":"C1","name":"general","x":1}"#).unwrap();
        assert_eq!(r.id(), "C1");
        assert_eq!(r.channel_id(), &ChannelId::new("C1"));
        assert_eq!(r.info().and_then(|i| i.name.as_deref()), Some("general"));
        assert_eq!(r.info().unwrap().extra.get("x").unwrap().as_str(), "1");
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"id":"C1","name":"general","x":1}"#);
        assert!(serde_json::from_str::<ChannelRef>("5").is_err());
        assert!(serde_json::from_str::<ChannelRef>("{}").is_err(), "an object needs its id");
    }
}
