//! [`RawJson::with_events_api_head`]: an Events API body's routing fields and its validity,
//! in one hand-written pass that answers what serde_json answers.

mod walk;

#[cfg(test)]
mod prop;
#[cfg(test)]
mod tests;

use crate::RawJson;
use serde::Deserialize;
use std::borrow::Cow;

/// The fields an Events API request body (what Slack posts to a Request URL) is routed on.
///
/// Each is `None` when the body does not have it or has it as `null`. Borrowed from the text
/// unless it was written with escapes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventsApiHead<'a> {
    /// The top-level `type`: `event_callback`, `url_verification`, `app_rate_limited`, …
    pub kind: Option<Cow<'a, str>>,
    /// `url_verification`'s `challenge`.
    pub challenge: Option<Cow<'a, str>>,
    /// `event_callback`'s `event_id`.
    pub event_id: Option<Cow<'a, str>>,
    /// The inner event's type (`event.type`); `None` also when `event` is absent or `null`.
    pub event_type: Option<Cow<'a, str>>,
}

/// What serde_json builds: the reference the walk must agree with, and the path it leaves the
/// rare shapes (and every refused text, for serde_json's own error) to. The names are the ones
/// the codec's serde_json pass had: they appear in serde_json's errors.
#[derive(Deserialize)]
struct JsonHead<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    challenge: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event: Option<EventHead<'a>>,
}

#[derive(Deserialize)]
struct EventHead<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
}

impl RawJson {
    /// Reads an Events API body's routing fields and keeps the whole text verbatim, checking
    /// that it is valid JSON, in one pass: exactly [`RawJson::with_head`] with a head of the four
    /// fields of [`EventsApiHead`] (each `Option`, `event` an object with an optional `type`),
    /// the same texts accepted, the same fields, the same errors; only cheaper.
    ///
    /// The pass is hand-written: one walk over the text checks its JSON syntax as serde_json
    /// does and picks the fields on the way (string contents are skipped eight bytes at a time,
    /// [`crate::find_string_special`]). A few shapes Slack never sends are left to serde_json
    /// (an escape in a key of the top-level or `event` object or in one of the four values, a
    /// top-level or `event` array, nesting deeper than 128 inside one value), and so is every
    /// text the walk refuses, so that the error is serde_json's own.
    ///
    /// ```
    /// # use slack_rtm_types::RawJson;
    /// let body = r#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention","n":[1.5e3,null]}}"#;
    /// let (head, raw) = RawJson::with_events_api_head(body).unwrap();
    /// assert_eq!(head.kind.as_deref(), Some("event_callback"));
    /// assert_eq!(head.event_id.as_deref(), Some("Ev1"));
    /// assert_eq!(head.event_type.as_deref(), Some("app_mention"));
    /// assert_eq!(raw.as_str(), body);
    /// // A duplicate field, as serde's derive: refused.
    /// assert!(RawJson::with_events_api_head(r#"{"type":"a","type":"b"}"#).is_err());
    /// ```
    pub fn with_events_api_head(json: &str) -> Result<(EventsApiHead<'_>, RawJson), serde_json::Error> {
        match walk::walk(json) {
            Ok(f) => {
                let head = EventsApiHead {
                    kind: f.kind.map(Cow::Borrowed),
                    challenge: f.challenge.map(Cow::Borrowed),
                    event_id: f.event_id.map(Cow::Borrowed),
                    event_type: f.event_type.map(Cow::Borrowed),
                };
                Ok((head, RawJson::from_trusted(json)))
            }
            Err(_) => serde_head(json),
        }
    }
}

/// The serde_json path: what [`RawJson::with_head`] answers for [`JsonHead`].
fn serde_head(json: &str) -> Result<(EventsApiHead<'_>, RawJson), serde_json::Error> {
    let (head, raw) = RawJson::with_head::<JsonHead>(json)?;
    let head = EventsApiHead {
        kind: head.kind,
        challenge: head.challenge,
        event_id: head.event_id,
        event_type: head.event.and_then(|e| e.kind),
    };
    Ok((head, raw))
}
