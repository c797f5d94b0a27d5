//! Envelope ids kept without an allocation of their own when short: Socket Mode's manual
//! acks name one per envelope, the session keeps it while the ack is owed, and an app's
//! request carries it.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Bytes of an envelope id kept in place (Slack's are UUIDs: 36). 40, so that the bytes start
/// on an 8-byte boundary and the id stays 48 bytes.
pub(crate) const INLINE: usize = 40;

/// The inline bytes, on an 8-byte boundary: reading an id as `str` checks its UTF-8 a word at
/// a time from the first byte (from an odd address it went byte by byte up to the boundary,
/// and again after the last whole block: about three times the instructions for a UUID).
#[derive(Clone, Copy)]
#[repr(align(8))]
struct Bytes([u8; INLINE]);

/// A Socket Mode envelope's id (what its ack names), as the session keeps it (manual acks'
/// bookkeeping, an ack command) and an app's request carries it: in place when it is short —
/// Slack's are 36-byte UUIDs, kept without an allocation, and an ack compares one in the
/// map's bucket without a second memory access —, shared on the heap otherwise.
///
/// Reads as a `&str` (`Deref`, [`EnvelopeId::as_str`]); compares and hashes as its bytes.
#[derive(Clone)]
pub struct EnvelopeId(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: Bytes },
    Heap(Arc<str>),
}

impl EnvelopeId {
    /// The id `id`.
    // Inlined: made once per envelope by the session and by an app's request, written where
    // it goes (a call returned its 48 bytes through memory, and cost as much as the copy).
    #[inline]
    pub fn new(id: &str) -> EnvelopeId {
        let b = id.as_bytes();
        EnvelopeId(match u8::try_from(b.len()) {
            Ok(len) if b.len() <= INLINE => Repr::Inline { len, bytes: inline(b) },
            _ => Repr::Heap(id.into()),
        })
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Copied from a `&str` whole: always UTF-8.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes.0[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(s) => s,
        }
    }

    /// Whether it is kept in place (no allocation).
    #[cfg(test)]
    pub(crate) fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes.0[..usize::from(*len)],
            Repr::Heap(s) => s.as_bytes(),
        }
    }
}

/// `b` (at most [`INLINE`] bytes) in place, zero after it. Copied in two fixed-size moves that
/// overlap in the middle (a UUID: its first 32 bytes and its last 8): a copy of a length known
/// only at run time is a `memcpy` call, which cost as much as the rest of making an id (the
/// session makes one per envelope, an app's request another).
#[inline(always)]
fn inline(b: &[u8]) -> Bytes {
    let mut out = [0; INLINE];
    let n = b.len();
    if let (Some(head), Some(tail)) = (b.first_chunk::<32>(), b.last_chunk::<8>()) {
        out[..32].copy_from_slice(head);
        out[n - 8..n].copy_from_slice(tail);
    } else if let (Some(head), Some(tail)) = (b.first_chunk::<16>(), b.last_chunk::<16>()) {
        out[..16].copy_from_slice(head);
        out[n - 16..n].copy_from_slice(tail);
    } else if let (Some(head), Some(tail)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        out[..8].copy_from_slice(head);
        out[n - 8..n].copy_from_slice(tail);
    } else {
        for (o, i) in out.iter_mut().zip(b) {
            *o = *i;
        }
    }
    Bytes(out)
}

impl std::ops::Deref for EnvelopeId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for EnvelopeId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for EnvelopeId {
    fn from(id: &str) -> EnvelopeId {
        EnvelopeId::new(id)
    }
}

impl From<&String> for EnvelopeId {
    fn from(id: &String) -> EnvelopeId {
        EnvelopeId::new(id)
    }
}

impl From<String> for EnvelopeId {
    fn from(id: String) -> EnvelopeId {
        EnvelopeId::new(&id)
    }
}

impl From<&EnvelopeId> for EnvelopeId {
    fn from(id: &EnvelopeId) -> EnvelopeId {
        id.clone()
    }
}

impl PartialEq<str> for EnvelopeId {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for EnvelopeId {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Borrow<[u8]> for EnvelopeId {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Hash for EnvelopeId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `[u8]` hashes: the map is looked up by `&[u8]`.
        self.as_bytes().hash(state);
    }
}

impl PartialEq for EnvelopeId {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for EnvelopeId {}

impl fmt::Display for EnvelopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for EnvelopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{EnvelopeId, INLINE};

    /// Short ids (in place) and long ones (on the heap) read back as the text they were made
    /// from, however they were made, compare with it and with each other as text, and print as it.
    #[test]
    fn an_id_reads_compares_and_prints_as_its_text() {
        let long = "x".repeat(INLINE + 1);
        for text in ["", "1d6b9f0e-4a3c-4c8e-9b1a-2f3e4d5c6b7a", "é-ü", &long[..INLINE], long.as_str()] {
            let ids = [
                EnvelopeId::new(text),
                EnvelopeId::from(text),
                EnvelopeId::from(&text.to_owned()),
                EnvelopeId::from(text.to_owned()),
            ];
            for id in &ids {
                assert_eq!(id.as_str(), text);
                assert_eq!(&**id, text);
                assert_eq!(id.as_ref(), text);
                assert!(*id == *text && *id == text);
                assert_eq!(id, &ids[0]);
                assert_eq!(EnvelopeId::from(id), ids[0]);
                assert_eq!(id.to_string(), text);
                assert_eq!(format!("{id:?}"), format!("{text:?}"));
                assert_eq!(id.is_inline(), text.len() <= INLINE);
            }
            assert!(ids[0] != *"another");
        }
    }

    /// Every length kept in place reads back as its text (copied in overlapping pieces), with
    /// nothing after it, and equal ids of different lengths stay different.
    #[test]
    fn an_id_of_every_inline_length_reads_back_whole() {
        let text: String = ('a'..='z').chain('A'..='Z').collect();
        for n in 0..=INLINE {
            let id = EnvelopeId::new(&text[..n]);
            assert!(id.is_inline());
            assert_eq!(id.as_str(), &text[..n], "{n}");
            let super::Repr::Inline { bytes, .. } = &id.0 else { unreachable!() };
            assert!(bytes.0[n..].iter().all(|&b| b == 0), "zero after the id: {n}");
            assert!(n == 0 || id != EnvelopeId::new(&text[..n - 1]), "{n}");
        }
    }

    /// An id in place starts on a word boundary (its UTF-8 is checked a word at a time), and
    /// the id is no larger than before (48 bytes: it is moved with every ack command).
    #[test]
    fn an_inline_id_is_word_aligned_and_48_bytes() {
        for text in ["", "e", "1d6b9f0e-4a3c-4c8e-9b1a-2f3e4d5c6b7a", &"y".repeat(INLINE)] {
            let id = EnvelopeId::new(text);
            assert!(id.is_inline());
            let aligned = |id: &EnvelopeId| (id.as_bytes().as_ptr() as usize).is_multiple_of(8);
            assert!(aligned(&id), "{text}");
            let copy = [id.clone(), id.clone()];
            assert!(copy.iter().all(|c| aligned(c) && c.as_str() == text));
        }
        assert_eq!(std::mem::size_of::<EnvelopeId>(), 48);
        assert_eq!(std::mem::size_of::<Option<EnvelopeId>>(), 48);
    }
}
