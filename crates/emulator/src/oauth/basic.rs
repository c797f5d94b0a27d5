//! `Authorization: Basic` (RFC 7617): the client id and secret of `oauth.v2.access`. Base64
//! decoding is a few lines here rather than a dependency.

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// The value of one base64 digit (standard alphabet).
fn digit(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Decodes standard base64 (padding optional); `None` on any other character.
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        acc = (acc << 6) | digit(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// What the `Authorization` header says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Basic {
    /// No `Authorization: Basic` header.
    Absent,
    /// One that does not decode to `id:secret`.
    Malformed,
    /// The client id and secret.
    Credentials(String, String),
}

/// Reads `Authorization: Basic base64(id:secret)`.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Basic {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return Basic::Absent };
    let value = value.trim();
    let Some(scheme) = value.get(..6) else { return Basic::Absent };
    if !scheme.eq_ignore_ascii_case("basic ") {
        return Basic::Absent;
    }
    let decoded = decode(value[6..].trim()).and_then(|b| String::from_utf8(b).ok());
    match decoded.as_deref().and_then(|s| s.split_once(':')) {
        Some((id, secret)) => Basic::Credentials(id.to_owned(), secret.to_owned()),
        None => Basic::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_with_and_without_padding() {
        assert_eq!(decode("aWQ6c2VjcmV0").unwrap(), b"id:secret");
        assert_eq!(decode("YQ==").unwrap(), b"a");
        assert_eq!(decode("YQ").unwrap(), b"a");
        assert_eq!(decode("YWI=").unwrap(), b"ab");
        assert!(decode("a b").is_none());
    }

    #[test]
    fn reads_basic_credentials() {
        let mut h = HeaderMap::new();
        assert_eq!(basic_credentials(&h), Basic::Absent);
        h.insert(AUTHORIZATION, "Basic aWQ6c2VjcmV0".parse().unwrap());
        assert_eq!(basic_credentials(&h), Basic::Credentials("id".into(), "secret".into()));
        h.insert(AUTHORIZATION, "basic bm9jb2xvbg==".parse().unwrap());
        assert_eq!(basic_credentials(&h), Basic::Malformed);
        h.insert(AUTHORIZATION, "Bearer xoxb-1".parse().unwrap());
        assert_eq!(basic_credentials(&h), Basic::Absent);
    }
}
