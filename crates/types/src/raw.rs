use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;

/// A piece of JSON kept verbatim, exactly as it arrived.
///
/// Used for parts of events that are rarely read (such as a message's `blocks`) so that decoding
/// does not pay for them, and for events that could not be typed ([`crate::Event::Unknown`]),
/// so that nothing the server sent is lost. It serializes back as the same JSON.
///
/// It may be a part of a larger text it took over (a Socket Mode envelope's payload inside
/// its frame: [`EnvelopeFrame::take_payload`](crate::socket_mode::EnvelopeFrame::take_payload)),
/// so handing a payload over costs no copy; it compares, hashes and serializes as its own text.
#[derive(Clone)]
pub struct RawJson {
    /// The text that holds the JSON: all of it, or `start..len - tail`.
    text: Box<str>,
    start: u32,
    tail: u32,
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RawJson {}

impl std::hash::Hash for RawJson {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl RawJson {
    /// Wraps a string that must already be valid JSON; returns `None` if it is not.
    pub fn from_json(json: &str) -> Option<Self> {
        serde_json::from_str::<serde::de::IgnoredAny>(json).ok()?;
        Some(Self::whole(json.into()))
    }

    fn whole(text: Box<str>) -> Self {
        Self { text, start: 0, tail: 0 }
    }

    /// The JSON at `range` of `text`, which must be valid JSON at character boundaries:
    /// `text` taken over, no copy (a copy only when the range's ends do not fit in 32 bits).
    // Inlined into `EnvelopeFrame::take_payload` (and on into its callers in other crates).
    #[inline]
    pub(crate) fn within(text: String, range: std::ops::Range<usize>) -> Self {
        let tail = text.len().saturating_sub(range.end);
        match (u32::try_from(range.start), u32::try_from(tail)) {
            (Ok(start), Ok(tail)) if range.start <= range.end && range.end <= text.len() => {
                Self { text: text.into_boxed_str(), start, tail }
            }
            _ => Self::from_trusted(text.get(range).unwrap_or("null")),
        }
    }

    /// Serializes a value into raw JSON.
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self::whole(serde_json::to_string(value)?.into_boxed_str()))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        let end = self.text.len() - self.tail as usize;
        &self.text[self.start as usize..end]
    }

    /// Parses the JSON into a generic [`serde_json::Value`]: `Null` for JSON nested 128 levels
    /// or deeper (serde_json's recursion limit), the only valid JSON it refuses. Frames
    /// decoded by `slack_rtm_codec` never hold such JSON; use [`RawJson::parse`] to see the
    /// error.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.as_str()).unwrap_or(serde_json::Value::Null)
    }

    /// Deserializes the JSON into any type.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.as_str())
    }

    /// Takes over serde_json's allocation: no copy.
    pub(crate) fn from_raw(raw: Box<RawValue>) -> Self {
        Self::whole(raw.into())
    }

    /// Wraps JSON text this crate produced itself (no check, no copy).
    pub(crate) fn from_trusted_string(json: String) -> Self {
        Self::whole(json.into_boxed_str())
    }

    /// The JSON text, taking it over (a copy when it is a part of a larger text).
    pub(crate) fn into_string(self) -> String {
        if self.start == 0 && self.tail == 0 { self.text.into_string() } else { self.as_str().to_owned() }
    }

    pub(crate) fn from_trusted(json: &str) -> Self {
        Self::whole(json.into())
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.as_str())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match RawValue::from_string(self.as_str().to_owned()) {
            Ok(raw) => raw.serialize(serializer),
            Err(e) => Err(serde::ser::Error::custom(e)),
        }
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Box<RawValue> = Deserialize::deserialize(deserializer)?;
        Ok(Self::from_raw(raw))
    }
}
