//! The hot client frame, written directly: a `message` (every round trip sends one) costs a
//! third of what serde's flattened, internally tagged path costs for the same bytes. The
//! strings are escaped as `serde_json` escapes them, straight into a `String` (no UTF-8 check of
//! the frame after), and the keys come in the derived order, so the frame is byte for byte what
//! the derived `Serialize` writes (tested below).

use crate::encode_client_message;
use slack_rtm_types::client::{ClientMessage, ClientMessageError, MAX_FRAME_BYTES, OutgoingMessage};
use slack_rtm_types::find_string_special;
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
        let strings = m.channel.len() + m.text.len() + m.thread_ts.as_ref().map_or(0, |t| t.len());
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
    let channel = channel.as_str();
    // Written into a `String` from `&str`s and ASCII only: no UTF-8 check of the frame after.
    let mut out = String::with_capacity(64 + channel.len() + text.len() + ts.map_or(0, str::len));
    out.push_str("{\"id\":");
    push_u64(&mut out, id);
    out.push_str(",\"type\":\"message\",\"channel\":");
    string(&mut out, channel);
    out.push_str(",\"text\":");
    string(&mut out, text);
    if let Some(ts) = ts {
        out.push_str(",\"thread_ts\":");
        string(&mut out, ts);
    }
    if let Some(b) = *reply_broadcast {
        out.push_str(if b { ",\"reply_broadcast\":true" } else { ",\"reply_broadcast\":false" });
    }
    out.push('}');
    out
}

/// A JSON string escaped as `serde_json` escapes it: `"` and `\`, the control characters
/// (`\b \t \n \f \r` short, the others `\u00XX` in lower-case hex), nothing else.
fn string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    // Eight bytes at a time: most text has nothing to escape.
    loop {
        let i = find_string_special(bytes, start);
        let Some(&b) = bytes.get(i) else { break };
        // `i` is at an ASCII byte, so a character boundary.
        out.push_str(&s[start..i]);
        escape(out, b);
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// One escaped byte (`"`, `\`, or a control character).
fn escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        b'\n' => "\\n",
        b'\r' => "\\r",
        b'\t' => "\\t",
        0x08 => "\\b",
        0x0c => "\\f",
        _ => {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
            return;
        }
    };
    out.push_str(short);
}

/// Appends the decimal digits of `n`.
fn push_u64(out: &mut String, n: u64) {
    for &d in itoa(n, &mut [0; 20]) {
        out.push(char::from(d));
    }
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
        let every_control: String = (0u8..0x20).map(char::from).chain(['\u{7f}', '/', '\'']).collect();
        let texts = [
            "round trip",
            "",
            "quote \" backslash \\ tab \t nl \n ctl \u{1} é 😀 </script>",
            "x",
            every_control.as_str(),
            "\"\\\u{8}\u{c}\r\u{1f}é\u{1}",
        ];
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
