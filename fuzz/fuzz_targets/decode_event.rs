//! `decode_event` / `decode_event_bytes` on arbitrary bytes: never panics, and the two entry
//! points agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_rtm_codec::{decode_event, decode_event_bytes};

fuzz_target!(|data: &[u8]| {
    let from_bytes = decode_event_bytes(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let from_text = decode_event(text);
        assert_eq!(from_text.is_ok(), from_bytes.is_ok(), "decode_event and decode_event_bytes disagree");
    }
});
