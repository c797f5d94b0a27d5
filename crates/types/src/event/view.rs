//! [`MessageView`]: a `message` event's common fields, borrowed from the frame, the rest of the
//! frame skipped (checked as JSON, never built).

use super::{EventFrame, Message};
use serde::Deserialize;
use std::borrow::Cow;

/// The fields of a `message` event most applications read — who wrote what, where, when, in
/// which thread — borrowed from the frame instead of decoded into a [`Message`].
///
/// Built by [`EventFrame::message_view`] (or from an already decoded [`Message`] with
/// [`MessageView::of`]). The frame is still read in full, so invalid JSON is an error as it is
/// for [`EventFrame::decode`], but only these fields are built: a string without escapes is a
/// slice of the frame, nothing else is allocated, and `blocks`, `attachments`, `files` and the
/// other fields are skipped. Each field is exactly what [`EventFrame::decode`]'s
/// [`Message`] holds in the field of the same name.
///
/// Only these fields are read: a frame whose *other* fields have an unexpected shape (say a
/// `reply_count` that is not a number) still has a view, while `decode` gives
/// [`Event::Unknown`](super::Event::Unknown) for it. When a field of the view itself has an
/// unexpected shape, there is no view (see [`EventFrame::message_view`]).
///
/// ```
/// use slack_rtm_types::EventFrame;
///
/// let frame = EventFrame::new(
///     r#"{"type":"message","channel":"C1","user":"U1","text":"hi \"there\"","ts":"1.000001","blocks":[]}"#
///         .to_owned(),
/// )
/// .expect("has a type");
/// let view = frame.message_view().expect("a message").expect("valid JSON");
/// assert_eq!(view.channel(), Some("C1"));
/// assert_eq!(view.user(), Some("U1"));
/// assert_eq!(view.text(), Some("hi \"there\"")); // unescaped (that one is copied)
/// assert_eq!(view.ts(), Some("1.000001"));
/// assert!(view.is_plain());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct MessageView<'a> {
    #[serde(default, borrow)]
    pub(super) subtype: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) channel: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) user: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) text: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) ts: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) thread_ts: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) event_ts: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) team: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) bot_id: Option<Str<'a>>,
}

/// A string borrowed from the frame when it has no escapes, copied and unescaped otherwise.
/// (serde borrows a bare `Cow<str>` field, but not one inside an `Option`.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Str<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'a> MessageView<'a> {
    /// Reads the view's fields from a frame's text; every other field is skipped (but must be
    /// valid JSON). Prefer [`EventFrame::message_view`], which also checks the frame's type.
    pub fn from_json(text: &'a str) -> Result<MessageView<'a>, serde_json::Error> {
        // The one-pass reader answers only where serde gives this same view.
        match super::message_fast::message_view(text) {
            Some(view) => Ok(view),
            None => serde_json::from_str(text),
        }
    }

    /// The same fields, borrowed from a decoded message.
    pub fn of(message: &'a Message) -> MessageView<'a> {
        let b = |s: Option<&'a str>| s.map(|s| Str(Cow::Borrowed(s)));
        MessageView {
            subtype: b(message.subtype.as_ref().map(|s| s.as_str())),
            channel: b(message.channel.as_ref().map(|c| c.as_str())),
            user: b(message.user.as_ref().map(|u| u.as_str())),
            text: b(message.text.as_deref()),
            ts: b(message.ts.as_ref().map(|t| t.as_str())),
            thread_ts: b(message.thread_ts.as_ref().map(|t| t.as_str())),
            event_ts: b(message.event_ts.as_ref().map(|t| t.as_str())),
            team: b(message.team.as_ref().map(|t| t.as_str())),
            bot_id: b(message.bot_id.as_ref().map(|b| b.as_str())),
        }
    }

    /// The subtype's wire string (`"bot_message"`, `"message_changed"`, …; compare with
    /// [`MessageSubtype::as_str`](super::MessageSubtype::as_str)); `None` for a plain message.
    pub fn subtype(&self) -> Option<&str> {
        self.subtype.as_ref().map(|s| &*s.0)
    }

    /// Whether this is a plain message (no subtype).
    pub fn is_plain(&self) -> bool {
        self.subtype.is_none()
    }

    /// The conversation.
    pub fn channel(&self) -> Option<&str> {
        self.channel.as_ref().map(|s| &*s.0)
    }

    /// The author (absent for some bot messages).
    pub fn user(&self) -> Option<&str> {
        self.user.as_ref().map(|s| &*s.0)
    }

    /// The text, unescaped (absent for some subtypes; for an edit, the new text is in the
    /// nested `message`, which only [`EventFrame::decode`] reads).
    pub fn text(&self) -> Option<&str> {
        self.text.as_ref().map(|s| &*s.0)
    }

    /// The message's timestamp: its id within the channel.
    pub fn ts(&self) -> Option<&str> {
        self.ts.as_ref().map(|s| &*s.0)
    }

    /// The thread's parent timestamp, for thread replies and parents.
    pub fn thread_ts(&self) -> Option<&str> {
        self.thread_ts.as_ref().map(|s| &*s.0)
    }

    /// When the event happened (differs from `ts` for edits and deletions).
    pub fn event_ts(&self) -> Option<&str> {
        self.event_ts.as_ref().map(|s| &*s.0)
    }

    /// The author's workspace.
    pub fn team(&self) -> Option<&str> {
        self.team.as_ref().map(|s| &*s.0)
    }

    /// The bot that posted it (`bot_message`).
    pub fn bot_id(&self) -> Option<&str> {
        self.bot_id.as_ref().map(|s| &*s.0)
    }
}

impl EventFrame {
    /// A borrowed view of a `message` frame's common fields ([`MessageView`]), without building
    /// the [`Message`]; `None` when the frame's type is not `message`.
    ///
    /// An error when the frame is not valid JSON, or when one of the view's own fields has an
    /// unexpected shape (a `text` that is not a string: [`EventFrame::decode`] then gives
    /// [`Event::Unknown`](super::Event::Unknown)). No depth limit is checked here;
    /// `slack_rtm_codec::decode_message_view` checks the same one as a decode and reports errors
    /// exactly as the decode would.
    pub fn message_view(&self) -> Option<Result<MessageView<'_>, serde_json::Error>> {
        (self.kind() == "message").then(|| MessageView::from_json(self.as_str()))
    }

    /// The view of an ordinary `message` frame, read in one pass, or `None` to use
    /// [`EventFrame::message_view`]. `Some` only when the frame is a `message` that
    /// [`EventFrame::decode`] reads as [`Event::Message`](super::Event::Message) with these
    /// fields ([`MessageView::of`] it equals this view): valid JSON, nested at most 100 levels,
    /// every field of the shape the decode types. Anything else (a lone surrogate escape, a
    /// repeated field, a `text` that is not a string, a syntax error, …) is `None`: then
    /// [`EventFrame::message_view`] and the decode decide, as they always do.
    pub fn plain_message_view(&self) -> Option<MessageView<'_>> {
        if self.kind() != "message" {
            return None;
        }
        super::message_fast::message_view(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn frame(text: &str) -> EventFrame {
        EventFrame::new(text.to_owned()).expect("has a type")
    }

    #[test]
    fn reads_its_fields_and_borrows_plain_strings() {
        let f = frame(
            r#"{"client_msg_id":"x","type":"message","subtype":"bot_message","text":"a\nb","user":"U1",
                "ts":"1.5","thread_ts":"1.0","event_ts":"1.5","team":"T1","bot_id":"B1","channel":"C1",
                "blocks":[{"type":"rich_text","elements":[[[{}]]]}],"attachments":null}"#,
        );
        let v = f.message_view().unwrap().unwrap();
        assert_eq!(v.subtype(), Some("bot_message"));
        assert!(!v.is_plain());
        assert_eq!(
            [v.channel(), v.user(), v.text(), v.ts(), v.thread_ts(), v.event_ts(), v.team(), v.bot_id()],
            [
                Some("C1"),
                Some("U1"),
                Some("a\nb"),
                Some("1.5"),
                Some("1.0"),
                Some("1.5"),
                Some("T1"),
                Some("B1")
            ]
        );
        assert!(matches!(v.channel, Some(Str(Cow::Borrowed(_)))), "a plain string is not copied");
        assert!(matches!(v.text, Some(Str(Cow::Owned(_)))), "an escaped one is");
        let Ok(Event::Message(m)) = f.decode() else { panic!("a message") };
        assert_eq!(MessageView::of(&m), v);
    }

    #[test]
    fn other_types_have_no_view_and_bad_frames_are_errors() {
        assert!(frame(r#"{"type":"user_typing","channel":"C1"}"#).message_view().is_none());
        for bad in [
            r#"{"type":"message","text":}"#,
            r#"{"type":"message","text":"x"} trailing"#,
            r#"{"type":"message","blocks":[1,}"#,
            r#"{"type":"message","text":"\x"}"#,
            r#"{"type":"message","text":1}"#,
            r#"{"type":"message","ts":["1"]}"#,
            r#"{"type":"message","text":"a","text":"b"}"#,
            r#"{"type":"message""#,
        ] {
            assert!(frame(bad).message_view().unwrap().is_err(), "{bad}");
        }
    }
}
