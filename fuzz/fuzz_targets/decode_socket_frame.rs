//! `decode_socket_frame` / `decode_socket_frame_bytes` on arbitrary bytes: never panics, the two
//! entry points agree, an envelope's payload always decodes, and the light scan of
//! `EnvelopeFrame` agrees with the full decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_rtm_codec::{EnvelopeFrame, SocketFrame, decode_envelope_frame, decode_socket_frame, decode_socket_frame_bytes};

fuzz_target!(|data: &[u8]| {
    let from_bytes = decode_socket_frame_bytes(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let from_text = decode_socket_frame(text);
    assert_eq!(from_text, from_bytes, "decode_socket_frame and decode_socket_frame_bytes disagree");
    if let Ok(SocketFrame::Envelope(e)) = &from_text {
        let _ = e.decode_payload();
    }
    if let Ok(frame) = EnvelopeFrame::new(text.to_owned()) {
        let scanned = decode_envelope_frame(&frame);
        assert_eq!(scanned.is_ok(), from_text.is_ok(), "the scan and the full decode disagree on validity");
        if let (Ok(SocketFrame::Envelope(e)), Ok(_)) = (&scanned, &from_text) {
            assert_eq!(e.envelope_id, frame.envelope_id());
            assert_eq!(e.envelope_type.as_str(), frame.envelope_type());
        }
    }
});
