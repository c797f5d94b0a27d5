//! `hello` read without serde when it has the plain shape Slack sends.
//!
//! `hello` is the first frame of every socket, and the only typed decode a Socket Mode client
//! runs before its first envelope. Through serde's derive it runs a dozen generic instances
//! (the frame, `debug_info`, `connection_info`, their fields) that the compiler places among
//! the typed payloads' instances: a program that links those (an `App`) kept ~0.7 MB more of
//! its code resident for them (docs/perf/mem9.md). This reader takes the plain shape — plain
//! keys and strings (no escapes), integers, `true`/`false`/`null`, and the two known objects —
//! and leaves anything else to serde, which then decides (the same value, or the same error).

use super::{ConnectionInfo, DebugInfo, SocketModeHello};
use crate::scan::find_string_special;

/// `text` as [`SocketModeHello`] if it is an object of the plain shape above; `None` for
/// anything else (an escape, an array, a fraction or exponent, a negative number or one out of
/// range, a known field twice or of another type, an unknown field holding an object, text
/// after the object, invalid JSON): the caller decodes those with serde. For every text this
/// accepts, serde's decode gives the same value.
pub(super) fn plain_hello(text: &str) -> Option<SocketModeHello> {
    let mut r = Reader { text, bytes: text.as_bytes(), i: 0 };
    let mut hello = SocketModeHello::default();
    let mut seen = [false; 3];
    r.object(|r, key| {
        let (slot, value) = match key {
            "num_connections" => {
                (0, r.opt(Reader::number)?.map(u32::try_from).transpose().ok()?.map(Field::N))
            }
            "debug_info" => (1, r.opt(Reader::debug_info)?.map(Field::D)),
            "connection_info" => (2, r.opt(Reader::connection_info)?.map(Field::C)),
            _ => return r.skip_plain(),
        };
        if std::mem::replace(&mut seen[slot], true) {
            return None; // a field twice: serde's error
        }
        match value {
            Some(Field::N(n)) => hello.num_connections = Some(n),
            Some(Field::D(d)) => hello.debug_info = Some(d),
            Some(Field::C(c)) => hello.connection_info = Some(c),
            None => {}
        }
        Some(())
    })?;
    r.end().then_some(hello)
}

enum Field {
    N(u32),
    D(DebugInfo),
    C(ConnectionInfo),
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn word(&mut self, w: &[u8]) -> bool {
        self.skip_ws();
        let found = self.bytes[self.i..].starts_with(w);
        if found {
            self.i += w.len();
        }
        found
    }

    /// Only at the end: whitespace, then nothing.
    fn end(&mut self) -> bool {
        self.skip_ws();
        self.i == self.bytes.len()
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let end = find_string_special(self.bytes, self.i);
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        // Both ends are ASCII quotes: char boundaries.
        let s = &self.text[self.i..end];
        self.i = end + 1;
        Some(s)
    }

    /// A non-negative integer in JSON's form (no leading zero, no fraction, no exponent) that
    /// fits a `u64`.
    fn number(&mut self) -> Option<u64> {
        self.skip_ws();
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.bytes.get(self.i).copied() {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.i += 1;
        }
        let digits = self.i - start;
        let leading_zero = digits > 1 && self.bytes[start] == b'0';
        let more = matches!(self.bytes.get(self.i), Some(b'.' | b'e' | b'E'));
        (digits > 0 && !leading_zero && !more).then_some(n)
    }

    /// `null` as `Some(None)`, else `value`'s reading.
    fn opt<T>(&mut self, value: fn(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.word(b"null") { Some(None) } else { value(self).map(Some) }
    }

    /// An unknown field's value, if plain: a string, an integer, `true`, `false` or `null`.
    fn skip_plain(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'0'..=b'9' => self.number().map(drop),
            _ => (self.word(b"true") || self.word(b"false") || self.word(b"null")).then_some(()),
        }
    }

    /// An object: `member` reads each value after its key (and fails for a key it refuses).
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn debug_info(&mut self) -> Option<DebugInfo> {
        let mut d = DebugInfo::default();
        let mut seen = [false; 3];
        self.object(|r, key| {
            let slot = match key {
                "host" => 0,
                "build_number" => 1,
                "approximate_connection_time" => 2,
                _ => return r.skip_plain(),
            };
            if std::mem::replace(&mut seen[slot], true) {
                return None;
            }
            match slot {
                0 => d.host = r.opt(Reader::string)?.map(str::to_owned),
                1 => d.build_number = r.opt(Reader::number)?,
                _ => d.approximate_connection_time = r.opt(Reader::number)?,
            }
            Some(())
        })?;
        Some(d)
    }

    fn connection_info(&mut self) -> Option<ConnectionInfo> {
        let mut c = ConnectionInfo::default();
        let mut seen = false;
        self.object(|r, key| {
            if key != "app_id" {
                return r.skip_plain();
            }
            if std::mem::replace(&mut seen, true) {
                return None;
            }
            c.app_id = r.opt(Reader::string)?.map(str::to_owned);
            Some(())
        })?;
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::plain_hello;
    use crate::socket_mode::{SocketFrame, SocketModeHello};
    use proptest::prelude::*;

    /// Slack's `hello`, as its docs and servers send it, in a few layouts.
    const SLACK: &[&str] = &[
        r#"{"type":"hello","num_connections":1,"debug_info":{"host":"applink-7fc4fdbb64-4x5xq","build_number":10,"approximate_connection_time":18060},"connection_info":{"app_id":"A01K58AR4RF"}}"#,
        "{\n  \"type\": \"hello\",\n  \"num_connections\": 4,\n  \"debug_info\": {\n    \"host\": \"applink-1\",\n    \"started\": \"2021-01-11 21:21:38.185\",\n    \"build_number\": 18,\n    \"approximate_connection_time\": 18060\n  },\n  \"connection_info\": {\n    \"app_id\": \"A1\"\n  }\n}\n",
        r#"{"type":"hello"}"#,
        r#"{"num_connections":2,"type":"hello","debug_info":null,"connection_info":{}}"#,
        r#" { "type" : "hello" , "debug_info" : { "host" : null , "build_number" : 0 } , "extra" : true , "more" : false , "n" : null , "k" : 123 } "#,
    ];

    /// Texts the plain reader leaves to serde (which reads them, or fails, as before).
    const LEFT_TO_SERDE: &[&str] = &[
        r#"{"type":"hello","num_connections":4294967296}"#,
        r#"{"type":"hello","num_connections":-1}"#,
        r#"{"type":"hello","num_connections":1.0}"#,
        r#"{"type":"hello","num_connections":1e2}"#,
        r#"{"type":"hello","num_connections":01}"#,
        r#"{"type":"hello","num_connections":"1"}"#,
        r#"{"type":"hello","num_connections":1,"num_connections":2}"#,
        r#"{"type":"hello","debug_info":{"host":"a","host":"b"}}"#,
        r#"{"type":"hello","connection_info":{"app_id":"A","app_id":"B"}}"#,
        r#"{"type":"hello","connection_info":{"app_id":"A\u0031"}}"#,
        r#"{"type":"hello","num_\u0063onnections":1}"#,
        r#"{"type":"hello","debug_info":{"host":"a","nested":{"x":1}}}"#,
        r#"{"type":"hello","list":[1,2]}"#,
        r#"{"type":"hello","debug_info":[]}"#,
        r#"{"type":"hello","debug_info":{"build_number":99999999999999999999}}"#,
        r#"{"type":"hello"} x"#,
        r#"{"type":"hello",}"#,
        r#"{"type":"hello""#,
        r#"{"type":"hello","num_connections":nul}"#,
    ];

    #[test]
    fn slacks_hello_is_read_without_serde_and_as_serde_reads_it() {
        for text in SLACK {
            let plain = plain_hello(text).unwrap_or_else(|| panic!("left to serde: {text}"));
            let serde: SocketModeHello = serde_json::from_str(text).expect("serde reads it");
            assert_eq!(plain, serde, "{text}");
            assert_eq!(SocketFrame::from_json(text).expect("valid"), SocketFrame::Hello(serde), "{text}");
        }
        let first = plain_hello(SLACK[0]).expect("plain");
        let d = first.debug_info.expect("debug_info");
        assert_eq!((first.num_connections, d.approximate_connection_time), (Some(1), Some(18060)));
    }

    #[test]
    fn any_other_shape_is_left_to_serde_and_decodes_as_before() {
        for text in LEFT_TO_SERDE {
            assert_eq!(plain_hello(text), None, "read without serde: {text}");
            // As serde alone decides: a hello, an unknown frame with the shape error, or invalid JSON.
            let expected = match serde_json::from_str::<SocketModeHello>(text) {
                Ok(h) => Some(Ok(SocketFrame::Hello(h))),
                Err(e) if e.is_data() => Some(Err(e.to_string())),
                Err(_) => None,
            };
            match (SocketFrame::from_json(text), expected) {
                (Ok(frame), Some(Ok(h))) => assert_eq!(frame, h, "{text}"),
                (Ok(SocketFrame::Unknown { shape_error, .. }), Some(Err(e))) => {
                    assert_eq!(shape_error.as_deref(), Some(e.as_str()), "{text}")
                }
                (Err(_), None) => {}
                (got, want) => panic!("{text}: got {got:?}, serde alone: {want:?}"),
            }
        }
    }

    /// A value for a generated member: plain ones, and ones the plain reader must leave to serde.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("\"applink-1\"".to_owned()),
            Just("\"a\\u0031\"".to_owned()),
            Just("[1]".to_owned()),
            Just("1.5".to_owned()),
            Just("-3".to_owned()),
            Just("{}".to_owned()),
            Just("{\"host\":\"h\",\"build_number\":7}".to_owned()),
            Just("{\"app_id\":\"A1\",\"x\":{\"y\":1}}".to_owned()),
            any::<u64>().prop_map(|n| n.to_string()),
            (0u32..10).prop_map(|n| n.to_string()),
        ]
    }

    /// A generated member's key (not `type`: the frame's own, which decides what it is).
    fn key() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "num_connections",
            "debug_info",
            "connection_info",
            "host",
            "build_number",
            "approximate_connection_time",
            "app_id",
            "other",
        ])
    }

    proptest! {
        /// Whatever the plain reader accepts, serde reads the same; and `from_json` gives what
        /// serde alone gives either way.
        #[test]
        fn the_plain_reader_agrees_with_serde(
            members in prop::collection::vec((key(), value(), prop::sample::select(vec!["", " ", "\n  "])), 0..6),
        ) {
            let body: Vec<String> = members.iter().map(|(k, v, ws)| format!("{ws}\"{k}\"{ws}:{ws}{v}{ws}")).collect();
            let text = format!("{{\"type\":\"hello\"{}{}}}", if body.is_empty() { "" } else { "," }, body.join(","));
            let serde = serde_json::from_str::<SocketModeHello>(&text);
            if let Some(plain) = plain_hello(&text) {
                prop_assert_eq!(Some(&plain), serde.as_ref().ok(), "{}", text);
            }
            match (SocketFrame::from_json(&text), serde) {
                (Ok(SocketFrame::Hello(h)), Ok(s)) => prop_assert_eq!(h, s),
                (Ok(SocketFrame::Unknown { shape_error: Some(got), .. }), Err(e)) if e.is_data() => {
                    prop_assert_eq!(got, e.to_string())
                }
                (Err(_), Err(e)) if !e.is_data() => {}
                (got, want) => prop_assert!(false, "{}: got {:?}, serde alone {:?}", text, got, want),
            }
        }
    }
}
