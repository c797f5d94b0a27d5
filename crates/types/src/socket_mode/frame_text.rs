//! A frame's text: a `String` of its own, or a range of a block of text shared with the other
//! frames read with it (a reader's batch copied into one allocation instead of one per frame).

use std::ops::Range;
use std::sync::Arc;

/// A block of text that frames share ranges of ([`FrameText::shared`]): what a reader read in
/// one go. Its owner decides what becomes of it once the last frame using it is dropped (a
/// reader's pool may take the block back and fill it again).
///
/// The text must not change while the block is shared (a frame's range is checked once,
/// when it is made); a range that no longer fits reads as `""`, never a panic.
pub trait TextBlock: Send + Sync {
    /// The block's text.
    fn text(&self) -> &str;
}

/// The text of one frame: its own, or a range of a shared [`TextBlock`].
///
/// Both read the same through [`FrameText::as_str`]; it compares and hashes as its text.
#[derive(Clone)]
pub struct FrameText(Repr);

#[derive(Clone)]
enum Repr {
    Owned(String),
    Shared { block: Arc<dyn TextBlock>, start: u32, end: u32 },
}

impl FrameText {
    /// The range `range` of `block`'s text; `None` when it is not a range of the text at
    /// character boundaries, or its ends do not fit in 32 bits.
    pub fn shared(block: Arc<dyn TextBlock>, range: Range<usize>) -> Option<FrameText> {
        block.text().get(range.clone())?;
        let (start, end) = (u32::try_from(range.start).ok()?, u32::try_from(range.end).ok()?);
        Some(FrameText(Repr::Shared { block, start, end }))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Owned(text) => text,
            Repr::Shared { block, start, end } => {
                block.text().get(*start as usize..*end as usize).unwrap_or("")
            }
        }
    }

    /// The text, taken over (a copy when it is a range of a shared block).
    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Owned(text) => text,
            Repr::Shared { .. } => self.as_str().to_owned(),
        }
    }

    /// The text when it is its own `String` (`Err`: a range of a shared block, untouched).
    pub fn try_into_owned(self) -> Result<String, FrameText> {
        match self.0 {
            Repr::Owned(text) => Ok(text),
            shared => Err(FrameText(shared)),
        }
    }

    /// The shared block and where the text lies in it (`Err`: a text of its own, untouched).
    pub(crate) fn try_into_block(self) -> Result<(Arc<dyn TextBlock>, Range<usize>), FrameText> {
        match self.0 {
            Repr::Shared { block, start, end } => Ok((block, start as usize..end as usize)),
            own => Err(FrameText(own)),
        }
    }

    /// Whether it is a range of a shared block.
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Repr::Shared { .. })
    }
}

impl Default for FrameText {
    fn default() -> Self {
        FrameText(Repr::Owned(String::new()))
    }
}

impl From<String> for FrameText {
    fn from(text: String) -> Self {
        FrameText(Repr::Owned(text))
    }
}

impl PartialEq for FrameText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for FrameText {}

impl std::hash::Hash for FrameText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl std::fmt::Debug for FrameText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Block(String);

    impl TextBlock for Block {
        fn text(&self) -> &str {
            &self.0
        }
    }

    #[test]
    fn a_shared_range_reads_compares_and_converts_as_its_own_text() {
        let block: Arc<dyn TextBlock> = Arc::new(Block("{\"a\":1}{\"é\":2}".to_owned()));
        let first = FrameText::shared(block.clone(), 0..7).expect("a range");
        let second = FrameText::shared(block.clone(), 7..15).expect("a range");
        assert_eq!((first.as_str(), second.as_str()), ("{\"a\":1}", "{\"é\":2}"));
        assert!(first.is_shared());
        assert_eq!(second, FrameText::from("{\"é\":2}".to_owned()));
        assert_eq!(second.clone().into_string(), "{\"é\":2}");
        assert!(second.try_into_owned().is_err());
        assert_eq!(FrameText::from("x".to_owned()).try_into_owned(), Ok("x".to_owned()));
        // Out of the text, or not at a character boundary (inside `é`).
        assert!(FrameText::shared(block.clone(), 7..16).is_none());
        assert!(FrameText::shared(block, 0..10).is_none());
    }

    /// An envelope that is a range of a shared block reads as the same envelope would from a
    /// text of its own; its payload taken keeps the block, as the frame did.
    #[test]
    fn an_envelope_in_a_shared_block_reads_as_its_own() {
        use crate::socket_mode::EnvelopeFrame;
        let one = r#"{"envelope_id":"e1","type":"events_api","payload":{"event_id":"Ev1","event":{"type":"message"}},"retry_attempt":2}"#;
        let hello = r#"{"type":"hello"}"#;
        let block: Arc<dyn TextBlock> = Arc::new(Block(format!("{one}{hello}")));
        let shared = FrameText::shared(block.clone(), 0..one.len()).expect("a range");
        let mut frame = EnvelopeFrame::from_text(shared).expect("an envelope");
        let own = EnvelopeFrame::new(one.to_owned()).expect("an envelope");
        assert_eq!(frame, own);
        assert_eq!((frame.envelope_id(), frame.envelope_type()), ("e1", "events_api"));
        assert_eq!(frame.parts(), own.parts());
        assert_eq!(frame.retry(), Some((2, None)));
        assert_eq!(frame.clone().into_string(), one);
        let payload = frame.take_payload().expect("the payload");
        assert_eq!(payload.as_str(), r#"{"event_id":"Ev1","event":{"type":"message"}}"#);
        assert_eq!(frame.as_str(), "");
        let not_one = FrameText::shared(block, one.len()..one.len() + hello.len()).expect("a range");
        assert_eq!(EnvelopeFrame::from_text(not_one).map_err(|t| t.into_string()), Err(hello.to_owned()));
    }
}
