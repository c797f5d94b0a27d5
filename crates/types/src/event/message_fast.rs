//! A hand-written reader for the common `message` frame: the typed read's hot path.
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
use super::{Extra, Message, MessageSubtype};
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

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

/// Sets a typed field once: a second time is serde's `duplicate field`, so the reader gives up.
macro_rules! once {
    ($seen:ident, $bit:literal, $slot:expr, $value:expr) => {{
        if $seen & (1u64 << $bit) != 0 {
            return None;
        }
        $seen |= 1u64 << $bit;
        $slot = $value?;
    }};
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

    /// A `message` object; `frame`: the whole frame, whose `type` is not kept.
    /// `m` starts as `Message::default()`.
    fn message(&mut self, m: &mut Message, frame: bool, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'{')?;
        let mut extra: Vec<Field> = Vec::new();
        let mut seen = 0u64;
        let inner = depth + 1;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.plain_str()?;
            self.eat(b':')?;
            match key {
                "subtype" => {
                    once!(seen, 0, m.subtype, self.opt(|r| r.text().map(|s| MessageSubtype::from_wire(&s))))
                }
                "channel" => once!(seen, 1, m.channel, self.id()),
                "user" => once!(seen, 2, m.user, self.id()),
                "text" => once!(seen, 3, m.text, self.string()),
                "ts" => once!(seen, 4, m.ts, self.id()),
                "thread_ts" => once!(seen, 5, m.thread_ts, self.id()),
                "event_ts" => once!(seen, 6, m.event_ts, self.id()),
                "team" => once!(seen, 7, m.team, self.id()),
                "source_team" => once!(seen, 8, m.source_team, self.id()),
                "user_team" => once!(seen, 9, m.user_team, self.id()),
                "client_msg_id" => once!(seen, 10, m.client_msg_id, self.string()),
                "channel_type" => once!(seen, 11, m.channel_type, self.string()),
                "bot_id" => once!(seen, 12, m.bot_id, self.id()),
                "username" => once!(seen, 13, m.username, self.string()),
                "app_id" => once!(seen, 14, m.app_id, self.string()),
                "icons" => once!(seen, 15, m.icons, self.raw(inner)),
                "hidden" => once!(seen, 16, m.hidden, self.boolean()),
                "deleted_ts" => once!(seen, 17, m.deleted_ts, self.id()),
                "message" => once!(seen, 18, m.message, self.nested(inner)),
                "previous_message" => once!(seen, 19, m.previous_message, self.nested(inner)),
                "inviter" => once!(seen, 20, m.inviter, self.id()),
                "topic" => once!(seen, 21, m.topic, self.string()),
                "purpose" => once!(seen, 22, m.purpose, self.string()),
                "name" => once!(seen, 23, m.name, self.string()),
                "old_name" => once!(seen, 24, m.old_name, self.string()),
                "parent_user_id" => once!(seen, 25, m.parent_user_id, self.id()),
                "reply_count" => once!(seen, 26, m.reply_count, self.count()),
                "reply_users_count" => once!(seen, 27, m.reply_users_count, self.count()),
                "reply_users" => once!(seen, 28, m.reply_users, self.ids()),
                "latest_reply" => once!(seen, 29, m.latest_reply, self.id()),
                "reply_broadcast" => once!(seen, 30, m.reply_broadcast, self.boolean()),
                "root" => once!(seen, 31, m.root, self.raw(inner)),
                "upload" => once!(seen, 32, m.upload, self.boolean()),
                "display_as_bot" => once!(seen, 33, m.display_as_bot, self.boolean()),
                "suppress_notification" => once!(seen, 34, m.suppress_notification, self.boolean()),
                "pinned_to" => once!(seen, 35, m.pinned_to, self.ids()),
                "is_starred" => once!(seen, 36, m.is_starred, self.boolean()),
                "edited" => once!(seen, 37, m.edited, self.raw(inner)),
                "blocks" => once!(seen, 38, m.blocks, self.raw(inner)),
                "attachments" => once!(seen, 39, m.attachments, self.raw(inner)),
                "files" => once!(seen, 40, m.files, self.raw(inner)),
                "reactions" => once!(seen, 41, m.reactions, self.raw(inner)),
                "bot_profile" => once!(seen, 42, m.bot_profile, self.raw(inner)),
                "user_profile" => once!(seen, 43, m.user_profile, self.raw(inner)),
                "file" => once!(seen, 44, m.file, self.raw(inner)),
                "comment" => once!(seen, 45, m.comment, self.raw(inner)),
                "is_intro" => once!(seen, 46, m.is_intro, self.boolean()),
                "members" => once!(seen, 47, m.members, self.ids()),
                "replies" => once!(seen, 48, m.replies, self.raw(inner)),
                "metadata" => once!(seen, 49, m.metadata, self.raw(inner)),
                "assistant_thread" => once!(seen, 50, m.assistant_thread, self.raw(inner)),
                "action_token" => once!(seen, 51, m.action_token, self.string()),
                // The frame's `type` is the event's variant (serde checks and skips it).
                "type" if frame => {
                    self.ws();
                    self.skip(inner)?;
                }
                _ => {
                    let value = self.raw_value(inner)?;
                    extra.push((key.into(), value));
                }
            }
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    m.extra = Extra::from_vec(extra);
                    return Some(());
                }
                _ => return None,
            }
        }
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
