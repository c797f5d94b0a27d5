//! The hot client frame, written directly: a `message` (every round trip sends one) costs a
//! third of what serde's flattened, internally tagged path costs for the same bytes. The
//! strings still go through `serde_json`'s escaping, and the keys come in the derived order,
//! so the frame is byte for byte what the derived `Serialize` writes (tested below).

use crate::encode_client_message;
use slack_rtm_types::client::{ClientMessage, ClientMessageError, MAX_FRAME_BYTES, OutgoingMessage};
use std::num::NonZeroU64;

/// The longest a `message` frame's fixed part can be: keys, quotes, the longest id,
/// `"reply_broadcast":false` (106 bytes), rounded up.
const MESSAGE_FIXED_BYTES: usize = 128;

/// Checks that `message` can be sent, before it is queued: [`ClientMessage::validate`], and its
/// frame, with any id, within [`MAX_FRAME_BYTES`]. A `message` is not encoded for this when a
/// bound suffices (a JSON string is at most 6 bytes per byte of its text, `\u00XX`, plus its
/// quotes); anything else, or a `message` too long for the bound, is encoded with the longest
/// id, so the real frame can only be smaller.
pub fn check_client_message(message: &ClientMessage) -> Result<(), ClientMessageError> {
    if let ClientMessage::Message(m) = message {
        message.validate()?;
        let strings =
            m.channel.as_str().len() + m.text.len() + m.thread_ts.as_ref().map_or(0, |t| t.as_str().len());
        if strings.saturating_mul(6).saturating_add(MESSAGE_FIXED_BYTES) <= MAX_FRAME_BYTES {
            return Ok(());
        }
    }
    encode_client_message(NonZeroU64::MAX, message).map(drop)
}

/// `{"id":…,"type":"message","channel":…,"text":…[,"thread_ts":…][,"reply_broadcast":…]}`.
pub(crate) fn message_frame(id: u64, m: &OutgoingMessage) -> String {
    // Every field named (no `..`): a field added to `OutgoingMessage` fails to compile here
    // instead of being left out of the frame.
    let OutgoingMessage { channel, text, thread_ts, reply_broadcast } = m;
    let ts = thread_ts.as_ref().map(|t| t.as_str());
    let mut out = Vec::with_capacity(64 + channel.as_str().len() + text.len() + ts.map_or(0, str::len));
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(itoa(id, &mut [0; 20]));
    out.extend_from_slice(b",\"type\":\"message\",\"channel\":");
    string(&mut out, channel.as_str());
    out.extend_from_slice(b",\"text\":");
    string(&mut out, text);
    if let Some(ts) = ts {
        out.extend_from_slice(b",\"thread_ts\":");
        string(&mut out, ts);
    }
    if let Some(b) = *reply_broadcast {
        out.extend_from_slice(if b { b",\"reply_broadcast\":true" } else { b",\"reply_broadcast\":false" });
    }
    out.push(b'}');
    // Only ASCII and the escaped UTF-8 of `&str`s were written.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A JSON string with `serde_json`'s escaping.
fn string(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail, and a `str` always serializes.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// The decimal digits of `n`.
fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MESSAGE_FIXED_BYTES, check_client_message, message_frame};
    use crate::encode_client_message;
    use slack_rtm_types::ClientMessage;
    use slack_rtm_types::client::OutgoingMessage;
    use std::num::NonZeroU64;

    #[test]
    fn the_check_agrees_with_encoding_at_every_size() {
        let longest = OutgoingMessage::new("C", "x").in_thread("").broadcast(false);
        assert!(message_frame(u64::MAX, &longest).len() - 4 <= MESSAGE_FIXED_BYTES);
        let mut texts = Vec::new();
        for n in [1, 100, 2000, 2600, 2700, 2730, 2740, 4000] {
            texts.push("a".repeat(n));
            texts.push("\u{1}".repeat(n)); // 6 bytes each once escaped
            texts.push("\"".repeat(n)); // 2 bytes each
            texts.push("é".repeat(n)); // 2 bytes, not escaped
        }
        let mut over = 0;
        for text in texts {
            for thread in [None, Some("1355517523.000005")] {
                let mut m = OutgoingMessage::new("C024BE91L", text.clone());
                if let Some(ts) = thread {
                    m = m.in_thread(ts).broadcast(true);
                }
                let msg = ClientMessage::Message(m);
                let encoded = encode_client_message(NonZeroU64::MAX, &msg).map(drop);
                over += usize::from(encoded.is_err());
                assert_eq!(check_client_message(&msg), encoded, "{} bytes of text", text.len());
            }
        }
        assert!(over > 0, "some cases are over the limit");
        let empty = ClientMessage::message("C1", "");
        assert_eq!(check_client_message(&empty), encode_client_message(NonZeroU64::MAX, &empty).map(drop));
        assert_eq!(check_client_message(&ClientMessage::typing("C1")), Ok(()));
    }

    #[derive(serde::Serialize)]
    struct WithId<'a> {
        id: u64,
        #[serde(flatten)]
        message: &'a slack_rtm_types::ClientMessage,
    }

    fn derived(id: u64, m: &OutgoingMessage) -> String {
        let message = slack_rtm_types::ClientMessage::Message(m.clone());
        serde_json::to_string(&WithId { id, message: &message }).unwrap()
    }

    #[test]
    fn the_direct_frame_is_the_derived_one_byte_for_byte() {
        let texts = ["round trip", "", "quote \" backslash \\ tab \t nl \n ctl \u{1} é 😀 </script>", "x"];
        let mut cases = Vec::new();
        for text in texts {
            let m = OutgoingMessage::new("C024BE91L", text);
            cases.push(m.clone());
            cases.push(m.clone().in_thread("1355517523.000005"));
            cases.push(m.clone().in_thread("1355517523.000005").broadcast(true));
            cases.push(m.clone().in_thread("1.2").broadcast(false));
            let mut only_broadcast = m.clone();
            only_broadcast.reply_broadcast = Some(true);
            cases.push(only_broadcast);
        }
        cases.push(OutgoingMessage::new("C\"odd", "t"));
        for m in &cases {
            for id in [1, 9, 10, 4_294_967_296, u64::MAX] {
                assert_eq!(message_frame(id, m), derived(id, m), "{m:?} id {id}");
            }
        }
    }
}
