//! Reading a Web API call: the body, its content type, form and multipart parsing, the token.

use crate::Shared;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::json;
use std::time::Duration;

/// Largest request body read.
const MAX_BODY: usize = 64 * 1024;
/// Longest accepted argument name.
pub(crate) const MAX_ARG_NAME_LEN: usize = 100;

/// The arguments and auth of a Web API call, after validation.
pub(crate) struct Call {
    pub args: Vec<(String, String)>,
    pub warnings: Vec<&'static str>,
    pub token: Option<String>,
    pub token_in_url: bool,
    pub bearer: bool,
}

pub(crate) enum BodyRead {
    Complete(Bytes),
    Truncated,
    TooLarge,
}

pub(crate) async fn read_body(body: Incoming, timeout: Duration) -> BodyRead {
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Ok(Ok(collected)) => BodyRead::Complete(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => BodyRead::TooLarge,
        Ok(Err(_)) | Err(_) => BodyRead::Truncated,
    }
}

pub(crate) struct ContentType {
    pub mime: String,
    pub charset: Option<String>,
    pub boundary: Option<String>,
}

pub(crate) fn parse_content_type(value: &str) -> ContentType {
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let (mut charset, mut boundary) = (None, None);
    for p in parts {
        let Some((k, v)) = p.split_once('=') else { continue };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "charset" => charset = Some(v),
            "boundary" => boundary = Some(v),
            _ => {}
        }
    }
    ContentType { mime, charset, boundary }
}

/// Percent-decodes a form component (`+` is a space). `None` on a bad escape.
pub(crate) fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                let hi = b.get(i + 1).copied().and_then(hex)?;
                let lo = b.get(i + 2).copied().and_then(hex)?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

pub(crate) fn decode_text(bytes: Vec<u8>, latin1: bool) -> Option<String> {
    if latin1 { Some(bytes.iter().map(|&b| b as char).collect()) } else { String::from_utf8(bytes).ok() }
}

/// Parses `a=1&b=2`. `None` when it is not valid form data.
pub(crate) fn parse_urlencoded(body: &[u8], latin1: bool) -> Option<Vec<(String, String)>> {
    let text = if latin1 {
        body.iter().map(|&b| b as char).collect()
    } else {
        String::from_utf8(body.to_vec()).ok()?
    };
    let mut args = Vec::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode_text(percent_decode(k)?, latin1)?;
        let v = decode_text(percent_decode(v)?, latin1)?;
        args.push((k, v));
    }
    Some(args)
}

/// Parses a `multipart/form-data` body. `None` when it is malformed.
pub(crate) fn parse_multipart(body: &[u8], boundary: &str, latin1: bool) -> Option<Vec<(String, String)>> {
    if boundary.is_empty() || boundary.len() > 200 {
        return None;
    }
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
        hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
    };
    let mut pos = find(body, d, 0)? + d.len();
    let mut args = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Some(args);
        }
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            return None;
        }
        pos += 2;
        let headers_end = find(body, b"\r\n\r\n", pos)?;
        let headers = std::str::from_utf8(&body[pos..headers_end]).ok()?;
        let name = headers.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            v.split(';').find_map(|p| {
                let (pk, pv) = p.split_once('=')?;
                (pk.trim() == "name").then(|| pv.trim().trim_matches('"').to_owned())
            })
        })?;
        let content_start = headers_end + 4;
        let mut end_delim = Vec::with_capacity(d.len() + 2);
        end_delim.extend_from_slice(b"\r\n");
        end_delim.extend_from_slice(d);
        let next = find(body, &end_delim, content_start)?;
        let value = decode_text(body[content_start..next].to_vec(), latin1)?;
        args.push((name, value));
        pos = next + end_delim.len();
    }
}

/// Reads and validates a Web API call. `strict`: apply every `rtm.connect` rule; otherwise
/// (auth.test) only find the token.
pub(crate) async fn read_call(
    shared: &Shared,
    req: Request<Incoming>,
    strict: bool,
) -> Result<Call, &'static str> {
    let (parts, body) = req.into_parts();
    let mut call =
        Call { args: Vec::new(), warnings: Vec::new(), token: None, token_in_url: false, bearer: false };
    if let Some(q) = parts.uri.query() {
        let q_args = parse_urlencoded(q.as_bytes(), false).unwrap_or_else(|| {
            // A bad escape in the URL: keep what can be read.
            q.split('&')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        });
        call.args.extend(q_args);
        call.token_in_url = call.args.iter().any(|(k, _)| k == "token");
    }
    if parts.method == Method::POST {
        let body = match read_body(body, shared.config.body_timeout).await {
            BodyRead::Complete(b) => b,
            BodyRead::Truncated => return Err("request_timeout"),
            BodyRead::TooLarge => return Err("invalid_form_data"),
        };
        // An empty (or blank) Content-Type is a missing one: Slack answers `missing_post_type`.
        let content_type =
            parts.headers.get(CONTENT_TYPE).filter(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace));
        match content_type {
            None if !body.is_empty() && strict => return Err("missing_post_type"),
            None => {}
            Some(value) => {
                let ct = match value.to_str() {
                    Ok(v) => parse_content_type(v),
                    Err(_) if strict => return Err("invalid_post_type"),
                    Err(_) => parse_content_type(""),
                };
                let form =
                    matches!(ct.mime.as_str(), "application/x-www-form-urlencoded" | "multipart/form-data");
                let plain = ct.mime == "text/plain";
                if strict && !form && !plain {
                    return Err("invalid_post_type");
                }
                let mut latin1 = false;
                if let Some(cs) = &ct.charset {
                    let cs = cs.to_ascii_lowercase();
                    latin1 = cs == "iso-8859-1";
                    if strict && cs != "utf-8" && !latin1 {
                        return Err("invalid_charset");
                    }
                    if form {
                        call.warnings.push("superfluous_charset");
                    }
                } else if plain {
                    call.warnings.push("missing_charset");
                }
                if !strict && !form && !plain {
                    // auth.test with e.g. a JSON body: ignore the body.
                } else if !body.is_empty() {
                    let parsed = if ct.mime == "multipart/form-data" {
                        parse_multipart(&body, ct.boundary.as_deref().unwrap_or(""), latin1)
                    } else {
                        parse_urlencoded(&body, latin1)
                    };
                    match parsed {
                        Some(a) => call.args.extend(a),
                        None if strict => return Err("invalid_form_data"),
                        None => {}
                    }
                }
            }
        }
    }
    if strict {
        for (name, _) in &call.args {
            if name.contains('[') || name.contains(']') {
                return Err("invalid_array_arg");
            }
            if name.is_empty()
                || name.len() > MAX_ARG_NAME_LEN
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err("invalid_arg_name");
            }
        }
    }
    if let Some(t) = bearer_token(&parts.headers) {
        call.token = Some(t);
        call.bearer = true;
    }
    if call.token.is_none() {
        // The body's token wins over the query's (it comes last in `args`).
        call.token = call.args.iter().rev().find(|(k, _)| k == "token").map(|(_, v)| v.clone());
    }
    Ok(call)
}

/// The token of an `Authorization: Bearer …` header, if there is a non-empty one.
pub(crate) fn bearer_token(headers: &http::HeaderMap) -> Option<String> {
    let auth = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = (auth.get(..7)?, auth.get(7..)?);
    let t = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer ") && !t.is_empty()).then(|| t.to_owned())
}

pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" | "" => Some(false),
        _ => None,
    }
}

pub(crate) fn with_warnings(mut body: serde_json::Value, warnings: &[&'static str]) -> serde_json::Value {
    if !warnings.is_empty() {
        body["warning"] = json!(warnings.join(","));
        let messages: Vec<String> = warnings
            .iter()
            .map(|w| match *w {
                "missing_charset" => {
                    "[WARN] A Content-Type of text/plain should declare a charset".to_owned()
                }
                "superfluous_charset" => {
                    "[WARN] A form body's Content-Type does not take a charset".to_owned()
                }
                other => format!("[WARN] {other}"),
            })
            .collect();
        body["response_metadata"] = json!({"warnings": warnings, "messages": messages});
    }
    body
}

pub(crate) fn redacted_args(args: &[(String, String)]) -> Vec<(String, String)> {
    args.iter()
        .map(
            |(k, v)| if k == "token" { (k.clone(), "<redacted>".to_owned()) } else { (k.clone(), v.clone()) },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parsing() {
        let ct = parse_content_type("Multipart/Form-Data; boundary=\"abc\"; charset=UTF-8");
        assert_eq!(ct.mime, "multipart/form-data");
        assert_eq!(ct.boundary.as_deref(), Some("abc"));
        assert_eq!(ct.charset.as_deref(), Some("UTF-8"));
    }

    #[test]
    fn urlencoded_parsing() {
        assert_eq!(
            parse_urlencoded(b"a=1&b=x+y%21&&c", false).unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "x y!".into()), ("c".into(), "".into())]
        );
        assert!(parse_urlencoded(b"a=%zz", false).is_none());
        assert!(parse_urlencoded(b"a=%e9", false).is_none());
        assert_eq!(parse_urlencoded(b"a=%e9", true).unwrap(), vec![("a".into(), "é".into())]);
    }

    #[test]
    fn multipart_parsing() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nxoxb-1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"presence_sub\"\r\n\r\nfalse\r\n--XyZ--\r\n";
        assert_eq!(
            parse_multipart(body, "XyZ", false).unwrap(),
            vec![("token".into(), "xoxb-1".into()), ("presence_sub".into(), "false".into())]
        );
        assert!(parse_multipart(b"garbage", "XyZ", false).is_none());
        assert!(parse_multipart(body, "", false).is_none());
        assert!(
            parse_multipart(
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end",
                "XyZ",
                false
            )
            .is_none()
        );
    }
}
