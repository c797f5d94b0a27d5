//! Slack's `v0` request signature: HMAC-SHA256 over `v0:{timestamp}:{raw body}`, keyed with the
//! app's signing secret, sent as `X-Slack-Signature: v0=<hex>` beside
//! `X-Slack-Request-Timestamp`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

type HmacSha256 = Hmac<Sha256>;

/// How far a request's timestamp may be from now, either way, before it is refused as a
/// replay: 5 minutes, as Slack's documentation and the official SDKs say.
pub const MAX_TIMESTAMP_SKEW: Duration = Duration::from_secs(5 * 60);

/// The only signature version Slack uses.
const VERSION: &str = "v0";

/// An app's signing secret (Basic Information → App Credentials): a secret.
///
/// `Debug` and `Display` print `…redacted`; it implements neither `Serialize` nor
/// `Deserialize`. The only way to read it is [`SigningSecret::expose_secret`].
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl SigningSecret {
    /// Wraps a signing secret. Surrounding whitespace (e.g. a trailing newline from a file) is
    /// removed.
    pub fn new(secret: impl Into<String>) -> Self {
        let s: String = secret.into();
        Self(s.trim().to_owned())
    }

    /// The secret itself. Used only as the HMAC key.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (an empty secret is refused by [`crate::http_mode::Verifier`]).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `X-Slack-Signature` value (`v0=` + 64 hex digits) of `body` sent at `timestamp`
    /// (the `X-Slack-Request-Timestamp` value, Unix seconds): what Slack computes. For clients,
    /// tests and emulators that sign their own requests.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        let tag = KeyedMac::new(self).mac(timestamp, body).finalize().into_bytes();
        let mut out = String::with_capacity(3 + 64);
        out.push_str("v0=");
        for b in tag {
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
        out
    }

    /// Checks a request's signature headers against its raw body, at `now`.
    ///
    /// `timestamp` and `signature` are the raw header values (`None` when absent). The
    /// timestamp is checked first (a stale request is refused without computing anything),
    /// then the HMAC, compared in constant time.
    pub fn verify(
        &self,
        timestamp: Option<&[u8]>,
        signature: Option<&[u8]>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), SignatureError> {
        KeyedMac::new(self).verify(timestamp, signature, body, now).map(drop)
    }
}

/// The HMAC keyed with a signing secret, once: HMAC-SHA256 hashes the padded key into two
/// blocks (inner and outer) before any message byte, so a verifier that keeps this state and
/// clones it per request skips those two SHA-256 blocks (of about 16 for a 730-byte body).
/// `Debug` shows no key material.
#[derive(Clone)]
pub(crate) struct KeyedMac(HmacSha256);

impl KeyedMac {
    pub(crate) fn new(secret: &SigningSecret) -> Self {
        // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
        match HmacSha256::new_from_slice(secret.0.as_bytes()) {
            Ok(m) => Self(m),
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        }
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> HmacSha256 {
        let mut mac = self.0.clone();
        mac.update(VERSION.as_bytes());
        mac.update(b":");
        mac.update(timestamp.as_bytes());
        mac.update(b":");
        mac.update(body);
        mac
    }

    /// [`SigningSecret::verify`], with the key already hashed.
    /// Checks the timestamp's window and the signature; `Ok` holds the verified timestamp
    /// (seconds since the epoch), parsed once here.
    pub(crate) fn verify(
        &self,
        timestamp: Option<&[u8]>,
        signature: Option<&[u8]>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<u64, SignatureError> {
        let ts = check_timestamp(timestamp, now)?;
        let signature = signature.ok_or(SignatureError::MissingSignature)?;
        let hex = signature.strip_prefix(b"v0=").ok_or(SignatureError::UnknownVersion)?;
        let tag = decode_hex_32(hex).ok_or(SignatureError::Malformed)?;
        self.mac(ts.text, body).verify_slice(&tag).map_err(|_| SignatureError::Mismatch)?;
        Ok(ts.secs)
    }
}

impl fmt::Debug for KeyedMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedMac(…redacted)")
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(…redacted)")
    }
}

impl fmt::Display for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("…redacted")
    }
}

impl From<String> for SigningSecret {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for SigningSecret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// Why a request's signature was refused (all answered 401). Never carries the secret, the
/// signature or the body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No `X-Slack-Request-Timestamp` header.
    #[error("unsigned request: no X-Slack-Request-Timestamp header")]
    MissingTimestamp,
    /// No `X-Slack-Signature` header.
    #[error("unsigned request: no X-Slack-Signature header")]
    MissingSignature,
    /// The timestamp is not a Unix time in seconds.
    #[error("X-Slack-Request-Timestamp is not a Unix time in seconds")]
    BadTimestamp,
    /// The timestamp is more than [`MAX_TIMESTAMP_SKEW`] away from now (a replay, or a clock
    /// far off).
    #[error("stale request: its timestamp is {skew_secs} s away from now (at most 300 s allowed)")]
    Stale {
        /// How far from now, in seconds (either way).
        skew_secs: u64,
    },
    /// The signature is not `v0=…`.
    #[error("X-Slack-Signature is not a v0 signature")]
    UnknownVersion,
    /// The signature is not 64 hex digits.
    #[error("X-Slack-Signature is not 64 hex digits")]
    Malformed,
    /// The signature does not match the body and timestamp.
    #[error("bad signature: it does not match the request")]
    Mismatch,
}

pub(crate) struct Timestamp<'a> {
    pub(crate) text: &'a str,
    /// The same, parsed.
    pub(crate) secs: u64,
}

/// Parses the timestamp header and refuses it when stale; also used before the body is read.
pub(crate) fn check_timestamp(
    header: Option<&[u8]>,
    now: SystemTime,
) -> Result<Timestamp<'_>, SignatureError> {
    let raw = header.ok_or(SignatureError::MissingTimestamp)?;
    if raw.is_empty() || raw.len() > 19 || !raw.iter().all(u8::is_ascii_digit) {
        return Err(SignatureError::BadTimestamp);
    }
    let text = std::str::from_utf8(raw).map_err(|_| SignatureError::BadTimestamp)?;
    let ts: u64 = text.parse().map_err(|_| SignatureError::BadTimestamp)?;
    let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let skew = now.abs_diff(ts);
    if skew > MAX_TIMESTAMP_SKEW.as_secs() {
        return Err(SignatureError::Stale { skew_secs: skew });
    }
    Ok(Timestamp { text, secs: ts })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Each byte's hex digit value, or `0xff` for a byte that is not one (either case).
const UNHEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// 64 hex digits to 32 bytes. A table lookup per digit and one check at the end, no branch
/// per digit: a signature's digits are random, so a branch per digit (`0-9` or `a-f`) is
/// mispredicted about every other time (perf showed ~0.5 µs per request for the branchy one).
/// Timing leaks nothing: the signature is the sender's, not a secret.
fn decode_hex_32(hex: &[u8]) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (hi, lo) = (UNHEX[usize::from(pair[0])], UNHEX[usize::from(pair[1])]);
        bad |= (hi | lo) & 0xf0;
        *o = hi << 4 | lo;
    }
    (bad == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Slack's "Verifying requests from Slack" page.
    const DOC_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const DOC_TIMESTAMP: &str = "1531420618";
    const DOC_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const DOC_SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn slacks_documented_example_verifies() {
        let secret = SigningSecret::new(DOC_SECRET);
        assert_eq!(secret.sign(DOC_TIMESTAMP, DOC_BODY.as_bytes()), DOC_SIGNATURE);
        let ok = secret.verify(
            Some(DOC_TIMESTAMP.as_bytes()),
            Some(DOC_SIGNATURE.as_bytes()),
            DOC_BODY.as_bytes(),
            at(1_531_420_618 + 10),
        );
        assert_eq!(ok, Ok(()));
        // Upper-case hex is the same signature.
        let upper = format!("v0={}", DOC_SIGNATURE[3..].to_ascii_uppercase());
        assert_eq!(
            secret.verify(
                Some(DOC_TIMESTAMP.as_bytes()),
                Some(upper.as_bytes()),
                DOC_BODY.as_bytes(),
                at(1_531_420_618)
            ),
            Ok(())
        );
    }

    #[test]
    fn the_5_minute_window_is_inclusive_both_ways() {
        let secret = SigningSecret::new(DOC_SECRET);
        let check = |now| {
            secret.verify(
                Some(DOC_TIMESTAMP.as_bytes()),
                Some(DOC_SIGNATURE.as_bytes()),
                DOC_BODY.as_bytes(),
                at(now),
            )
        };
        let ts = 1_531_420_618;
        assert_eq!(check(ts + 300), Ok(()));
        assert_eq!(check(ts - 300), Ok(()));
        assert_eq!(check(ts + 301), Err(SignatureError::Stale { skew_secs: 301 }));
        assert_eq!(check(ts - 301), Err(SignatureError::Stale { skew_secs: 301 }));
    }

    #[test]
    fn the_hex_table_takes_each_digit_in_either_case_and_nothing_else() {
        let reference = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        for c in 0..=255u8 {
            for at in [0, 1, 62, 63] {
                let mut hex = [b'0'; 64];
                hex[at] = c;
                let decoded = decode_hex_32(&hex);
                match reference(c) {
                    Some(d) => {
                        let byte = decoded.unwrap_or_else(|| panic!("{c:#04x} at {at}"))[at / 2];
                        assert_eq!(byte, if at % 2 == 0 { d << 4 } else { d }, "{c:#04x} at {at}");
                    }
                    None => assert_eq!(decoded, None, "{c:#04x} at {at}"),
                }
            }
        }
        assert_eq!(decode_hex_32(&[b'0'; 63]), None);
        assert_eq!(decode_hex_32(&[b'0'; 65]), None);
    }

    #[test]
    fn each_missing_or_malformed_header_has_its_error() {
        let secret = SigningSecret::new(DOC_SECRET);
        let body = DOC_BODY.as_bytes();
        let now = at(1_531_420_618);
        let ts = Some(DOC_TIMESTAMP.as_bytes());
        assert_eq!(
            secret.verify(None, Some(DOC_SIGNATURE.as_bytes()), body, now),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(secret.verify(ts, None, body, now), Err(SignatureError::MissingSignature));
        for bad in ["", "-1", "12ab", "1e9", " 1531420618", "99999999999999999999"] {
            assert_eq!(
                secret.verify(Some(bad.as_bytes()), Some(DOC_SIGNATURE.as_bytes()), body, now),
                Err(SignatureError::BadTimestamp),
                "{bad:?}"
            );
        }
        let v1 = DOC_SIGNATURE.replacen("v0=", "v1=", 1);
        assert_eq!(secret.verify(ts, Some(v1.as_bytes()), body, now), Err(SignatureError::UnknownVersion));
        assert_eq!(secret.verify(ts, Some(b"v0=abc"), body, now), Err(SignatureError::Malformed));
        let not_hex = format!("v0={}", "zz".repeat(32));
        assert_eq!(secret.verify(ts, Some(not_hex.as_bytes()), body, now), Err(SignatureError::Malformed));
        let other = SigningSecret::new("another-secret");
        assert_eq!(
            other.verify(ts, Some(DOC_SIGNATURE.as_bytes()), body, now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn one_keyed_mac_verifies_request_after_request() {
        // The keyed state is cloned per request: a request (good or bad) leaves nothing in it
        // for the next one.
        let keyed = KeyedMac::new(&SigningSecret::new(DOC_SECRET));
        let now = at(1_531_420_618);
        let ts = Some(DOC_TIMESTAMP.as_bytes());
        let sig = Some(DOC_SIGNATURE.as_bytes());
        for _ in 0..3 {
            assert_eq!(keyed.verify(ts, sig, DOC_BODY.as_bytes(), now), Ok(1_531_420_618));
            assert_eq!(keyed.verify(ts, sig, b"another body", now), Err(SignatureError::Mismatch));
        }
        let other = SigningSecret::new("another-secret");
        let signed = other.sign(DOC_TIMESTAMP, b"x");
        assert_eq!(KeyedMac::new(&other).verify(ts, Some(signed.as_bytes()), b"x", now), Ok(1_531_420_618));
        assert_eq!(keyed.verify(ts, Some(signed.as_bytes()), b"x", now), Err(SignatureError::Mismatch));
    }

    #[test]
    fn the_secret_is_never_shown() {
        let secret = SigningSecret::new(format!("{DOC_SECRET}\n"));
        assert_eq!(secret.expose_secret(), DOC_SECRET);
        let verifier = crate::http_mode::Verifier::new(secret.clone()).unwrap();
        for shown in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{secret:#?}"),
            format!("{verifier:?}"),
            format!("{:?}", KeyedMac::new(&secret)),
        ] {
            assert!(!shown.contains("8f74"), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
    }
}
