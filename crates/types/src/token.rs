use std::fmt;

/// A Slack token (`xoxb-…`, `xoxp-…`, …): a secret.
///
/// `Debug` and `Display` print only its kind prefix, e.g. `xoxb-…redacted`. It implements
/// neither `Serialize` nor `Deserialize`, so it cannot end up in a JSON document by accident.
/// The only way to read it is [`Token::expose_secret`], which should be called in exactly one
/// place: where the `Authorization` header is built.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

/// The kind of a token, from its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// `xoxb-`: a bot token (classic apps can use RTM).
    Bot,
    /// `xoxp-`: a user token (needs the `client` or `rtm:stream` scope for RTM).
    User,
    /// `xapp-`: an app-level token, for Socket Mode; RTM refuses it.
    App,
    /// `xoxe-` and other prefixes.
    Other,
}

impl Token {
    /// Wraps a token string. Surrounding whitespace (e.g. a trailing newline from a file) is
    /// removed.
    pub fn new(token: impl Into<String>) -> Self {
        let mut s: String = token.into();
        let trimmed = s.trim();
        if trimmed.len() != s.len() {
            s = trimmed.to_owned();
        }
        Self(s)
    }

    /// The secret itself. Use it only to build the `Authorization` header.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the token is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The kind of token, from its prefix.
    pub fn kind(&self) -> TokenKind {
        match self.prefix() {
            Some("xoxb") => TokenKind::Bot,
            Some("xoxp") => TokenKind::User,
            Some("xapp") => TokenKind::App,
            _ => TokenKind::Other,
        }
    }

    /// The well-known prefix (`xoxb`, `xoxp`, …) if the token has one; never more of the secret.
    fn prefix(&self) -> Option<&'static str> {
        const KNOWN: [&str; 7] = ["xoxb", "xoxp", "xapp", "xoxe", "xoxa", "xoxs", "xoxr"];
        let head = self.0.split('-').next()?;
        KNOWN.iter().copied().find(|k| *k == head)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({self})")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix() {
            Some(p) => write!(f, "{p}-…redacted"),
            None => f.write_str("…redacted"),
        }
    }
}

impl From<String> for Token {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for Token {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let t = Token::new("xoxb-1234-5678-abcdefSECRET\n");
        assert_eq!(t.expose_secret(), "xoxb-1234-5678-abcdefSECRET");
        for shown in [format!("{t}"), format!("{t:?}"), format!("{t:#?}")] {
            assert!(!shown.contains("1234"), "{shown}");
            assert!(!shown.contains("SECRET"), "{shown}");
            assert!(shown.contains("xoxb-…redacted"), "{shown}");
        }
        assert_eq!(t.kind(), TokenKind::Bot);
    }

    #[test]
    fn unknown_prefix_is_not_printed() {
        let t = Token::new("supersecretvalue-with-dashes");
        assert_eq!(t.to_string(), "…redacted");
        assert_eq!(t.kind(), TokenKind::Other);
        assert_eq!(Token::new("xoxp-1").kind(), TokenKind::User);
        assert_eq!(Token::new("xapp-1").kind(), TokenKind::App);
    }
}
