//! The OAuth `state`: signed (HMAC-SHA256 with the app's state secret), expiring
//! ([`STATE_TTL`]), bound to the browser that started the install (a cookie's value is in the
//! MAC), and single-use (each state has a nonce, consumed once in a [`StateLedger`]).
//!
//! Wire form: `v1.{issued_at}.{nonce}.{tag}`: Unix seconds, the caller's random nonce
//! (`[A-Za-z0-9_-]`, 16–64 characters) and the URL-safe base64 of
//! `HMAC(secret, "slack-rtm-oauth-state/v1:" issued_at ":" nonce ":" SHA-256(browser))`.

use super::OAuthError;
use super::b64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// How long a state is accepted after it was issued: 10 minutes.
pub const STATE_TTL: Duration = Duration::from_secs(10 * 60);
/// How far in the future an issue time may be (clock skew between instances) before the state
/// is refused as forged.
const FUTURE_SKEW: u64 = 60;
const DOMAIN: &[u8] = b"slack-rtm-oauth-state/v1:";

/// The key that signs states: a secret (redacted in `Debug`). Every instance that may receive
/// the redirect needs the same one.
#[derive(Clone)]
pub struct StateSecret(Vec<u8>);

impl StateSecret {
    /// Wraps a secret (at least 16 bytes is wise; a random 32 is best).
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }
}

impl fmt::Debug for StateSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateSecret(…redacted)")
    }
}

/// A state that passed [`StateSigner::verify`]: its nonce must now be consumed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedState {
    /// The nonce: consume it in a [`StateLedger`] (or the caller's shared store).
    pub nonce: String,
    /// When it was issued (Unix seconds).
    pub issued_at: u64,
    /// Until when it is accepted (Unix seconds): keep the consumed nonce at least that long.
    pub expires_at: u64,
}

/// Issues and checks states.
#[derive(Clone, Debug)]
pub struct StateSigner {
    secret: StateSecret,
}

pub(super) fn nonce_ok(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl StateSigner {
    /// A signer with `secret`.
    pub fn new(secret: StateSecret) -> Self {
        Self { secret }
    }

    fn mac(&self, issued_at: &str, nonce: &str, browser: &str) -> HmacSha256 {
        let mut mac = match HmacSha256::new_from_slice(&self.secret.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(DOMAIN);
        mac.update(issued_at.as_bytes());
        mac.update(b":");
        mac.update(nonce.as_bytes());
        mac.update(b":");
        mac.update(&Sha256::digest(browser.as_bytes()));
        mac
    }

    /// A state issued at `now` (Unix seconds) with the caller's random `nonce`, bound to the
    /// browser whose cookie holds `browser`. A nonce outside `[A-Za-z0-9_-]{16,64}` is refused.
    pub fn issue(&self, now: u64, nonce: &str, browser: &str) -> Result<String, OAuthError> {
        if !nonce_ok(nonce) {
            return Err(OAuthError::BadNonce);
        }
        let issued_at = now.to_string();
        let tag = self.mac(&issued_at, nonce, browser).finalize().into_bytes();
        Ok(format!("v1.{issued_at}.{nonce}.{}", b64::url_safe(&tag)))
    }

    /// Checks `state` at `now` against the browser cookie's value (`None`: no cookie came).
    /// The tag is compared in constant time; any change to the state, or another browser,
    /// gives [`OAuthError::StateForged`]; one older than [`STATE_TTL`] gives
    /// [`OAuthError::StateExpired`]. Single use is the caller's next step
    /// ([`StateLedger::consume`]).
    pub fn verify(&self, state: &str, browser: Option<&str>, now: u64) -> Result<VerifiedState, OAuthError> {
        let browser = browser.ok_or(OAuthError::StateNoBrowser)?;
        let mut parts = state.split('.');
        let (Some("v1"), Some(issued), Some(nonce), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(OAuthError::StateForged);
        };
        let issued_at: u64 = match issued.parse::<u64>() {
            Ok(n) if issued == n.to_string() && nonce_ok(nonce) => n,
            _ => return Err(OAuthError::StateForged),
        };
        let expected = self.mac(issued, nonce, browser).finalize().into_bytes();
        // Compare the encodings in constant time: both are 43 ASCII characters when well formed.
        let expected = b64::url_safe(&expected);
        let same = expected.len() == tag.len()
            && expected.bytes().zip(tag.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same || issued_at > now.saturating_add(FUTURE_SKEW) {
            return Err(OAuthError::StateForged);
        }
        let expires_at = issued_at.saturating_add(STATE_TTL.as_secs());
        if now >= expires_at {
            return Err(OAuthError::StateExpired);
        }
        Ok(VerifiedState { nonce: nonce.to_owned(), issued_at, expires_at })
    }
}

/// The consumed nonces of one process (sans-IO, time passed in): each verified state is
/// accepted once. Entries leave when their state expires; at most `capacity` are kept (a full
/// ledger refuses new states rather than forgetting old ones, which would allow a replay).
/// Instances that share the redirect need a shared store instead.
#[derive(Debug)]
pub struct StateLedger {
    used: HashMap<String, u64>,
    capacity: usize,
}

impl StateLedger {
    /// A ledger holding at most `capacity` live nonces.
    pub fn new(capacity: usize) -> Self {
        Self { used: HashMap::new(), capacity: capacity.max(1) }
    }

    /// Consumes `state`'s nonce at `now`: `Ok` the first time, [`OAuthError::StateReused`]
    /// after, [`OAuthError::TooManyPendingStates`] when full of live nonces.
    pub fn consume(&mut self, state: &VerifiedState, now: u64) -> Result<(), OAuthError> {
        if self.used.contains_key(&state.nonce) {
            return Err(OAuthError::StateReused);
        }
        if self.used.len() >= self.capacity {
            self.used.retain(|_, expires| *expires > now);
            if self.used.len() >= self.capacity {
                return Err(OAuthError::TooManyPendingStates);
            }
        }
        self.used.insert(state.nonce.clone(), state.expires_at);
        Ok(())
    }

    /// How many nonces are kept.
    pub fn len(&self) -> usize {
        self.used.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }
}
