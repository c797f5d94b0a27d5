//! The app-level token Socket Mode needs (`xapp-…`).

use std::fmt;

/// An app-level token (`xapp-…`, scope `connections:write`): the only token
/// `apps.connections.open` takes, and a secret.
///
/// Like [`crate::Token`], `Debug` and `Display` never show it (`xapp-…redacted`) and it
/// implements neither `Serialize` nor `Deserialize`. The only way to read it is
/// [`AppToken::expose_secret`], for the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct AppToken(String);

/// Why a string is not an app-level token. Never holds the string itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppTokenError {
    /// The string is empty (or only whitespace).
    Empty,
    /// A bot (`xoxb-`) or user (`xoxp-`) token: Socket Mode needs an app-level token.
    NotAnAppToken {
        /// The prefix that was found (`xoxb` or `xoxp`), never more of the secret.
        prefix: &'static str,
    },
    /// Some other string that does not start with `xapp-`.
    UnknownFormat,
}

/// What every [`AppTokenError`] says: where to get the right token.
const HOW_TO_GET_ONE: &str = "Socket Mode needs an app-level token (xapp-…) with the \
    connections:write scope: create one under Basic Information → App-Level Tokens in the \
    app's settings";

impl fmt::Display for AppTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppTokenError::Empty => write!(f, "the app token is empty; {HOW_TO_GET_ONE}"),
            AppTokenError::NotAnAppToken { prefix } => {
                write!(f, "a {prefix}- token is not an app-level token; {HOW_TO_GET_ONE}")
            }
            AppTokenError::UnknownFormat => {
                write!(f, "the token does not start with xapp-; {HOW_TO_GET_ONE}")
            }
        }
    }
}

impl std::error::Error for AppTokenError {}

impl AppToken {
    /// Checks and wraps an app-level token. Surrounding whitespace (e.g. a trailing newline
    /// from a file) is removed. A bot or user token is refused with a message that says an
    /// app-level token with `connections:write` is needed.
    pub fn new(token: impl Into<String>) -> Result<Self, AppTokenError> {
        let mut s: String = token.into();
        let trimmed = s.trim();
        if trimmed.len() != s.len() {
            s = trimmed.to_owned();
        }
        if s.is_empty() {
            return Err(AppTokenError::Empty);
        }
        if s.starts_with("xapp-") {
            return Ok(Self(s));
        }
        for prefix in ["xoxb", "xoxp"] {
            if s.starts_with(prefix) && s.as_bytes().get(4) == Some(&b'-') {
                return Err(AppTokenError::NotAnAppToken { prefix });
            }
        }
        Err(AppTokenError::UnknownFormat)
    }

    /// The secret itself. Use it only to build the `Authorization` header.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AppToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppToken({self})")
    }
}

impl fmt::Display for AppToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("xapp-…redacted")
    }
}

impl TryFrom<String> for AppToken {
    type Error = AppTokenError;
    fn try_from(s: String) -> Result<Self, AppTokenError> {
        Self::new(s)
    }
}

impl TryFrom<&str> for AppToken {
    type Error = AppTokenError;
    fn try_from(s: &str) -> Result<Self, AppTokenError> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_everywhere() {
        let t = AppToken::new(" xapp-1-A111-222-SeCrEt\n").unwrap();
        assert_eq!(t.expose_secret(), "xapp-1-A111-222-SeCrEt");
        for shown in [format!("{t}"), format!("{t:?}"), format!("{t:#?}")] {
            assert!(!shown.contains("SeCrEt") && !shown.contains("A111"), "{shown}");
            assert!(shown.contains("xapp-…redacted"), "{shown}");
        }
    }

    #[test]
    fn bot_and_user_tokens_are_refused_with_a_clear_message() {
        for (token, prefix) in [("xoxb-1-2-SeCrEt", "xoxb"), ("xoxp-1-2-SeCrEt", "xoxp")] {
            let e = AppToken::new(token).unwrap_err();
            assert_eq!(e, AppTokenError::NotAnAppToken { prefix });
            let msg = e.to_string();
            assert!(msg.contains("app-level token") && msg.contains("connections:write"), "{msg}");
            assert!(!msg.contains("SeCrEt"), "{msg}");
        }
        assert_eq!(AppToken::new("  "), Err(AppTokenError::Empty));
        assert_eq!(AppToken::new("xoxe-1-SeCrEt"), Err(AppTokenError::UnknownFormat));
        assert!(!AppTokenError::UnknownFormat.to_string().contains("SeCrEt"));
        assert!(AppToken::try_from("xapp-1").is_ok());
    }
}
