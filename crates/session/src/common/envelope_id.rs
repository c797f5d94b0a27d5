//! Envelope ids kept without an allocation of their own when short: Socket Mode's manual
//! acks name one per envelope, and the session keeps it while the ack is owed.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Bytes of an envelope id kept in place (Slack's are UUIDs: 36).
pub(crate) const INLINE: usize = 46;

/// An envelope id as the session keeps it (manual acks' bookkeeping, an ack command): in place when it is short (no allocation per
/// envelope, and an ack compares it in the map's bucket without a second memory access),
/// shared on the heap otherwise. Looked up by its bytes.
#[derive(Clone)]
pub(crate) enum EnvelopeId {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Arc<[u8]>),
}

impl EnvelopeId {
    pub(crate) fn new(id: &str) -> EnvelopeId {
        let b = id.as_bytes();
        match u8::try_from(b.len()) {
            Ok(len) if b.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..b.len()].copy_from_slice(b);
                EnvelopeId::Inline { len, bytes }
            }
            _ => EnvelopeId::Heap(b.into()),
        }
    }

    /// The id (made from a `&str`: always UTF-8).
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            EnvelopeId::Inline { len, bytes } => &bytes[..usize::from(*len)],
            EnvelopeId::Heap(b) => b,
        }
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
        // Made from a `&str`: always UTF-8.
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

impl fmt::Debug for EnvelopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}
