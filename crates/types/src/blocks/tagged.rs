//! The enums keyed by a JSON `type`: known types are typed, any other kept verbatim.

use crate::RawJson;
use std::borrow::Cow;

/// Reads only an object's `type`.
#[derive(serde::Deserialize)]
pub(crate) struct TypeTag<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
}

/// The `type` of a JSON object kept verbatim (`None` if it has none, or is not an object).
pub(crate) fn type_of(raw: &RawJson) -> Option<String> {
    serde_json::from_str::<TypeTag<'_>>(raw.as_str()).ok()?.kind.map(Cow::into_owned)
}

/// Defines an enum of typed structs, each for one JSON `type`, plus `Other(RawJson)` for any
/// other type. Serializes with the `type` first; deserializes the known types into their
/// struct (the `type` key not kept in `extra`), and keeps any other object — or a known type
/// whose fields do not fit its struct — verbatim in `Other`.
macro_rules! tagged {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $tag:literal => $variant:ident($ty:ty), )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize)]
        #[serde(tag = "type")]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $tag)] $variant($ty), )*
            /// Any other type (or a known type that did not fit its struct), kept verbatim.
            #[serde(untagged)]
            Other($crate::RawJson),
        }

        impl $name {
            /// The JSON `type` names this version types.
            pub const KNOWN: &'static [&'static str] = &[$($tag),*];

            /// The JSON `type`.
            pub fn type_name(&self) -> Option<String> {
                match self {
                    $( Self::$variant(_) => Some($tag.to_owned()), )*
                    Self::Other(raw) => $crate::blocks::tagged::type_of(raw),
                }
            }
        }

        impl $name {
            /// Why a verbatim object of a known type did not fit its struct (`None` if it
            /// fits, or its type is not known).
            pub(crate) fn typed_error(raw: &$crate::RawJson) -> Option<String> {
                match $crate::blocks::tagged::type_of(raw).as_deref() {
                    $( Some($tag) => serde_json::from_str::<$ty>(raw.as_str()).err().map(|e| e.to_string()), )*
                    _ => None,
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = $crate::RawJson::deserialize(d)?;
                let kind = $crate::blocks::tagged::type_of(&raw);
                let typed = match kind.as_deref() {
                    $( Some($tag) => serde_json::from_str::<$ty>(raw.as_str()).ok().map(|mut v| {
                        v.extra.remove("type");
                        Self::$variant(v)
                    }), )*
                    _ => None,
                };
                Ok(typed.unwrap_or(Self::Other(raw)))
            }
        }
    };
}
pub(crate) use tagged;
