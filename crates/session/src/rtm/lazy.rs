//! The session's events with server events left undecoded until asked: [`LazySessionEvent`]
//! and its [`LazyEvent`]. The same stream as [`SessionEvent`]'s, read another way: an
//! application that routes on the type and reads a message's channel, user and text pays for a
//! borrowed view of those fields ([`LazyEvent::message`]), not for a whole typed [`Event`].

use super::types::{SessionEvent, Warning};
use slack_rtm_codec::types::event::MessageView;
use slack_rtm_codec::types::{Event, EventFrame};
use slack_rtm_codec::{DecodeError, decode_event_frame, decode_message_view};
use std::borrow::Cow;

/// One item of the session's events, as [`SessionEvent`] but with every server event a
/// [`LazyEvent`] (decoded when asked) instead of a typed [`Event`].
///
/// [`LazySessionEvent::into_event`] gives exactly the [`SessionEvent`] the typed stream gives
/// for the same item.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum LazySessionEvent {
    /// A server event, not decoded yet (as [`SessionEvent::Rtm`]). Also a frame that will not
    /// decode: [`LazyEvent::decode`] says why (the typed stream reports it as
    /// [`Warning::Undecodable`]).
    Rtm(LazyEvent),
    /// Everything else: lifecycle changes (connected, reconnecting, gaps, stopped) and warnings.
    /// Never [`SessionEvent::Rtm`].
    Session(SessionEvent),
}

impl LazySessionEvent {
    /// The event the typed stream gives for this item: the decoded [`SessionEvent::Rtm`], a
    /// [`Warning::Undecodable`] for a frame that does not decode, or the session's own event.
    pub fn into_event(self) -> SessionEvent {
        match self {
            LazySessionEvent::Rtm(e) => match e.into_event() {
                Ok(event) => SessionEvent::Rtm(event),
                Err(error) => SessionEvent::Warning(Warning::Undecodable(error)),
            },
            LazySessionEvent::Session(e) => e,
        }
    }
}

impl From<SessionEvent> for LazySessionEvent {
    /// A session event as a lazy one (a [`SessionEvent::Rtm`] becomes an already decoded
    /// [`LazyEvent`]).
    fn from(event: SessionEvent) -> Self {
        match event {
            SessionEvent::Rtm(e) => LazySessionEvent::Rtm(LazyEvent::decoded(e)),
            other => LazySessionEvent::Session(other),
        }
    }
}

impl From<EventFrame> for LazySessionEvent {
    /// An [`RtmOutput::RawEvent`](super::RtmOutput::RawEvent)'s frame, for a custom driver.
    fn from(frame: EventFrame) -> Self {
        LazySessionEvent::Rtm(LazyEvent::from(frame))
    }
}

/// A server event whose type is known and whose body is decoded only when asked for.
///
/// Most events arrive as the frame Slack sent, kept verbatim ([`raw`](LazyEvent::raw)): the
/// session found its `type` and nothing more. Read a message's common fields with
/// [`message`](LazyEvent::message) (borrowed from the frame, the rest skipped) or decode the
/// whole typed [`Event`] with [`decode`](LazyEvent::decode), which gives what the typed stream
/// gives, errors included. A few events the session had to decode itself (`goodbye`, `error`,
/// `team_migration_started`, `reconnect_url`, events read during a reconnection's overlap, and
/// frames whose `type` is not a plain string) arrive decoded; the methods answer the same way.
///
/// ```
/// use slack_rtm_session::rtm::LazyEvent;
/// use slack_rtm_codec::EventFrame;
///
/// let frame = EventFrame::new(r#"{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.1"}"#.to_owned())
///     .expect("has a type");
/// let event = LazyEvent::from(frame);
/// assert_eq!(event.kind(), "message");
/// if let Some(msg) = event.message().expect("valid JSON") {
///     assert_eq!((msg.channel(), msg.user(), msg.text()), (Some("C1"), Some("U1"), Some("hi")));
/// }
/// let typed = event.decode().expect("valid JSON"); // the full `Event::Message`
/// assert_eq!(typed.event_type(), "message");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LazyEvent {
    repr: Repr,
}

#[derive(Clone, Debug, PartialEq)]
enum Repr {
    Frame(EventFrame),
    Decoded(Box<Event>),
}

impl From<EventFrame> for LazyEvent {
    fn from(frame: EventFrame) -> Self {
        LazyEvent { repr: Repr::Frame(frame) }
    }
}

impl LazyEvent {
    /// An event already decoded.
    pub fn decoded(event: Event) -> Self {
        LazyEvent { repr: Repr::Decoded(Box::new(event)) }
    }

    /// The event's `type` (`"message"`, `"reaction_added"`, …), as [`Event::event_type`] gives
    /// it, without decoding.
    pub fn kind(&self) -> &str {
        match &self.repr {
            Repr::Frame(f) => f.kind(),
            Repr::Decoded(e) => e.event_type(),
        }
    }

    /// Whether this is a `message` event (of any subtype).
    pub fn is_message(&self) -> bool {
        self.kind() == "message"
    }

    /// The event's JSON: the frame verbatim, or, for an event that arrived decoded, the event
    /// re-encoded (lossless: the same fields with the same values, though not always in the
    /// same order; a `null` may be dropped).
    pub fn raw(&self) -> Cow<'_, str> {
        match &self.repr {
            Repr::Frame(f) => Cow::Borrowed(f.as_str()),
            // Every event serializes: its fields are strings, numbers and raw JSON.
            Repr::Decoded(e) => Cow::Owned(serde_json::to_string(e).unwrap_or_default()),
        }
    }

    /// The verbatim frame, when the event arrived undecoded.
    pub fn frame(&self) -> Option<&EventFrame> {
        match &self.repr {
            Repr::Frame(f) => Some(f),
            Repr::Decoded(_) => None,
        }
    }

    /// A `message` event's common fields (channel, user, text, ts, subtype, thread_ts, …),
    /// borrowed, the rest of the frame skipped; `Ok(None)` for another type, or a message
    /// [`decode`](LazyEvent::decode) would not type (it gives [`Event::Unknown`] then). An
    /// error for a frame that is not valid JSON, the one `decode` gives (see
    /// [`decode_message_view`]).
    pub fn message(&self) -> Result<Option<MessageView<'_>>, DecodeError> {
        match &self.repr {
            Repr::Frame(f) => decode_message_view(f),
            Repr::Decoded(e) => Ok(match &**e {
                Event::Message(m) => Some(MessageView::of(m)),
                _ => None,
            }),
        }
    }

    /// The typed event: what the typed stream gives for it ([`SessionEvent::Rtm`]), or the
    /// error it reports as [`Warning::Undecodable`].
    pub fn decode(&self) -> Result<Event, DecodeError> {
        match &self.repr {
            Repr::Frame(f) => decode_event_frame(f),
            Repr::Decoded(e) => Ok((**e).clone()),
        }
    }

    /// [`LazyEvent::decode`], without a copy for an event that arrived decoded.
    pub fn into_event(self) -> Result<Event, DecodeError> {
        match self.repr {
            Repr::Frame(f) => decode_event_frame(&f),
            Repr::Decoded(e) => Ok(*e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str) -> EventFrame {
        EventFrame::new(text.to_owned()).expect("has a type")
    }

    #[test]
    fn a_frame_and_its_decoded_event_answer_alike() {
        let text = r#"{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.1","blocks":[]}"#;
        let lazy = LazyEvent::from(frame(text));
        let decoded = LazyEvent::decoded(lazy.decode().unwrap());
        for e in [&lazy, &decoded] {
            assert_eq!(e.kind(), "message");
            assert!(e.is_message());
            let m = e.message().unwrap().unwrap();
            assert_eq!(
                (m.channel(), m.user(), m.text(), m.ts()),
                (Some("C1"), Some("U1"), Some("hi"), Some("1.1"))
            );
            assert_eq!(e.raw(), text, "verbatim, or re-encoded losslessly");
            assert_eq!(e.decode().unwrap(), Event::from_json(text).unwrap());
        }
        assert_eq!(lazy.frame().map(EventFrame::as_str), Some(text));
        assert!(decoded.frame().is_none());
        assert_eq!(lazy.into_event(), decoded.into_event());
    }

    #[test]
    fn undecodable_frames_are_the_typed_streams_warning() {
        let bad = LazySessionEvent::from(frame(r#"{"type":"message","ts":[}"#));
        let LazySessionEvent::Rtm(e) = &bad else { panic!("a server event") };
        assert_eq!(e.kind(), "message");
        let error = e.decode().unwrap_err();
        assert_eq!(e.message(), Err(error.clone()));
        assert_eq!(bad.into_event(), SessionEvent::Warning(Warning::Undecodable(error)));
    }

    #[test]
    fn session_events_stay_as_they_are() {
        let gap = SessionEvent::Connecting;
        assert!(matches!(
            LazySessionEvent::from(gap.clone()),
            LazySessionEvent::Session(SessionEvent::Connecting)
        ));
        let rtm = SessionEvent::Rtm(Event::from_json(r#"{"type":"goodbye"}"#).unwrap());
        let lazy = LazySessionEvent::from(rtm.clone());
        assert!(
            matches!(&lazy, LazySessionEvent::Rtm(e) if e.kind() == "goodbye" && e.message() == Ok(None))
        );
        assert_eq!(lazy.into_event(), rtm);
        assert_eq!(LazySessionEvent::from(gap.clone()).into_event(), gap);
    }
}
