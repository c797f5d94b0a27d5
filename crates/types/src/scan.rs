//! The light top-level scan shared by RTM events ([`crate::EventFrame`]) and Socket Mode
//! frames ([`crate::socket_mode::EnvelopeFrame`]): finds the plain string values of a few
//! top-level keys of a JSON object without parsing it, so a frame can be routed (and an
//! envelope acknowledged) before, or without, a full decode.
//!
//! It tracks nesting and strings only, and stops as soon as every wanted key is found. It is
//! never trusted for validity: serde still parses the whole frame when it is decoded.

/// What a scan of the top-level object found.
pub(crate) enum Scan<'a, const N: usize> {
    /// The object was read up to its end, or up to the last wanted key: each wanted key's
    /// value (the first occurrence, `None` when absent), and whether the `flag` key was seen
    /// (only meaningful when the scan reached the end of the object).
    Found { values: [Option<&'a str>; N], flag: bool },
    /// Not an object, malformed text, or a wanted key whose value is not a plain string
    /// without escapes: let serde read it.
    Unsure,
}

/// Scans the top-level object in `bytes` for the string values of `keys`, noting whether the
/// key `flag` appears (unescaped).
pub(crate) fn top_level_strings<'a, const N: usize>(
    bytes: &'a [u8],
    keys: [&[u8]; N],
    flag: &[u8],
) -> Scan<'a, N> {
    let mut values: [Option<&'a str>; N] = [None; N];
    let mut missing = N;
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if bytes.get(i) != Some(&b'{') {
        return Scan::Unsure;
    }
    i += 1;
    let mut depth = 1usize;
    let mut expect_key = true;
    let mut flag_seen = false;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                let Some((j, escaped)) = string_end(bytes, start) else { return Scan::Unsure };
                if depth == 1 && expect_key {
                    let key = &bytes[start..j];
                    if let Some(k) = keys.iter().position(|k| *k == key) {
                        let Some((value, end)) = string_value(bytes, j + 1) else { return Scan::Unsure };
                        if values[k].is_none() {
                            values[k] = Some(value);
                            missing -= 1;
                            if missing == 0 {
                                return Scan::Found { values, flag: flag_seen };
                            }
                        }
                        // Resume after the value's closing quote, as after any value.
                        i = end + 1;
                        expect_key = false;
                        continue;
                    }
                    if key == flag && !escaped {
                        flag_seen = true;
                    }
                    expect_key = false;
                }
                i = j + 1;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Scan::Found { values, flag: flag_seen };
                }
            }
            b',' if depth == 1 => expect_key = true,
            _ => {}
        }
        i += 1;
    }
    Scan::Unsure
}

/// The closing quote of the string whose contents start at `start`, and whether it has
/// escapes; `None` if it is cut short. Jumps from quote/backslash to quote/backslash.
pub(crate) fn string_end(bytes: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut j = start;
    let mut escaped = false;
    loop {
        j = find_quote_or_backslash(bytes, j);
        match bytes.get(j) {
            Some(b'"') => return Some((j, escaped)),
            Some(_) => {
                escaped = true;
                j += 2;
            }
            None => return None,
        }
    }
}

/// The index of the first `"` or `\\` at or after `from` (or `bytes.len()`), eight bytes at a
/// time: string contents are most of a frame, and this is the scan's hot loop.
pub(crate) fn find_quote_or_backslash(bytes: &[u8], from: usize) -> usize {
    find_first(bytes, from, |word| equal(word, b'"') | equal(word, b'\\'), |b| b == b'"' || b == b'\\')
}

/// The index of the first `"`, `\\` or control character (not allowed raw in a JSON string) at
/// or after `from` (or `bytes.len()`), eight bytes at a time: where a plain JSON string's
/// contents end, or where one must be escaped (the codec's ack reader and encoder use it too).
#[inline]
pub fn find_string_special(bytes: &[u8], from: usize) -> usize {
    find_first(
        bytes,
        from,
        |word| equal(word, b'"') | equal(word, b'\\') | (word.wrapping_sub(ONES * 0x20) & !word & HIGHS),
        |b| matches!(b, b'"' | b'\\' | 0..0x20),
    )
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` equal to `byte`. Only the lowest set bit is exact (a
/// borrow can set bits above a match), which is the one [`find_first`] reads.
#[inline(always)]
fn equal(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The index of the first byte at or after `from` that `hits` marks (its lowest set high bit,
/// in a little-endian word of eight) or, in the tail, `hit` accepts; `bytes.len()` if none.
#[inline(always)]
fn find_first(bytes: &[u8], from: usize, hits: impl Fn(u64) -> u64, hit: impl Fn(u8) -> bool) -> usize {
    let mut i = from;
    while i + 8 <= bytes.len() {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&bytes[i..i + 8]);
        let found = hits(u64::from_le_bytes(chunk));
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && !hit(bytes[i]) {
        i += 1;
    }
    i
}

/// The first nesting depth above `max` that `bytes` (JSON text) reaches, or `None` if it never
/// goes deeper than `max`. Brackets inside strings do not count; malformed text is measured as
/// far as it reads (an unterminated string ends the walk), never rejected: this is a bound for a
/// parser to check before it recurses, not a validity check.
///
/// Depth can only grow at an opening bracket outside a string, so string contents (most of a
/// frame) are skipped eight bytes at a time, and a frame with at most `max` opening brackets in
/// all is accepted after one counting pass.
pub fn json_depth_over(bytes: &[u8], max: usize) -> Option<usize> {
    if bytes.len() <= max || count_openers(bytes) <= max {
        return None;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => match string_end(bytes, i + 1) {
                Some((end, _)) => {
                    i = end + 1;
                    continue;
                }
                None => return None,
            },
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(depth);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The number of `[` and `{` in `bytes`, strings included: a bound on the nesting depth.
/// Counted in 64-byte blocks with a byte accumulator, which the compiler vectorizes.
fn count_openers(bytes: &[u8]) -> usize {
    let mut total = 0usize;
    let mut blocks = bytes.chunks_exact(64);
    for block in &mut blocks {
        let mut n = 0u8;
        for &b in block {
            n += u8::from(b == b'[') + u8::from(b == b'{');
        }
        total += usize::from(n);
    }
    total + blocks.remainder().iter().filter(|&&b| b == b'[' || b == b'{').count()
}

/// Reads `: "value"` after a key; only a plain string without escapes is taken. Returns the
/// value and the index of its closing quote.
fn string_value(bytes: &[u8], mut i: usize) -> Option<(&str, usize)> {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if bytes.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let len = bytes[start..].iter().position(|&b| b == b'"' || b == b'\\')?;
    if bytes[start + len] != b'"' {
        return None;
    }
    let value = std::str::from_utf8(&bytes[start..start + len]).ok()?;
    Some((value, start + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan2(text: &str) -> Option<[Option<&str>; 2]> {
        match top_level_strings(text.as_bytes(), [b"type", b"envelope_id"], b"") {
            Scan::Found { values, .. } => Some(values),
            Scan::Unsure => None,
        }
    }

    #[test]
    fn finds_several_keys_at_the_top_level_only() {
        let text = r#"{"envelope_id":"e-1","payload":{"type":"event_callback","envelope_id":"x"},"type":"events_api"}"#;
        assert_eq!(scan2(text), Some([Some("events_api"), Some("e-1")]));
        assert_eq!(scan2(r#"{"type":"hello","n":[1,{"envelope_id":"x"}]}"#), Some([Some("hello"), None]));
        assert_eq!(
            scan2(r#"{"a":"\"type\"","type" : "t" , "envelope_id":"e"}"#),
            Some([Some("t"), Some("e")])
        );
        // First occurrence wins.
        assert_eq!(scan2(r#"{"type":"a","type":"b","envelope_id":"e"}"#), Some([Some("a"), Some("e")]));
    }

    /// The byte-at-a-time walk `json_depth_over` replaced: the reference it must agree with.
    fn depth_over_slow(bytes: &[u8], max: usize) -> Option<usize> {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for &b in bytes {
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > max {
                        return Some(depth);
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        None
    }

    proptest::proptest! {
        /// On any mix of brackets, quotes, backslashes and filler, the string-skipping walk
        /// finds exactly what the byte-at-a-time walk finds.
        #[test]
        fn depth_walk_agrees_with_the_byte_walk(
            text in proptest::collection::vec(proptest::sample::select(b"[]{}\"\\a,:".to_vec()), 0..400),
            max in 0usize..12,
        ) {
            proptest::prop_assert_eq!(json_depth_over(&text, max), depth_over_slow(&text, max));
        }
    }

    #[test]
    fn depth_skips_strings_and_stops_at_the_first_level_over() {
        let deep = |n: usize| format!("{{\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        assert_eq!(json_depth_over(deep(126).as_bytes(), 127), None);
        assert_eq!(json_depth_over(deep(127).as_bytes(), 127), Some(128));
        // Many brackets, none deep (the counting bound fails, the walk answers).
        let wide = format!("[{}]", "[1],".repeat(300) + "[1]");
        assert_eq!(json_depth_over(wide.as_bytes(), 127), None);
        // Brackets in strings, escaped quotes included, do not count.
        let quoted = format!("{{\"a\":\"\\\"{}\"}}", "[".repeat(500));
        assert_eq!(json_depth_over(quoted.as_bytes(), 127), None);
        // An unterminated string ends the walk.
        let open = format!("[\"{}", "[".repeat(500));
        assert_eq!(json_depth_over(open.as_bytes(), 127), None);
    }

    #[test]
    fn unsure_on_escapes_non_strings_and_malformed_text() {
        assert_eq!(scan2(r#"{"envelope_id":"e\u0031","type":"t"}"#), None);
        assert_eq!(scan2(r#"{"envelope_id":1,"type":"t"}"#), None);
        assert_eq!(scan2(r#"["type","t"]"#), None);
        assert_eq!(scan2(r#"{"type":"t","envelope_id":"#), None);
        assert_eq!(scan2(r#"{"a":"unterminated"#), None);
    }
}
