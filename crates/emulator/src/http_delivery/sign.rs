//! What a request to a Request URL looks like: its body (Events API JSON, a slash command's
//! form, an interaction's `payload=` form) and Slack's `v0` signature over it. The emulator
//! computes signatures itself (it shares no code with the client it tests).

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// `v0=` + hex(HMAC-SHA256(secret, `v0:{timestamp}:{body}`)).
pub(crate) fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(3 + digest.len() * 2);
    out.push_str("v0=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A value as a form field: strings as they are, anything else as its JSON text.
fn field(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A form body of these pairs.
pub(crate) fn form(pairs: &[(String, String)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs).unwrap_or_default().into_bytes()
}

/// The content type and body Slack sends an envelope's payload with: `events_api` as JSON,
/// `slash_commands` as a form of its fields, anything else (interactions, options) as a form
/// with one `payload` field holding the JSON.
pub(crate) fn encode(envelope_type: &str, payload: &Value) -> (&'static str, Vec<u8>) {
    match envelope_type {
        "events_api" => ("application/json", payload.to_string().into_bytes()),
        "slash_commands" => {
            let pairs: Vec<(String, String)> =
                payload.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), field(v))).collect();
            ("application/x-www-form-urlencoded", form(&pairs))
        }
        _ => ("application/x-www-form-urlencoded", form(&[("payload".to_owned(), payload.to_string())])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slacks_documented_example_signs_as_documented() {
        // The example of Slack's "Verifying requests from Slack" page.
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        assert_eq!(
            signature("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body.as_bytes()),
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
    }

    #[test]
    fn commands_are_forms_of_their_fields_and_interactions_a_payload_field() {
        let (ct, body) = encode("slash_commands", &serde_json::json!({"command": "/x", "text": "a b&c"}));
        assert_eq!(ct, "application/x-www-form-urlencoded");
        assert_eq!(String::from_utf8(body).unwrap(), "command=%2Fx&text=a+b%26c");
        let (_, body) = encode("interactive", &serde_json::json!({"type": "shortcut"}));
        assert_eq!(String::from_utf8(body).unwrap(), "payload=%7B%22type%22%3A%22shortcut%22%7D");
    }
}
