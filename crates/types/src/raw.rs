use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;

/// A piece of JSON kept verbatim, exactly as it arrived.
///
/// Used for parts of events that are rarely read (such as a message's `blocks`) so that decoding
/// does not pay for them, and for events that could not be typed ([`crate::Event::Unknown`]),
/// so that nothing the server sent is lost. It serializes back as the same JSON.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RawJson(Box<str>);

impl RawJson {
    /// Wraps a string that must already be valid JSON; returns `None` if it is not.
    pub fn from_json(json: &str) -> Option<Self> {
        serde_json::from_str::<serde::de::IgnoredAny>(json).ok()?;
        Some(Self(json.into()))
    }

    /// Serializes a value into raw JSON.
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self(serde_json::to_string(value)?.into_boxed_str()))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses the JSON into a generic [`serde_json::Value`]: `Null` for JSON nested 128 levels
    /// or deeper (serde_json's recursion limit), the only valid JSON it refuses. Frames
    /// decoded by `slack_rtm_codec` never hold such JSON; use [`RawJson::parse`] to see the
    /// error.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }

    /// Deserializes the JSON into any type.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// Takes over serde_json's allocation: no copy.
    pub(crate) fn from_raw(raw: Box<RawValue>) -> Self {
        Self(raw.into())
    }

    /// Wraps JSON text this crate produced itself (no check, no copy).
    pub(crate) fn from_trusted_string(json: String) -> Self {
        Self(json.into_boxed_str())
    }

    /// The JSON text, taking it over.
    pub(crate) fn into_string(self) -> String {
        self.0.into_string()
    }

    pub(crate) fn from_trusted(json: &str) -> Self {
        Self(json.into())
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.0)
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match RawValue::from_string(self.0.to_string()) {
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
