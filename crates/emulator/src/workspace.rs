//! The emulated workspace: team, users, tokens, channels, presence, and the message clock.

use slack_rtm_types::event::Presence;
use slack_rtm_types::{BotId, ChannelId, TeamInfo, UserId};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A user (or bot user) of the emulated workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// The user id (`U…`).
    pub id: UserId,
    /// The user's name.
    pub name: String,
    /// The bot id, for bot users.
    pub bot_id: Option<BotId>,
    /// The user's current presence.
    pub presence: Presence,
}

/// A channel of the emulated workspace. Every user is a member of every channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceChannel {
    /// The channel id (`C…`).
    pub id: ChannelId,
    /// The channel's name (without `#`).
    pub name: String,
}

/// A new user and the token that authenticates as them.
///
/// `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user id.
    pub user: UserId,
    /// The user's name.
    pub name: String,
    /// The token (`xoxb-…` for bots, `xoxp-…` for users). A secret: pass it only in an
    /// `Authorization` header.
    pub token: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("name", &self.name)
            .field("token", &"…redacted")
            .finish()
    }
}

/// What kind of app a token belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenFlavor {
    /// A classic app's token: RTM works.
    #[default]
    Classic,
    /// A granular-permission app's token: `rtm.connect` answers `not_allowed_token_type`
    /// (`auth.test` still works).
    Granular,
}

#[derive(Clone, Debug)]
pub(crate) struct TokenRecord {
    pub user: UserId,
    pub flavor: TokenFlavor,
    pub active: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Workspace {
    pub team: TeamInfo,
    pub users: Vec<UserInfo>,
    pub tokens: HashMap<String, TokenRecord>,
    pub channels: Vec<WorkspaceChannel>,
    next_id: u32,
}

impl Workspace {
    pub fn new(team: TeamInfo) -> Self {
        Self { team, users: Vec::new(), tokens: HashMap::new(), channels: Vec::new(), next_id: 1 }
    }

    fn next_id(&mut self, prefix: char) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!("{prefix}0EMU{n:05}")
    }

    /// Adds a user (a bot user when `bot`), with one classic token.
    pub fn add_user(&mut self, name: &str, bot: bool) -> Credentials {
        let id = UserId::new(self.next_id('U'));
        let bot_id = bot.then(|| BotId::new(self.next_id('B')));
        self.users.push(UserInfo {
            id: id.clone(),
            name: name.to_owned(),
            bot_id,
            presence: Presence::Active,
        });
        let token = self.new_token(&id, TokenFlavor::Classic);
        Credentials { user: id, name: name.to_owned(), token }
    }

    /// Adds a token for an existing user; `None` if the user is unknown.
    pub fn add_token(&mut self, user: &UserId, flavor: TokenFlavor) -> Option<String> {
        self.user(user)?;
        Some(self.new_token(user, flavor))
    }

    fn new_token(&mut self, user: &UserId, flavor: TokenFlavor) -> String {
        let bot = self.user(user).is_some_and(|u| u.bot_id.is_some());
        let prefix = if bot { "xoxb" } else { "xoxp" };
        let token = format!(
            "{prefix}-{:012}-{:013}-{}",
            random_u64() % 1_000_000_000_000,
            random_u64() % 10_000_000_000_000,
            random_alnum(24)
        );
        self.tokens.insert(token.clone(), TokenRecord { user: user.clone(), flavor, active: true });
        token
    }

    pub fn add_channel(&mut self, name: &str) -> ChannelId {
        let id = ChannelId::new(self.next_id('C'));
        self.channels.push(WorkspaceChannel { id: id.clone(), name: name.to_owned() });
        id
    }

    pub fn user(&self, id: &UserId) -> Option<&UserInfo> {
        self.users.iter().find(|u| &u.id == id)
    }

    pub fn user_mut(&mut self, id: &UserId) -> Option<&mut UserInfo> {
        self.users.iter_mut().find(|u| &u.id == id)
    }

    pub fn has_channel(&self, id: &str) -> bool {
        self.channels.iter().any(|c| c.id.as_str() == id)
    }

    /// Whether `user` is a member of `channel` (everyone is a member of every channel).
    pub fn is_member(&self, channel: &str, user: &UserId) -> bool {
        self.has_channel(channel) && self.user(user).is_some()
    }
}

/// Issues unique, strictly increasing message timestamps `"<unix secs>.<6 digits>"`.
///
/// The value is kept as microsecond-like units: the next one is the larger of "now" (whole
/// seconds, six zero digits) and the previous plus one, so timestamps look like Slack's and
/// never repeat, even past a million messages in one second.
#[derive(Debug, Default)]
pub(crate) struct TsClock(AtomicU64);

impl TsClock {
    /// Reserves `n` (≥ 1) consecutive values and returns the first.
    pub fn reserve(&self, n: u64) -> u64 {
        let n = n.max(1);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) * 1_000_000;
        let prev = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| Some((last + 1).max(now) + n - 1))
            .unwrap_or_else(|v| v);
        (prev + 1).max(now)
    }

    /// The next timestamp, formatted.
    pub fn next(&self) -> String {
        format_ts(self.reserve(1))
    }
}

/// Formats a clock value as `"<secs>.<6 digits>"`.
pub(crate) fn format_ts(v: u64) -> String {
    format!("{}.{:06}", v / 1_000_000, v % 1_000_000)
}

static RANDOM_COUNTER: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's splitmix64 state, seeded once (see [`random_u64`]).
    static RANDOM_STATE: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// A fresh seed: a `RandomState` (random keys) hashing a process-wide counter and the clock.
fn random_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(RANDOM_COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}

/// One splitmix64 step: advances `state`, returns its output (distinct for each of the 2^64
/// states).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A non-cryptographic random number (ids and tickets of a test server, not secrets): a
/// splitmix64 sequence per thread, seeded once from [`random_seed`] (seeding every call, a
/// `RandomState` and a clock read, cost ~700 instructions; an envelope takes four).
pub(crate) fn random_u64() -> u64 {
    RANDOM_STATE.with(|cell| {
        let mut state = cell.get().unwrap_or_else(random_seed);
        let v = splitmix64(&mut state);
        cell.set(Some(state));
        v
    })
}

/// `n` random characters from `[A-Za-z0-9]`.
pub(crate) fn random_alnum(n: usize) -> String {
    let mut s = String::with_capacity(n);
    push_random_alnum(&mut s, n, false);
    s
}

/// [`random_alnum`]'s `n` characters written at the end of `out` (upper-cased when `upper`, as
/// `random_alnum(n).to_ascii_uppercase()`): an id with a prefix is made in one string, without
/// `format!` (the emulator makes several per envelope).
pub(crate) fn push_random_alnum(out: &mut String, n: usize, upper: bool) {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    out.reserve(n);
    // Eight characters from each 64 random bits.
    let mut bits = 0u64;
    for i in 0..n {
        if i % 8 == 0 {
            bits = random_u64();
        }
        let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize];
        out.push(if upper { c.to_ascii_uppercase() } else { c } as char);
        bits /= ALPHABET.len() as u64;
    }
}

/// Formats message text the way Slack echoes it:
///
/// - `&`, `<` and `>` are escaped as `&amp;`, `&lt;`, `&gt;` (an existing `&amp;`, `&lt;` or
///   `&gt;` is kept);
/// - Slack's own markup `<@U…>`, `<#C…>`, `<!here>`, `<http…>`, `<mailto:…>` is kept verbatim;
/// - bare `http://` / `https://` URLs (at the start or after whitespace or `(`) are wrapped in
///   `<…>`; trailing `.,;:!?)` are not part of the URL.
pub fn format_message_text(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(|b| matches!(b, b'&' | b'<' | b'>')) && !text.contains("http") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let rest = &text[i..];
        let at_boundary = i == 0 || matches!(bytes[i - 1], b' ' | b'\n' | b'\t' | b'\r' | b'(');
        if at_boundary && (rest.starts_with("http://") || rest.starts_with("https://")) {
            let scheme_len = if rest.starts_with("https://") { 8 } else { 7 };
            let mut end =
                rest.find(|c: char| c.is_whitespace() || c == '<' || c == '>').unwrap_or(rest.len());
            while end > scheme_len && rest[..end].ends_with(['.', ',', ';', ':', '!', '?', ')']) {
                end -= 1;
            }
            if end > scheme_len {
                out.push('<');
                escape_into(&mut out, &rest[..end]);
                out.push('>');
                i += end;
                continue;
            }
        }
        if let Some(inner) = rest.strip_prefix('<') {
            let markup = inner.starts_with(['@', '#', '!'])
                || inner.starts_with("http://")
                || inner.starts_with("https://")
                || inner.starts_with("mailto:");
            if markup && let Some(close) = rest.find(['>', '\n']).filter(|&c| rest.as_bytes()[c] == b'>') {
                out.push_str(&rest[..=close]);
                i += close + 1;
                continue;
            }
        }
        // Advance by one character.
        let ch_len = rest.chars().next().map_or(1, char::len_utf8);
        escape_into(&mut out, &rest[..ch_len]);
        if rest.starts_with('&') {
            for entity in ["&amp;", "&lt;", "&gt;"] {
                if rest.starts_with(entity) {
                    // Undo the escape of an already escaped entity.
                    out.truncate(out.len() - "&amp;".len());
                    out.push('&');
                    break;
                }
            }
        }
        i += ch_len;
    }
    Cow::Owned(out)
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// A set of user ids (presence subscriptions).
pub(crate) type UserSet = HashSet<UserId>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_is_unique_and_increasing() {
        let c = TsClock::default();
        let a = c.reserve(1);
        let b = c.reserve(5);
        let d = c.reserve(1);
        assert!(b > a && d == b + 5);
        let s = format_ts(1_700_000_000_000_042);
        assert_eq!(s, "1700000000.000042");
    }

    #[test]
    fn formats_links_and_escapes() {
        assert!(matches!(format_message_text("plain"), Cow::Borrowed(_)));
        assert_eq!(format_message_text("see https://x.io/a?b=1&c=2."), "see <https://x.io/a?b=1&amp;c=2>.");
        assert_eq!(format_message_text("http://a.b"), "<http://a.b>");
        assert_eq!(format_message_text("(http://a.b)"), "(<http://a.b>)");
        assert_eq!(format_message_text("a < b & c > d"), "a &lt; b &amp; c &gt; d");
        assert_eq!(format_message_text("hi <@U1> in <#C1|gen> <!here>"), "hi <@U1> in <#C1|gen> <!here>");
        assert_eq!(format_message_text("<https://x.io|x>"), "<https://x.io|x>");
        assert_eq!(format_message_text("&amp; &lt; &x"), "&amp; &lt; &amp;x");
        assert_eq!(format_message_text("nohttp://x é"), "nohttp://x é");
        assert_eq!(format_message_text("http:// alone"), "http:// alone");
    }

    #[test]
    fn random_numbers_differ_within_a_thread_and_between_threads() {
        let mine: std::collections::HashSet<u64> = (0..10_000).map(|_| random_u64()).collect();
        assert_eq!(mine.len(), 10_000);
        let theirs =
            std::thread::spawn(|| (0..10_000).map(|_| random_u64()).collect::<Vec<_>>()).join().unwrap();
        assert!(theirs.iter().all(|v| !mine.contains(v)));
    }

    #[test]
    fn random_alnum_has_length() {
        let s = random_alnum(24);
        assert_eq!(s.len(), 24);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(random_alnum(24), s);
    }
}
