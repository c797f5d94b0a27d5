//! `EnvelopeFrame::parts` (the one-walk scan of an envelope) against serde on the same text:
//! whenever the scan answers, it answers what serde reads; on plain envelopes it always
//! answers.

use proptest::prelude::*;
use serde_json::Value;
use slack_rtm_types::socket_mode::{Envelope, EnvelopeFrame, SocketFrame};

/// What serde reads for the parts.
#[derive(Debug, PartialEq)]
struct Serde {
    payload: Option<String>,
    retry_attempt: u32,
    retry_reason: Option<String>,
    accepts: bool,
    event_id: Option<String>,
    event_type: Option<String>,
}

fn serde_parts(text: &str) -> Option<Serde> {
    let SocketFrame::Envelope(e) = SocketFrame::from_json(text).ok()? else { return None };
    let Envelope { payload, retry_attempt, retry_reason, accepts_response_payload, .. } = *e;
    let inner: Value = payload.as_ref().map_or(Value::Null, |p| serde_json::from_str(p.as_str()).unwrap());
    let s = |v: &Value| v.as_str().map(str::to_owned);
    Some(Serde {
        payload: payload.map(|p| p.as_str().to_owned()),
        retry_attempt,
        retry_reason,
        accepts: accepts_response_payload,
        event_id: s(&inner["event_id"]),
        event_type: s(&inner["event"]["type"]),
    })
}

/// A value of any kind, sometimes odd for the field it is given to.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        Just("0".to_owned()),
        Just("3".to_owned()),
        Just("1.5".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just(r#""plain, {with} [brackets]""#.to_owned()),
        Just(r#""esc\"aped\u0041""#.to_owned()),
        Just(r#"{"type":"inner","event_id":"x"}"#.to_owned()),
        Just(r#"[{"type":"a"},"b"]"#.to_owned()),
    ]
}

/// An envelope's keys in a random order; each field plain (`true`) or random.
fn envelope(plain: bool) -> impl Strategy<Value = String> {
    let field = move |plain_value: &'static str| -> BoxedStrategy<String> {
        if plain {
            Just(plain_value.to_owned()).boxed()
        } else {
            prop_oneof![3 => Just(plain_value.to_owned()), 1 => value()].boxed()
        }
    };
    let event = (field(r#""message""#), field(r#""hi, \"you\"""#)).prop_map(|(t, text)| {
        format!(r#"{{"blocks":[{{"type":"rich_text","elements":[]}}],"type":{t},"text":{text},"meta":{{"type":"x"}}}}"#)
    });
    let event = if plain { event.boxed() } else { prop_oneof![4 => event, 1 => value()].boxed() };
    let payload = (field(r#""Ev0123""#), event, any::<bool>()).prop_map(|(event_id, event, id_first)| {
        let (a, b) = (format!(r#""event_id":{event_id}"#), format!(r#""event":{event}"#));
        let (a, b) = if id_first { (a, b) } else { (b, a) };
        format!(r#"{{"token":"t","type":"event_callback",{a},{b},"authorizations":[{{"type":1}}]}}"#)
    });
    let payload = if plain { payload.boxed() } else { prop_oneof![4 => payload, 1 => value()].boxed() };
    (payload, field("2"), field(r#""timeout""#), field("true"), any::<u64>()).prop_map(
        |(payload, attempt, reason, accepts, seed)| {
            let mut keys = [
                r#""type":"events_api""#.to_owned(),
                r#""envelope_id":"e-1""#.to_owned(),
                format!(r#""payload":{payload}"#),
                format!(r#""retry_attempt":{attempt}"#),
                format!(r#""retry_reason":{reason}"#),
                format!(r#""accepts_response_payload":{accepts}"#),
            ];
            // A deterministic shuffle from the seed.
            let mut s = seed;
            for i in (1..keys.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                keys.swap(i, (s >> 33) as usize % (i + 1));
            }
            format!("{{{}}}", keys.join(" , "))
        },
    )
}

fn check(text: &str, must_answer: bool) -> Result<(), TestCaseError> {
    let frame = EnvelopeFrame::new(text.to_owned()).expect("an envelope");
    let want = serde_parts(text);
    match frame.parts() {
        Some(p) => {
            let got = Serde {
                payload: p.payload.map(str::to_owned),
                retry_attempt: p.retry_attempt,
                retry_reason: p.retry_reason.map(str::to_owned),
                accepts: p.accepts_response_payload,
                event_id: p.event_id.map(str::to_owned),
                event_type: p.event_type.map(str::to_owned),
            };
            prop_assert_eq!(Some(got), want, "{}", text);
            // The retry fields alone read the same as through `parts`.
            prop_assert_eq!(frame.retry(), Some((p.retry_attempt, p.retry_reason)), "{}", text);
            check_into_payload(&frame)?;
        }
        None => {
            prop_assert!(!must_answer, "no parts for a plain envelope: {}", text);
            prop_assert_eq!(frame.retry(), None, "{}", text);
        }
    }
    Ok(())
}

/// The payload taken over in place is the same JSON as its copy: the same text, equal, the
/// same hash, the same serialization; none when the scan read none.
fn check_into_payload(frame: &EnvelopeFrame) -> Result<(), TestCaseError> {
    let copy = frame.payload_json();
    let mut taken = frame.clone();
    match (taken.take_payload(), copy) {
        (Some(inner), Some(copy)) => {
            // The frame is left empty.
            prop_assert_eq!((taken.as_str(), taken.envelope_id(), taken.envelope_type()), ("", "", ""));
            prop_assert!(taken.parts().is_none());
            prop_assert_eq!(inner.as_str(), copy.as_str());
            prop_assert_eq!(&inner, &copy);
            prop_assert_eq!(hash(&inner), hash(&copy));
            prop_assert_eq!(serde_json::to_string(&inner).unwrap(), serde_json::to_string(&copy).unwrap());
            prop_assert_eq!(format!("{inner:?}"), format!("{copy:?}"));
            prop_assert_eq!(inner.to_value(), copy.to_value());
        }
        (None, None) => prop_assert_eq!(&taken, frame),
        (inner, copy) => prop_assert!(false, "take_payload {inner:?} but payload_json {copy:?}"),
    }
    Ok(())
}

fn hash(v: &impl std::hash::Hash) -> u64 {
    use std::hash::{BuildHasher, RandomState};
    thread_local!(static STATE: RandomState = RandomState::new());
    STATE.with(|s| s.hash_one(v))
}

proptest! {
    #[test]
    fn parts_agree_with_serde(text in envelope(false)) {
        check(&text, false)?;
    }

    #[test]
    fn plain_envelopes_are_always_read(text in envelope(true)) {
        check(&text, true)?;
    }
}
