//! A hand-written reader for the common `message` frame: the hot path of the typed read
//! ([`message_frame`]) and of the lazy one ([`message_view`], the same fields checked the same
//! way, only the view's own built, borrowed).
//!
//! [`message_frame`] reads a whole `message` frame in one pass over its bytes, without serde's
//! per-field machinery (the derived visitor's 52 optional slots, the lossless capture's
//! wrappers, the struct moved out of the visitor and again into its box). It only ever
//! *accepts* what the serde decode (`lossless!`'s `Payload::from_frame`) accepts, with the same
//! result; on anything it does not read plainly it gives up (`None`) and the caller runs the
//! serde decode, which then gives its own result or its own error:
//!
//! - a key with an escape, a lone surrogate escape (`\ud800`) in a typed string field, a
//!   control character in any string;
//! - a typed field of another shape (`"text":5`, a number that is not a plain `u64`),
//!   a known field given twice (serde's `duplicate field`);
//! - any syntax error, anywhere (kept fields and `blocks` are checked as serde's
//!   `ignore_value` checks them: strings, escapes, numbers, literals, nesting);
//! - nesting deeper than [`MAX_DEPTH`] (serde's own limit is 128).
//!
//! Unknown fields are kept verbatim in `extra`, in order (a frame's top-level `type`, the
//! event's variant, is not kept; a nested message's is); `null` leaves a typed field unset, as
//! serde's `Option` does. The property test `fast_message_agrees_with_serde`
//! (`tests/message_fast.rs`) checks the two decodes against each other.

use super::lossless::Field;
use super::view::Str;
use super::{Extra, Message, MessageSubtype, MessageView};
use crate::RawJson;
use crate::scan::find_string_special as find_special;
use std::borrow::Cow;

/// Deeper than this, the reader gives up and serde decides.
const MAX_DEPTH: u32 = 100;

/// The `message` frame `text` decoded as the serde decode would, or `None` to let it decide.
/// Built in its box (the struct is large: moving it costs more than reading a short frame).
pub(crate) fn message_frame(text: &str) -> Option<Box<Message>> {
    let mut r = Reader { s: text, b: text.as_bytes(), i: 0 };
    let mut message = Box::<Message>::default();
    r.message(&mut message, true, 1)?;
    r.ws();
    (r.i == r.b.len()).then_some(message)
}

/// A `message` frame's [`MessageView`], borrowed: `Some` exactly where [`message_frame`] reads
/// the frame (so the serde decode types it as this `Message`), with that `Message`'s fields;
/// `None` to leave the frame to serde. Nothing but the escaped strings of the view's own
/// fields is allocated.
pub(crate) fn message_view(text: &str) -> Option<MessageView<'_>> {
    let mut r = Reader { s: text, b: text.as_bytes(), i: 0 };
    let mut view = MessageView::default();
    r.view(&mut view, 1)?;
    r.ws();
    (r.i == r.b.len()).then_some(view)
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

/// A known field may come once: a second time is serde's `duplicate field`, so the reader gives up.
macro_rules! once {
    ($seen:ident, $bit:literal) => {{
        if $seen & (1u64 << $bit) != 0 {
            return None;
        }
        $seen |= 1u64 << $bit;
    }};
}

/// A known field's value, read into `Message`'s type.
macro_rules! read {
    (raw, $r:ident, $depth:ident) => {
        $r.raw($depth)
    };
    (nested, $r:ident, $depth:ident) => {
        $r.nested($depth)
    };
    ($kind:ident, $r:ident, $depth:ident) => {
        $r.$kind()
    };
}

/// A known field's value for the view: one of its own fields borrowed (`view`), any other
/// checked exactly as [`read!`] reads it, without building it (`skip`).
macro_rules! view_field {
    (view, $slot:expr, $kind:ident, $r:ident, $depth:ident) => {
        $slot = $r.opt(|r| r.text())?.map(Str)
    };
    (skip, $slot:expr, raw, $r:ident, $depth:ident) => {
        $r.opt(|r| r.skip($depth))?
    };
    (skip, $slot:expr, nested, $r:ident, $depth:ident) => {
        $r.opt(|r| r.view(&mut MessageView::default(), $depth))?
    };
    (skip, $slot:expr, boolean, $r:ident, $depth:ident) => {
        $r.boolean()?
    };
    (skip, $slot:expr, count, $r:ident, $depth:ident) => {
        $r.count()?
    };
    (skip, $slot:expr, ids, $r:ident, $depth:ident) => {
        $r.ids::<&str>()?
    };
    // `subtype`, `id`, `string`: a string, decoded only to check it (borrowed unless escaped).
    (skip, $slot:expr, $kind:ident, $r:ident, $depth:ident) => {
        $r.opt(|r| r.text())?
    };
}

/// An object's members: `$field` reads each value (with the key and the depth of the value's
/// contents bound), `$r` just past the colon. A macro rather than a function taking a closure, so the field match is inlined
/// in the loop (a call per member cost the typed read 3 %).
macro_rules! members {
    ($r:ident, $depth:expr, |$key:ident, $inner:ident| $field:block) => {{
        if $depth > MAX_DEPTH {
            return None;
        }
        $r.eat(b'{')?;
        let $inner = $depth + 1;
        if $r.peek()? == b'}' {
            $r.i += 1;
            return Some(());
        }
        loop {
            let $key = $r.plain_str()?;
            $r.eat(b':')?;
            $field
            match $r.peek()? {
                b',' => $r.i += 1,
                b'}' => {
                    $r.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }};
}

/// The two ways of reading a message object, from one table of the fields `Message` models:
/// key, field, bit (for [`once!`]), how its value reads, and whether [`MessageView`] has it.
macro_rules! readers {
    ($($key:literal $field:ident $bit:literal $kind:ident $role:ident,)*) => {
        impl<'a> Reader<'a> {
            /// A `message` object into `m` (which starts as `Message::default()`); `frame`: the
            /// whole frame, whose `type` is not kept.
            fn message(&mut self, m: &mut Message, frame: bool, depth: u32) -> Option<()> {
                let mut extra: Vec<Field> = Vec::new();
                let mut seen = 0u64;
                let r = self;
                members!(r, depth, |key, inner| {
                    match key {
                        $($key => {
                            once!(seen, $bit);
                            m.$field = read!($kind, r, inner)?;
                        })*
                        // The frame's `type` is the event's variant (serde checks and skips it).
                        "type" if frame => {
                            r.ws();
                            r.skip(inner)?;
                        }
                        _ => {
                            let value = r.raw_value(inner)?;
                            extra.push((key.into(), value));
                        }
                    }
                });
                m.extra = Extra::from_vec(extra);
                Some(())
            }

            /// The same object into a view: it answers exactly where [`Reader::message`] does
            /// (every field checked as it reads it; `type`, at any level, is skipped like any
            /// field the view does not have).
            fn view(&mut self, v: &mut MessageView<'a>, depth: u32) -> Option<()> {
                let mut seen = 0u64;
                let r = self;
                members!(r, depth, |key, inner| {
                    match key {
                        $($key => {
                            once!(seen, $bit);
                            view_field!($role, v.$field, $kind, r, inner);
                        })*
                        _ => {
                            r.ws();
                            r.skip(inner)?;
                        }
                    }
                });
                Some(())
            }
        }
    };
}

readers! {
    "subtype" subtype 0 subtype view,
    "channel" channel 1 id view,
    "user" user 2 id view,
    "text" text 3 string view,
    "ts" ts 4 id view,
    "thread_ts" thread_ts 5 id view,
    "event_ts" event_ts 6 id view,
    "team" team 7 id view,
    "source_team" source_team 8 id skip,
    "user_team" user_team 9 id skip,
    "client_msg_id" client_msg_id 10 string skip,
    "channel_type" channel_type 11 string skip,
    "bot_id" bot_id 12 id view,
    "username" username 13 string skip,
    "app_id" app_id 14 string skip,
    "icons" icons 15 raw skip,
    "hidden" hidden 16 boolean skip,
    "deleted_ts" deleted_ts 17 id skip,
    "message" message 18 nested skip,
    "previous_message" previous_message 19 nested skip,
    "inviter" inviter 20 id skip,
    "topic" topic 21 string skip,
    "purpose" purpose 22 string skip,
    "name" name 23 string skip,
    "old_name" old_name 24 string skip,
    "parent_user_id" parent_user_id 25 id skip,
    "reply_count" reply_count 26 count skip,
    "reply_users_count" reply_users_count 27 count skip,
    "reply_users" reply_users 28 ids skip,
    "latest_reply" latest_reply 29 id skip,
    "reply_broadcast" reply_broadcast 30 boolean skip,
    "root" root 31 raw skip,
    "upload" upload 32 boolean skip,
    "display_as_bot" display_as_bot 33 boolean skip,
    "suppress_notification" suppress_notification 34 boolean skip,
    "pinned_to" pinned_to 35 ids skip,
    "is_starred" is_starred 36 boolean skip,
    "edited" edited 37 raw skip,
    "blocks" blocks 38 raw skip,
    "attachments" attachments 39 raw skip,
    "files" files 40 raw skip,
    "reactions" reactions 41 raw skip,
    "bot_profile" bot_profile 42 raw skip,
    "user_profile" user_profile 43 raw skip,
    "file" file 44 raw skip,
    "comment" comment 45 raw skip,
    "is_intro" is_intro 46 boolean skip,
    "members" members 47 ids skip,
    "replies" replies 48 raw skip,
    "metadata" metadata 49 raw skip,
    "assistant_thread" assistant_thread 50 raw skip,
    "action_token" action_token 51 string skip,
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b[self.i..].starts_with(word).then(|| self.i += word.len())
    }

    /// A string without escapes or control characters, its contents borrowed.
    fn plain_str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let end = find_special(self.b, start);
        if self.b.get(end) != Some(&b'"') {
            return None;
        }
        self.i = end + 1;
        // Both ends are ASCII quotes, so they are character boundaries.
        self.s.get(start..end)
    }

    /// A string without control characters, its escapes decoded as serde decodes them (a
    /// lone surrogate escape, which serde refuses, gives up); borrowed when it has none.
    fn text(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.i;
        let end = find_special(self.b, start);
        match self.b.get(end)? {
            b'"' => {
                self.i = end + 1;
                return self.s.get(start..end).map(Cow::Borrowed);
            }
            b'\\' => {}
            _ => return None,
        }
        let mut out = String::with_capacity(end - start + 16);
        out.push_str(self.s.get(start..end)?);
        let mut j = end;
        loop {
            // `j` is at a backslash.
            let c = match *self.b.get(j + 1)? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let high = self.hex4(j + 2)?;
                    j += 4;
                    match high {
                        0xD800..=0xDBFF => {
                            if self.b.get(j + 2..j + 4)? != b"\\u" {
                                return None;
                            }
                            let low = self.hex4(j + 4)?;
                            if !(0xDC00..=0xDFFF).contains(&low) {
                                return None;
                            }
                            j += 6;
                            char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?
                        }
                        0xDC00..=0xDFFF => return None,
                        _ => char::from_u32(high)?,
                    }
                }
                _ => return None,
            };
            out.push(c);
            let from = j + 2;
            let end = find_special(self.b, from);
            out.push_str(self.s.get(from..end)?);
            match self.b.get(end)? {
                b'"' => {
                    self.i = end + 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => j = end,
                _ => return None,
            }
        }
    }

    /// The four hex digits at `at`.
    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.s.get(at..at + 4)?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    }

    /// `null` (`Some(None)`) or a value read by `read`; `None` to give up.
    fn opt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        read(self).map(Some)
    }

    fn string(&mut self) -> Option<Option<String>> {
        self.opt(|r| r.text().map(Cow::into_owned))
    }

    fn id<T: for<'s> From<&'s str>>(&mut self) -> Option<Option<T>> {
        self.opt(|r| r.text().map(|s| T::from(&s)))
    }

    fn ids<T: From<&'a str>>(&mut self) -> Option<Option<Vec<T>>> {
        self.opt(|r| {
            r.eat(b'[')?;
            let mut out = Vec::new();
            if r.peek()? == b']' {
                r.i += 1;
                return Some(out);
            }
            loop {
                out.push(T::from(r.plain_str()?));
                match r.peek()? {
                    b',' => r.i += 1,
                    b']' => {
                        r.i += 1;
                        return Some(out);
                    }
                    _ => return None,
                }
            }
        })
    }

    fn boolean(&mut self) -> Option<Option<bool>> {
        self.opt(|r| match r.b[r.i] {
            b't' => r.literal(b"true").map(|()| true),
            b'f' => r.literal(b"false").map(|()| false),
            _ => None,
        })
    }

    /// A plain non-negative integer of at most 19 digits (always a `u64`).
    fn count(&mut self) -> Option<Option<u64>> {
        self.opt(|r| {
            let start = r.i;
            let digits = r.b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
            let next = r.b.get(start + digits).copied();
            if digits == 0
                || digits > 19
                || (digits > 1 && r.b[start] == b'0')
                || matches!(next, Some(b'.' | b'e' | b'E'))
            {
                return None;
            }
            r.i = start + digits;
            r.s.get(start..r.i)?.parse().ok()
        })
    }

    fn raw(&mut self, depth: u32) -> Option<Option<RawJson>> {
        self.opt(|r| r.raw_value(depth))
    }

    /// Any JSON value, checked and kept verbatim.
    fn raw_value(&mut self, depth: u32) -> Option<RawJson> {
        self.ws();
        let start = self.i;
        self.skip(depth)?;
        Some(RawJson::from_trusted(self.s.get(start..self.i)?))
    }

    fn nested(&mut self, depth: u32) -> Option<Option<Box<Message>>> {
        self.opt(|r| {
            let mut m = Box::<Message>::default();
            r.message(&mut m, false, depth)?;
            Some(m)
        })
    }

    fn subtype(&mut self) -> Option<Option<MessageSubtype>> {
        self.opt(|r| r.text().map(|s| MessageSubtype::from_wire(&s)))
    }

    /// Skips one JSON value at `self.i`, checking it as serde's `ignore_value` does.
    fn skip(&mut self, depth: u32) -> Option<()> {
        match *self.b.get(self.i)? {
            b'"' => self.skip_str(),
            b'{' | b'[' => self.skip_container(depth),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.skip_number(),
            _ => None,
        }
    }

    fn skip_container(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let close = if self.b[self.i] == b'{' { b'}' } else { b']' };
        self.i += 1;
        if self.peek()? == close {
            self.i += 1;
            return Some(());
        }
        loop {
            if close == b'}' {
                if self.peek()? != b'"' {
                    return None;
                }
                self.skip_str()?;
                self.eat(b':')?;
            }
            self.ws();
            self.skip(depth + 1)?;
            match self.peek()? {
                b',' => self.i += 1,
                c if c == close => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string with any escapes, checked (`\uXXXX` needs four hex digits; surrogates are not
    /// paired here, as serde does not when it skips).
    fn skip_str(&mut self) -> Option<()> {
        let mut j = self.i + 1;
        loop {
            let end = find_special(self.b, j);
            match self.b.get(end)? {
                b'"' => {
                    self.i = end + 1;
                    return Some(());
                }
                b'\\' => {
                    j = end + 2;
                    match self.b.get(end + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let hex = self.b.get(j..j + 4)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            j += 4;
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// A number, with JSON's grammar (serde's `ignore_number`).
    fn skip_number(&mut self) -> Option<()> {
        if self.b[self.i] == b'-' {
            self.i += 1;
        }
        let digits = self.digits();
        if digits == 0 || (digits > 1 && self.b[self.i - digits] == b'0') {
            return None;
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    fn digits(&mut self) -> usize {
        let n = self.b[self.i..].iter().take_while(|c| c.is_ascii_digit()).count();
        self.i += n;
        n
    }
}

#[cfg(test)]
#[path = "message_fast_tests.rs"]
mod tests;
