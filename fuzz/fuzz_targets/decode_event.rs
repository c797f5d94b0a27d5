//! `decode_event` / `decode_event_bytes` on arbitrary bytes: never panics, and the two entry
//! points agree; a frame with a type decodes as its `EventFrame` does, and its borrowed message
//! view (`decode_message_view`) fails only when the decode fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_rtm_codec::{EventFrame, decode_event, decode_event_bytes, decode_event_frame, decode_message_view};

fuzz_target!(|data: &[u8]| {
    let from_bytes = decode_event_bytes(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let from_text = decode_event(text);
        assert_eq!(from_text.is_ok(), from_bytes.is_ok(), "decode_event and decode_event_bytes disagree");
        if let Some(frame) = EventFrame::copy_from(text) {
            let decoded = decode_event_frame(&frame);
            if let Err(e) = decode_message_view(&frame) {
                assert_eq!(decoded.err(), Some(e), "the view failed where the decode did not");
            }
        }
    }
});
