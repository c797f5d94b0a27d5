//! [`RawJson::with_head`]: a document read once, for a few fields and verbatim.

use crate::RawJson;
use serde::Deserialize;

impl RawJson {
    /// Deserializes `H` (typically a struct of the few fields a caller routes on) from `json`
    /// and keeps the whole text verbatim, in **one** pass: serde_json reads every byte of the
    /// document to build `H` (the fields `H` does not name are skipped, but still checked),
    /// and refuses anything left after it, so a document that yields an `H` is valid JSON.
    /// [`RawJson::from_json`] followed by [`RawJson::parse`] reads it twice.
    ///
    /// ```
    /// # use slack_rtm_types::RawJson;
    /// #[derive(serde::Deserialize)]
    /// struct Head { r#type: String }
    /// let (head, raw) = RawJson::with_head::<Head>(r#"{"type":"event_callback","n":[1,2]}"#).unwrap();
    /// assert_eq!(head.r#type, "event_callback");
    /// assert_eq!(raw.as_str(), r#"{"type":"event_callback","n":[1,2]}"#);
    /// assert!(RawJson::with_head::<Head>(r#"{"type":"x","n":[1,}"#).is_err());
    /// ```
    pub fn with_head<'a, H: Deserialize<'a>>(json: &'a str) -> Result<(H, RawJson), serde_json::Error> {
        if json.trim_ascii().is_empty() {
            // An `H` that reads nothing would leave an empty text: not JSON. serde_json's own
            // error for it.
            serde_json::from_str::<serde::de::IgnoredAny>(json)?;
        }
        let head = serde_json::from_str(json)?;
        Ok((head, RawJson::from_trusted(json)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Head {
        #[serde(rename = "type")]
        kind: Option<String>,
    }

    /// Reads nothing at all: only the document's own validity may refuse it.
    #[derive(Debug)]
    struct Nothing;

    impl<'de> Deserialize<'de> for Nothing {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Ok(Nothing)
        }
    }

    #[test]
    fn what_from_json_refuses_with_head_refuses_too() {
        let bad = [
            "",
            "  ",
            r#"{"type":"a","x":[1,}"#,
            r#"{"type":"a"} trailing"#,
            r#"{"type":"a","x":"unterminated}"#,
            "{\"type\":\"a\",\"x\":\"\u{1}\"}",
            r#"{"type":"a","x":tru}"#,
            r#"{"type":"a","x":{"y":1,}}"#,
            r#"{"type":"a","x":"\q"}"#,
        ];
        for text in bad {
            assert!(RawJson::from_json(text).is_none(), "{text:?}");
            assert!(RawJson::with_head::<Head>(text).is_err(), "{text:?}");
            assert!(RawJson::with_head::<Nothing>(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn the_head_and_the_verbatim_text_in_one_pass() {
        let text = r#" {"x":{"type":"inner","deep":[[[{"a":"\u00e9"}]]]},"type":"outer\n","n":1.5e3} "#;
        let (head, raw) = RawJson::with_head::<Head>(text).unwrap();
        assert_eq!(head, Head { kind: Some("outer\n".to_owned()) });
        assert_eq!(raw.as_str(), text);
        assert_eq!(Some(raw), RawJson::from_json(text));
    }
}
