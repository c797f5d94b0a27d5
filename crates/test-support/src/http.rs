//! A raw HTTP/1.1 answer for tests that speak HTTP over a bare TCP stream (so a malformed or
//! exactly shaped request can be sent): the status, the headers and the body, parsed from the
//! bytes read until the server closed.

use serde_json::Value;

/// One HTTP/1.1 answer: status, headers (names lower-cased), body (de-chunked).
#[derive(Debug)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// The headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked when it came `Transfer-Encoding: chunked`.
    pub body: Vec<u8>,
}

impl HttpAnswer {
    /// Parses an answer read until the connection closed; panics (failing the test) when the
    /// bytes are not one.
    pub fn parse(buf: &[u8]) -> HttpAnswer {
        let split = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(buf)));
        let head = String::from_utf8_lossy(&buf[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP status line: {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let mut body = buf[split + 4..].to_vec();
        if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked")) {
            body = dechunk(&body);
        }
        HttpAnswer { status, headers, body }
    }

    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics (failing the test) when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// Slack's `error` field of a JSON answer (`<none>` without one).
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("<none>").to_owned()
    }
}

/// The data of a chunked body (up to the last chunk, or as far as it goes).
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let Some(size) =
            std::str::from_utf8(&data[..eol]).ok().and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
        else {
            break;
        };
        let start = eol + 2;
        if size == 0 || data.len() < start + size {
            break;
        }
        out.extend_from_slice(&data[start..start + size]);
        data = data.get(start + size + 2..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_parsed_with_lower_cased_names_and_a_dechunked_body() {
        let a = HttpAnswer::parse(
            b"HTTP/1.1 200 OK\r\nX-Slack-Req-Id: r1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"o\r\n8\r\nk\":true}\r\n0\r\n\r\n",
        );
        assert_eq!(a.status, 200);
        assert_eq!(a.headers[0], ("x-slack-req-id".to_owned(), "r1".to_owned()));
        assert_eq!(a.header("X-SLACK-REQ-ID"), Some("r1"));
        assert_eq!(a.json()["ok"], true);
        assert_eq!(a.error(), "<none>");
    }

    #[test]
    fn a_plain_body_is_kept_as_sent() {
        let a = HttpAnswer::parse(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n\r\n{\"ok\":false,\"error\":\"ratelimited\"}");
        assert_eq!((a.status, a.header("retry-after")), (429, Some("3")));
        assert_eq!(a.error(), "ratelimited");
    }

    #[test]
    #[should_panic(expected = "no HTTP answer")]
    fn bytes_without_a_head_fail_the_test() {
        HttpAnswer::parse(b"garbage");
    }
}
