//! Typed identifiers. Each is a string newtype: it serializes as the plain string Slack uses,
//! and cannot be confused with another kind of id at compile time.
//!
//! Ids and timestamps are short (`U024BE7LH`, `1355517523.000005`), so they are stored inline,
//! without a heap allocation, up to 22 bytes; longer ones (Slack's formats change) go to the
//! heap. Decoding a typical `message` event allocates four times instead of nine.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The longest string kept inline.
const INLINE: usize = 22;

/// A string stored inline when it is at most [`INLINE`] bytes. A given string has exactly one
/// representation (inline if it fits), so comparing representations compares strings.
#[derive(Clone, PartialEq, Eq)]
enum SmallStr {
    /// `buf[..len]` is the string (valid UTF-8: copied from a `&str`); the rest is zeros.
    Inline { len: u8, buf: [u8; INLINE] },
    /// Longer strings.
    Heap(Box<str>),
}

impl SmallStr {
    fn new(s: &str) -> Self {
        if s.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            // `s.len() <= INLINE < 256`.
            SmallStr::Inline { len: s.len() as u8, buf }
        } else {
            SmallStr::Heap(s.into())
        }
    }

    fn from_string(s: String) -> Self {
        if s.len() <= INLINE { Self::new(&s) } else { SmallStr::Heap(s.into_boxed_str()) }
    }

    fn as_str(&self) -> &str {
        match self {
            // The bytes were copied from a `str` at a character boundary (the whole string), so
            // this never fails; the check keeps the crate free of `unsafe`.
            SmallStr::Inline { len, buf } => {
                std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or_default()
            }
            SmallStr::Heap(s) => s,
        }
    }

    /// The length in bytes, without reading the bytes (no UTF-8 check, unlike `as_str`).
    fn len(&self) -> usize {
        match self {
            SmallStr::Inline { len, .. } => usize::from(*len),
            SmallStr::Heap(s) => s.len(),
        }
    }

    fn into_string(self) -> String {
        match self {
            SmallStr::Heap(s) => s.into_string(),
            inline => inline.as_str().to_owned(),
        }
    }
}

impl Hash for SmallStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for SmallStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallStr {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Serialize for SmallStr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SmallStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SmallStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SmallStr, E> {
                Ok(SmallStr::new(v))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<SmallStr, E> {
                Ok(SmallStr::from_string(v))
            }
        }
        deserializer.deserialize_str(V)
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(SmallStr);

        impl $name {
            /// Wraps a string as this id (no validation: Slack's id formats change over time).
            pub fn new(id: impl Into<String>) -> Self {
                Self(SmallStr::from_string(id.into()))
            }
            /// The id as Slack writes it.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
            /// Its length in bytes (cheaper than `as_str().len()`: the inline bytes are not
            /// checked again).
            pub fn len(&self) -> usize {
                self.0.len()
            }
            /// Whether it is the empty string (as cheap as [`len`](Self::len)).
            pub fn is_empty(&self) -> bool {
                self.0.len() == 0
            }
            /// Returns the id as a `String`.
            pub fn into_string(self) -> String {
                self.0.into_string()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(SmallStr::new(s))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(SmallStr::from_string(s))
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

string_id!(
    /// A user id: `U…`, or `W…` for Enterprise Grid users.
    UserId
);
string_id!(
    /// A workspace (team) id: `T…`.
    TeamId
);
string_id!(
    /// A conversation id: public channel `C…`, private `G…`, direct message `D…`.
    ChannelId
);
string_id!(
    /// An Enterprise Grid organisation id: `E…`.
    EnterpriseId
);
string_id!(
    /// A bot id: `B…`.
    BotId
);
string_id!(
    /// A message timestamp such as `"1355517523.000005"`. Always kept as the exact string Slack
    /// sent — never a float, which would lose the digits that make it unique in a channel.
    Ts
);

impl Ts {
    /// The seconds part of the timestamp, if it parses.
    pub fn seconds(&self) -> Option<u64> {
        self.as_str().split('.').next()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
        let mut h = DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn short_and_long_ids_behave_like_strings() {
        let cases = [
            "",
            "U024BE7LH",
            "1355517523.000005",
            "x".repeat(22).as_str(),
            "y".repeat(23).as_str(),
            "ünï©ødé-ïd-lönger-thän-22",
        ]
        .map(str::to_owned);
        for s in &cases {
            let a = Ts::new(s.clone());
            let b = Ts::from(s.as_str());
            assert_eq!(a, b);
            assert_eq!(a.as_str(), s);
            assert_eq!((a.len(), a.is_empty()), (s.len(), s.is_empty()));
            assert_eq!(a.to_string(), *s);
            assert_eq!(a.clone().into_string(), *s);
            // Hashes as the string does (like `String`), whichever representation it uses.
            assert_eq!(hash_of(&a.0), hash_of(s.as_str()));
            assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(s).unwrap());
            let back: Ts = serde_json::from_str(&serde_json::to_string(s).unwrap()).unwrap();
            assert_eq!(back, a);
            assert!(matches!(a.0, SmallStr::Inline { .. }) == (s.len() <= INLINE));
        }
        // Ordering is the strings' ordering, across inline and heap representations.
        let mut ids: Vec<UserId> = cases.iter().map(|s| UserId::new(s.clone())).collect();
        ids.sort();
        let mut strings = cases.to_vec();
        strings.sort();
        assert_eq!(ids.iter().map(UserId::as_str).collect::<Vec<_>>(), strings);
        // Escaped JSON strings (not borrowed by serde) decode the same way.
        let t: Ts = serde_json::from_str(r#""1355517523.\u0030\u003005""#).unwrap();
        assert_eq!(t, "1355517523.0005");
        assert_eq!(Ts::new("1355517523.000005").seconds(), Some(1355517523));
        assert_eq!(format!("{:?}", UserId::new("U1")), r#"UserId("U1")"#);
        assert!(serde_json::from_str::<UserId>("5").is_err());
    }

    #[test]
    fn ids_are_no_bigger_than_a_string() {
        assert_eq!(std::mem::size_of::<Ts>(), std::mem::size_of::<String>());
        assert_eq!(std::mem::size_of::<Option<Ts>>(), std::mem::size_of::<String>());
    }
}
