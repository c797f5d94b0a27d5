//! The hand-written pass behind [`crate::RawJson::with_events_api_head`]: one walk over the
//! text that checks its JSON syntax exactly as serde_json 1's `Deserializer` does for the
//! derived head (see the module above) and reads the four routing fields on the way.
//!
//! Its answer is one of three: the head (the text is valid and serde_json would build the same
//! head from it), [`Stop::Invalid`] (serde_json refuses the text too), or [`Stop::Unsure`] (a
//! shape the walk leaves to serde_json: the caller then runs it). What serde_json checks, and so
//! what this walk checks:
//!
//! - whitespace is space, `\n`, `\t`, `\r` only; nothing but whitespace after the object;
//! - a string ends at an unescaped `"`, holds no raw byte below 0x20, and its escapes are
//!   `\" \\ \/ \b \f \n \r \t` or `\u` with four hex digits (in a value nobody reads, serde_json
//!   takes any four digits: a lone surrogate is not refused there);
//! - a number is `-`? then `0` or a digit 1–9 and digits, then optionally `.` and at least one
//!   digit, then optionally `e`/`E`, `+`/`-`, at least one digit;
//! - `true`, `false`, `null` spelled out; objects and arrays without trailing commas;
//! - the top-level object's keys and the `event` object's keys are compared with the field
//!   names; each field at most once (serde's derive refuses a duplicate field); the three
//!   string fields are a string or `null`, `event` an object or `null`, `event.type` a string or
//!   `null` (anything else is serde's "invalid type").
//!
//! Nesting: serde_json skips a value nobody reads with a loop and its own stack, without its
//! recursion limit (the limit counts only the two objects the head is built from), so a body
//! nested any depth in such a value is valid. The walk keeps the open brackets of one skipped
//! value in a 128-bit stack and leaves anything deeper to serde_json ([`Stop::Unsure`]).
//!
//! Left to serde_json as [`Stop::Unsure`], all rare or never sent by Slack: a backslash in a
//! key of the top-level or `event` object or in one of the four values (the escape would have
//! to be decoded, and serde_json refuses a lone surrogate there), a top-level array or an
//! `event` array (serde's derive reads a struct from an array too), and the nesting above.
//!
//! The input is a `&str`, so it is already UTF-8; the walk never indexes out of bounds and
//! never panics, whatever the text.

use crate::scan::find_string_special;

/// Why the walk gave no head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Not valid JSON, or not a document serde_json builds the head from: serde_json refuses
    /// it too.
    Invalid,
    /// A shape the walk leaves to serde_json (see the module's documentation).
    Unsure,
}

/// The four fields, borrowed from the text (the walk never takes an escaped one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fields<'a> {
    pub kind: Option<&'a str>,
    pub challenge: Option<&'a str>,
    pub event_id: Option<&'a str>,
    pub event_type: Option<&'a str>,
}

/// Walks `json`: its head, or why not.
pub(crate) fn walk(json: &str) -> Result<Fields<'_>, Stop> {
    let mut w = Walker { text: json, b: json.as_bytes(), i: 0 };
    match w.peek() {
        Some(b'{') => w.i += 1,
        // A struct from an array: serde's derive takes it (rare enough to leave to it).
        Some(b'[') => return Err(Stop::Unsure),
        // Anything else (nothing at all included) is not a struct: serde_json refuses it.
        _ => return Err(Stop::Invalid),
    }
    let mut fields = Fields::default();
    // Which of `type`, `challenge`, `event_id`, `event` were seen (a second one is refused).
    let mut seen = [false; 4];
    if w.peek() == Some(b'}') {
        w.i += 1;
    } else {
        loop {
            let key = w.key()?;
            let slot = match key {
                "type" => 0,
                "challenge" => 1,
                "event_id" => 2,
                "event" => 3,
                _ => {
                    w.skip_value()?;
                    if w.object_next()? {
                        continue;
                    }
                    break;
                }
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(Stop::Invalid);
            }
            match slot {
                0 => fields.kind = w.string_or_null()?,
                1 => fields.challenge = w.string_or_null()?,
                2 => fields.event_id = w.string_or_null()?,
                _ => fields.event_type = w.event()?,
            }
            if !w.object_next()? {
                break;
            }
        }
    }
    if w.peek().is_some() {
        return Err(Stop::Invalid);
    }
    Ok(fields)
}

struct Walker<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Walker<'a> {
    /// Skips whitespace; the next byte, if any.
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        match self.b.get(self.i) {
            // No whitespace: the common case (Slack sends compact JSON).
            Some(&c) if c > b' ' => Some(c),
            _ => self.peek_after_whitespace(),
        }
    }

    #[cold]
    fn peek_after_whitespace(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    /// Expects `byte` (after whitespace) and takes it.
    #[inline(always)]
    fn expect(&mut self, byte: u8) -> Result<(), Stop> {
        if self.peek() != Some(byte) {
            return Err(Stop::Invalid);
        }
        self.i += 1;
        Ok(())
    }

    /// After a member of an object: `true` at a `,` (another member follows), `false` at the
    /// closing `}`.
    #[inline(always)]
    fn object_next(&mut self) -> Result<bool, Stop> {
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(true)
            }
            Some(b'}') => {
                self.i += 1;
                Ok(false)
            }
            _ => Err(Stop::Invalid),
        }
    }

    /// A key of an object the head is read from, and its `:`. Unsure if it has an escape.
    #[inline(always)]
    fn key(&mut self) -> Result<&'a str, Stop> {
        self.expect(b'"')?;
        let key = self.plain_string()?;
        self.expect(b':')?;
        Ok(key)
    }

    /// The contents of a string whose opening quote was taken, without escapes (Unsure at a
    /// backslash); the closing quote taken.
    #[inline(always)]
    fn plain_string(&mut self) -> Result<&'a str, Stop> {
        let start = self.i;
        let end = find_string_special(self.b, start);
        match self.b.get(end) {
            Some(b'"') => {
                self.i = end + 1;
                // Both ends are next to an ASCII quote, so on character boundaries.
                self.text.get(start..end).ok_or(Stop::Unsure)
            }
            Some(b'\\') => Err(Stop::Unsure),
            // A raw control character, or the end of the text.
            _ => Err(Stop::Invalid),
        }
    }

    /// A field read as `Option<String>`: a string (without escapes) or `null`.
    #[inline(always)]
    fn string_or_null(&mut self) -> Result<Option<&'a str>, Stop> {
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                self.plain_string().map(Some)
            }
            Some(b'n') => self.literal(b"null").map(|()| None),
            _ => Err(Stop::Invalid),
        }
    }

    /// The `event` field: `null`, or an object whose `type` is read.
    fn event(&mut self) -> Result<Option<&'a str>, Stop> {
        match self.peek() {
            Some(b'{') => self.i += 1,
            Some(b'n') => return self.literal(b"null").map(|()| None),
            Some(b'[') => return Err(Stop::Unsure),
            _ => return Err(Stop::Invalid),
        }
        let mut kind = None;
        let mut seen = false;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(None);
        }
        loop {
            if self.key()? == "type" {
                if std::mem::replace(&mut seen, true) {
                    return Err(Stop::Invalid);
                }
                kind = self.string_or_null()?;
            } else {
                self.skip_value()?;
            }
            if !self.object_next()? {
                return Ok(kind);
            }
        }
    }

    /// `word` (`true`, `false` or `null`) spelled out.
    #[inline(always)]
    fn literal(&mut self, word: &[u8]) -> Result<(), Stop> {
        if self.b.get(self.i..self.i + word.len()) != Some(word) {
            return Err(Stop::Invalid);
        }
        self.i += word.len();
        Ok(())
    }

    /// A string nobody reads, its opening quote taken: checked and skipped.
    #[inline(always)]
    fn skip_string(&mut self) -> Result<(), Stop> {
        loop {
            let at = find_string_special(self.b, self.i);
            match self.b.get(at) {
                Some(b'"') => {
                    self.i = at + 1;
                    return Ok(());
                }
                Some(b'\\') => match self.b.get(at + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i = at + 2,
                    Some(b'u') => {
                        let digits = self.b.get(at + 2..at + 6).ok_or(Stop::Invalid)?;
                        if !digits.iter().all(u8::is_ascii_hexdigit) {
                            return Err(Stop::Invalid);
                        }
                        self.i = at + 6;
                    }
                    _ => return Err(Stop::Invalid),
                },
                _ => return Err(Stop::Invalid),
            }
        }
    }

    /// A number, at its first byte (`-` or a digit).
    #[inline]
    fn number(&mut self) -> Result<(), Stop> {
        let b = self.b;
        let mut i = self.i;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => {
                i += 1;
                // One leading zero only.
                if b.get(i).is_some_and(u8::is_ascii_digit) {
                    return Err(Stop::Invalid);
                }
            }
            Some(b'1'..=b'9') => i = digits(b, i + 1),
            _ => return Err(Stop::Invalid),
        }
        if b.get(i) == Some(&b'.') {
            let after = digits(b, i + 1);
            if after == i + 1 {
                return Err(Stop::Invalid);
            }
            i = after;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let after = digits(b, i);
            if after == i {
                return Err(Stop::Invalid);
            }
            i = after;
        }
        self.i = i;
        Ok(())
    }

    /// One value nobody reads, whatever its nesting: checked and skipped.
    #[inline(always)]
    fn skip_value(&mut self) -> Result<(), Stop> {
        // Most are strings: no need for the nesting's machinery.
        if self.peek() == Some(b'"') {
            self.i += 1;
            return self.skip_string();
        }
        self.skip_nested()
    }

    /// [`Walker::skip_value`] for any value.
    fn skip_nested(&mut self) -> Result<(), Stop> {
        // The open brackets inside this value, innermost in the lowest bit: 1 for an object.
        let mut stack: u128 = 0;
        let mut depth = 0u32;
        loop {
            // A value is expected.
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    self.skip_string()?;
                }
                Some(open @ (b'{' | b'[')) => {
                    self.i += 1;
                    if depth == u128::BITS {
                        return Err(Stop::Unsure);
                    }
                    let object = open == b'{';
                    let close = if object { b'}' } else { b']' };
                    if self.peek() != Some(close) {
                        stack = (stack << 1) | u128::from(object);
                        depth += 1;
                        if object {
                            self.skip_key()?;
                        }
                        continue;
                    }
                    // Empty: a complete value.
                    self.i += 1;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                _ => return Err(Stop::Invalid),
            }
            // A value is complete: a comma, or the closing bracket of each level it ends.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let object = stack & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if object {
                            self.skip_key()?;
                        }
                        break;
                    }
                    Some(b'}') if object => {}
                    Some(b']') if !object => {}
                    _ => return Err(Stop::Invalid),
                }
                self.i += 1;
                stack >>= 1;
                depth -= 1;
            }
        }
    }

    /// A key nobody reads, and its `:`.
    #[inline(always)]
    fn skip_key(&mut self) -> Result<(), Stop> {
        self.expect(b'"')?;
        self.skip_string()?;
        self.expect(b':')
    }
}

/// The index after the ASCII digits starting at `i`.
#[inline]
fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}
