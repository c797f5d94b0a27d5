//! Typed identifiers. Each is a transparent string newtype: it serializes as the plain string
//! Slack uses, and cannot be confused with another kind of id at compile time.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a string as this id (no validation: Slack's id formats change over time).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            /// The id as Slack writes it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// Returns the inner string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_id!(
    /// A user id: `U…`, or `W…` for Enterprise Grid users.
    UserId
);
string_id!(
    /// A workspace (team) id: `T…`.
    TeamId
);
string_id!(
    /// A conversation id: public channel `C…`, private `G…`, direct message `D…`.
    ChannelId
);
string_id!(
    /// An Enterprise Grid organisation id: `E…`.
    EnterpriseId
);
string_id!(
    /// A bot id: `B…`.
    BotId
);
string_id!(
    /// A message timestamp such as `"1355517523.000005"`. Always kept as the exact string Slack
    /// sent — never a float, which would lose the digits that make it unique in a channel.
    Ts
);

impl Ts {
    /// The seconds part of the timestamp, if it parses.
    pub fn seconds(&self) -> Option<u64> {
        self.0.split('.').next()?.parse().ok()
    }
}
