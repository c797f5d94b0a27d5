//! What a socket read yields, classified once for every driver: [`RtmIncoming::message`] turns a
//! complete WebSocket message into the machine's input, and [`SessionEvent::from_raw`] turns an
//! [`RtmOutput::RawEvent`](super::RtmOutput::RawEvent) into the event the application gets. A custom
//! driver calls these two and re-implements no decoding or warning.

use super::types::{ConnId, Reason, RtmInput, SessionEvent, SkippedFrame, Warning};
use crate::common::message_text;
use slack_rtm_codec::types::event::Reply;
use slack_rtm_codec::{EventFrame, decode_event_frame, decode_plain_reply};

/// One thing read from a socket, as the machine takes it in [`RtmInput::Frame`](super::RtmInput::Frame).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtmIncoming {
    /// A text message whose top-level `type` was found, not decoded yet. An ordinary event goes
    /// through the machine untouched (as [`RtmOutput::RawEvent`](super::RtmOutput::RawEvent)); the
    /// machine decodes the ones it must look at.
    Event(EventFrame),
    /// A plain reply to a client message, read in one pass
    /// ([`decode_plain_reply`](slack_rtm_codec::decode_plain_reply)): what
    /// [`RtmIncoming::Text`] of the same frame would decode to, without scanning or decoding it
    /// again. Boxed: every input of a batch is as large as the largest variant.
    Reply(Box<Reply>),
    /// A text message without a readable `type` (a reply to a request, or something that is
    /// not an event): decoded by the machine, reported as a warning if it does not decode.
    Text(String),
    /// A message skipped before decoding (binary, or text that is not UTF-8): a warning.
    Skipped(SkippedFrame),
    /// Proof of life without a message: a WebSocket ping or pong, one fragment of a message.
    Activity,
}

impl RtmIncoming {
    /// Classifies one complete WebSocket message: `text` is whether its opcode was text,
    /// `payload` its (reassembled) bytes. Copies the payload once, and only a valid text message.
    pub fn message(text: bool, payload: &[u8]) -> RtmIncoming {
        let text = match message_text(text, payload) {
            Ok(text) => text,
            Err(skipped) => return RtmIncoming::Skipped(skipped),
        };
        if let Some(reply) = decode_plain_reply(text) {
            return RtmIncoming::Reply(Box::new(reply));
        }
        match EventFrame::copy_from(text) {
            Some(frame) => RtmIncoming::Event(frame),
            None => RtmIncoming::Text(text.to_owned()),
        }
    }

    /// Classifies a text message the caller already owns (no copy).
    pub fn text(text: String) -> RtmIncoming {
        if let Some(reply) = decode_plain_reply(&text) {
            return RtmIncoming::Reply(Box::new(reply));
        }
        match EventFrame::new(text) {
            Ok(frame) => RtmIncoming::Event(frame),
            Err(text) => RtmIncoming::Text(text),
        }
    }
}

impl SessionEvent {
    /// The event the application gets for an [`RtmOutput::RawEvent`](super::RtmOutput::RawEvent):
    /// the decoded [`SessionEvent::Rtm`], or a [`Warning::Undecodable`] if it does not decode.
    /// Meant to run where the event is consumed (e.g. on the application's task).
    pub fn from_raw(frame: &EventFrame) -> SessionEvent {
        match decode_event_frame(frame) {
            Ok(event) => SessionEvent::Rtm(event),
            Err(error) => SessionEvent::Warning(Warning::Undecodable(error)),
        }
    }
}

impl crate::common::SocketInput for RtmInput {
    fn message(conn: ConnId, text: bool, payload: &[u8]) -> Self {
        RtmInput::Frame { conn, frame: RtmIncoming::message(text, payload) }
    }
    fn activity(conn: ConnId) -> Self {
        RtmInput::Frame { conn, frame: RtmIncoming::Activity }
    }
    fn skipped(conn: ConnId, frame: SkippedFrame) -> Self {
        RtmInput::Frame { conn, frame: RtmIncoming::Skipped(frame) }
    }
    fn opened(conn: ConnId) -> Self {
        RtmInput::SocketOpened { conn }
    }
    fn closed(conn: ConnId, reason: Reason) -> Self {
        RtmInput::SocketClosed { conn, reason: Box::new(reason) }
    }
    fn backpressure(on: bool) -> Self {
        RtmInput::Backpressure(on)
    }
    fn closed_reason(&self) -> Option<(ConnId, &Reason)> {
        match self {
            RtmInput::SocketClosed { conn, reason } => Some((*conn, reason)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_classified() {
        assert!(
            matches!(RtmIncoming::message(true, br#"{"type":"hello"}"#), RtmIncoming::Event(f) if f.kind() == "hello")
        );
        assert!(matches!(
            RtmIncoming::message(true, br#"{"type":"message","text":"hi"}"#),
            RtmIncoming::Event(f) if f.kind() == "message"
        ));
        let RtmIncoming::Reply(reply) = RtmIncoming::message(true, br#"{"ok":true,"reply_to":1}"#) else {
            panic!("a plain reply")
        };
        assert!(reply.ok && reply.reply_to == 1 && reply.extra.is_empty());
        assert!(
            matches!(RtmIncoming::text(r#"{"ok":false,"reply_to":2}"#.into()), RtmIncoming::Reply(r) if !r.ok)
        );
        // A reply with a field the fast path does not model is decoded by the machine.
        assert_eq!(
            RtmIncoming::message(true, br#"{"ok":true,"reply_to":1,"new":1}"#),
            RtmIncoming::Text(r#"{"ok":true,"reply_to":1,"new":1}"#.into())
        );
        assert_eq!(RtmIncoming::message(true, b"{nope"), RtmIncoming::Text("{nope".into()));
        assert_eq!(
            RtmIncoming::message(true, b"\xff\xfe"),
            RtmIncoming::Skipped(SkippedFrame::InvalidUtf8 { len: Some(2) })
        );
        assert_eq!(
            RtmIncoming::message(false, b"abc"),
            RtmIncoming::Skipped(SkippedFrame::Binary { len: 3 })
        );
        assert_eq!(RtmIncoming::text("[1]".into()), RtmIncoming::Text("[1]".into()));
        assert!(
            matches!(RtmIncoming::text(r#"{"type":"pong"}"#.into()), RtmIncoming::Event(f) if f.kind() == "pong")
        );
    }

    #[test]
    fn raw_events_become_events_or_warnings() {
        let RtmIncoming::Event(ok) =
            RtmIncoming::text(r#"{"type":"user_typing","channel":"C1","user":"U1"}"#.into())
        else {
            panic!("scanned")
        };
        assert!(
            matches!(SessionEvent::from_raw(&ok), SessionEvent::Rtm(e) if e.event_type() == "user_typing")
        );
        let RtmIncoming::Event(bad) = RtmIncoming::text(r#"{"type":"message","ts":[}"#.into()) else {
            panic!("scanned")
        };
        assert!(matches!(SessionEvent::from_raw(&bad), SessionEvent::Warning(Warning::Undecodable(_))));
    }
}
