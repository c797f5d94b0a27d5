//! The browser-binding cookie: `/slack/install` sets a random browser id in it, and the
//! redirect reads it back to check the state ([`super::StateSigner::verify`]).

use super::{OAuthError, STATE_TTL};
use http::HeaderMap;
use http::header::COOKIE;

/// The cookie's name.
pub const BROWSER_COOKIE: &str = "slack-rtm-oauth-browser";

/// The `Set-Cookie` value for `browser_id` (`[A-Za-z0-9_-]{16,64}`): `HttpOnly`, `SameSite=Lax`
/// (sent on Slack's top-level redirect back), path `/`, living as long as a state, and
/// `Secure` when the app is served over HTTPS.
pub fn set_browser_cookie(browser_id: &str, secure: bool) -> Result<String, OAuthError> {
    if !super::state::nonce_ok(browser_id) {
        return Err(OAuthError::BadNonce);
    }
    let secure = if secure { "; Secure" } else { "" };
    Ok(format!(
        "{BROWSER_COOKIE}={browser_id}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        STATE_TTL.as_secs()
    ))
}

/// The `Set-Cookie` value that removes the cookie (after the redirect, success or not).
pub fn clear_browser_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{BROWSER_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}")
}

/// The browser id from a request's `Cookie` headers, if present (first one wins).
pub fn browser_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == BROWSER_COOKIE && !value.is_empty())
        .map(|(_, value)| value)
}
