//! What both session machines use: the reconnect backoff, the bounded window of
//! seen keys and their fingerprint, the timer-table mechanism, keepalive and deadline settings,
//! close codes and limits, the classification of a failed opening call ([`ConnectFailure`]),
//! why a socket ended ([`Reason`]), why a session stopped ([`StopReason`]), warnings and the overall [`State`]; and the two traits
//! both machines implement for their driver, [`Machine`] and [`SocketInput`].
//!
//! The RTM machine ([`crate::rtm`]) and the Socket Mode machine ([`crate::socket_mode`])
//! are siblings over this module; neither imports the other. The public items are re-exported
//! by both (e.g. `slack_rtm_session::rtm::ConnId` and `slack_rtm_session::common::ConnId`
//! are the same type).

mod backoff;
mod config;
pub(crate) mod envelope_id;
mod idmap;
mod machine;
mod seen;
mod stop;
mod timer;
mod types;

pub(crate) use backoff::Backoff;
pub(crate) use config::{CLOSE_NORMAL, CLOSE_REPLACED, MAX_CONFIG_DURATION, MAX_RETRY_AFTER};
pub use config::{KeepaliveConfig, ReconnectPolicy, Timeouts};
pub use envelope_id::EnvelopeId;
pub(crate) use idmap::IdMap;
pub use machine::{Machine, SocketInput};
pub(crate) use seen::{SeenWindow, fingerprint};
pub use stop::StopReason;
pub(crate) use timer::TimerTable;
#[cfg(any(test, feature = "testing"))]
pub(crate) use timer::check_deadlines;
pub(crate) use types::message_text;
pub use types::{ConnId, ConnectFailure, FailureKind, Reason, SkippedFrame, State, Warning};
