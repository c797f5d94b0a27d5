//! How listeners choose their requests: exact ids, substrings, regular expressions.

pub use regex::Regex;
use std::fmt;
use std::sync::Arc;

/// The captures of a listener's regular expression, for the request it matched.
#[derive(Clone, Default)]
pub struct Matches {
    /// `None` when there are none (no regular expression): most requests' (every context
    /// starts with none), made, cloned and dropped without touching a count.
    captured: Option<Arc<Captured>>,
}

/// A regular expression's captures: the groups, and the named ones' indexes.
struct Captured {
    groups: Box<[Option<String>]>,
    names: Box<[(String, usize)]>,
}

impl Matches {
    fn from_regex(re: &Regex, caps: &regex::Captures<'_>) -> Matches {
        let groups = caps.iter().map(|m| m.map(|m| m.as_str().to_owned())).collect();
        let names =
            re.capture_names().enumerate().filter_map(|(i, n)| n.map(|n| (n.to_owned(), i))).collect();
        Matches { captured: Some(Arc::new(Captured { groups, names })) }
    }

    fn groups(&self) -> &[Option<String>] {
        self.captured.as_deref().map_or(&[], |c| &c.groups)
    }

    fn names(&self) -> &[(String, usize)] {
        self.captured.as_deref().map_or(&[], |c| &c.names)
    }

    /// Group `i` (0: the whole match), if it took part in the match.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.groups().get(i).and_then(|g| g.as_deref())
    }

    /// The named group `name`, if it took part in the match.
    pub fn name(&self, name: &str) -> Option<&str> {
        self.names().iter().find(|(n, _)| n == name).and_then(|(_, i)| self.get(*i))
    }

    /// How many groups (0 when the pattern was not a regular expression).
    pub fn len(&self) -> usize {
        self.groups().len()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.groups().is_empty()
    }
}

impl PartialEq for Matches {
    fn eq(&self, other: &Matches) -> bool {
        self.groups() == other.groups() && self.names() == other.names()
    }
}

impl Eq for Matches {}

impl fmt::Debug for Matches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matches").field("groups", &self.groups()).field("names", &self.names()).finish()
    }
}

/// An id pattern (`action_id`, `block_id`, `callback_id`, a command name): a string matches
/// exactly, a [`Regex`] as a regular expression.
#[derive(Clone)]
pub enum IdPattern {
    /// The same string.
    Exact(String),
    /// A regular expression (anchor it with `^…$` to match whole ids).
    Regex(Regex),
}

impl fmt::Debug for IdPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdPattern::Exact(s) => write!(f, "{s}"),
            IdPattern::Regex(r) => write!(f, "/{}/", r.as_str()),
        }
    }
}

impl IdPattern {
    pub(crate) fn matches(&self, s: &str) -> Option<Matches> {
        match self {
            IdPattern::Exact(e) => (e == s).then(Matches::default),
            IdPattern::Regex(r) => r.captures(s).map(|c| Matches::from_regex(r, &c)),
        }
    }
}

impl From<&str> for IdPattern {
    fn from(s: &str) -> Self {
        IdPattern::Exact(s.to_owned())
    }
}

impl From<String> for IdPattern {
    fn from(s: String) -> Self {
        IdPattern::Exact(s)
    }
}

impl From<Regex> for IdPattern {
    fn from(r: Regex) -> Self {
        IdPattern::Regex(r)
    }
}

/// A message text pattern: a string matches as a substring, a [`Regex`] as a regular
/// expression (its captures go to [`Context::matches`](super::Context::matches)), `""` matches
/// every message (with or without text).
#[derive(Clone)]
pub enum TextPattern {
    /// The text contains this string.
    Contains(String),
    /// The text matches this regular expression.
    Regex(Regex),
}

impl fmt::Debug for TextPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextPattern::Contains(s) => write!(f, "{s:?}"),
            TextPattern::Regex(r) => write!(f, "/{}/", r.as_str()),
        }
    }
}

impl TextPattern {
    pub(crate) fn matches(&self, text: Option<&str>) -> Option<Matches> {
        match (self, text) {
            (TextPattern::Contains(s), _) if s.is_empty() => Some(Matches::default()),
            (TextPattern::Contains(s), Some(t)) => t.contains(s.as_str()).then(Matches::default),
            (TextPattern::Regex(r), Some(t)) => r.captures(t).map(|c| Matches::from_regex(r, &c)),
            (_, None) => None,
        }
    }
}

impl From<&str> for TextPattern {
    fn from(s: &str) -> Self {
        TextPattern::Contains(s.to_owned())
    }
}

impl From<String> for TextPattern {
    fn from(s: String) -> Self {
        TextPattern::Contains(s)
    }
}

impl From<Regex> for TextPattern {
    fn from(r: Regex) -> Self {
        TextPattern::Regex(r)
    }
}

/// Which block actions a listener takes: by `action_id`, `block_id`, or both. A string or a
/// [`Regex`] converts into a matcher on the `action_id`.
#[derive(Clone, Debug, Default)]
pub struct ActionMatcher {
    action_id: Option<IdPattern>,
    block_id: Option<IdPattern>,
}

impl ActionMatcher {
    /// Actions with this `action_id`.
    pub fn action_id(pattern: impl Into<IdPattern>) -> Self {
        ActionMatcher { action_id: Some(pattern.into()), block_id: None }
    }

    /// Actions in this `block_id`.
    pub fn block_id(pattern: impl Into<IdPattern>) -> Self {
        ActionMatcher { action_id: None, block_id: Some(pattern.into()) }
    }

    /// Also requires this `block_id`.
    pub fn in_block(mut self, pattern: impl Into<IdPattern>) -> Self {
        self.block_id = Some(pattern.into());
        self
    }

    /// The captures if `(action_id, block_id)` matches (the action id's, else the block id's).
    pub(crate) fn matches(&self, action_id: &str, block_id: Option<&str>) -> Option<Matches> {
        let a = match &self.action_id {
            Some(p) => Some(p.matches(action_id)?),
            None => None,
        };
        let b = match &self.block_id {
            Some(p) => Some(p.matches(block_id?)?),
            None => None,
        };
        Some(a.filter(|m| !m.is_empty()).or(b).unwrap_or_default())
    }
}

impl<T: Into<IdPattern>> From<T> for ActionMatcher {
    fn from(p: T) -> Self {
        ActionMatcher::action_id(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_captures_and_a_regular_expressions_captures_read_as_before() {
        let none = Matches::default();
        assert!(none.is_empty());
        assert_eq!((none.len(), none.get(0), none.name("x")), (0, None, None));
        assert_eq!(none, Matches::default());
        let m = IdPattern::Regex(Regex::new(r"^approve_(?P<id>\d+)(_x)?$").unwrap())
            .matches("approve_42")
            .unwrap();
        assert_eq!((m.len(), m.get(0), m.get(1), m.get(2)), (3, Some("approve_42"), Some("42"), None));
        assert_eq!((m.name("id"), m.name("other")), (Some("42"), None));
        assert_eq!(m.clone(), m);
        assert_ne!(m, none);
        // An exact pattern captures nothing.
        assert_eq!(IdPattern::from("a").matches("a"), Some(Matches::default()));
        assert_eq!(format!("{none:?}"), format!("{:?}", Matches::default()));
    }
}
