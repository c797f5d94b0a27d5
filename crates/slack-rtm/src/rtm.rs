//! The classic RTM API: [`Client`](crate::Client) and its [`Events`](crate::Events), the
//! messages you send ([`SendMessage`], [`Posted`]), the session's lifecycle
//! ([`SessionEvent`], [`State`], [`Status`]; [`LazySessionEvent`] and [`LazyEvent`] for reading
//! server events without decoding them, [`MessageView`] for a message's common fields), its settings ([`SessionConfig`],
//! [`KeepaliveConfig`], [`ReconnectPolicy`], [`SendRate`]) and the runtime-free state
//! machine ([`machine`]) for driving a session from another runtime or WebSocket library.

pub use crate::client::{DEFAULT_SHUTDOWN_GRACE, Posted, SendMessage, SendMessageFuture};
pub use crate::gap::{GapRefill, Refill};
pub use slack_rtm_codec::DecodeError;
pub use slack_rtm_codec::{ConnectConfig, ConnectResponse};
pub use slack_rtm_session::driver::Status;
pub use slack_rtm_session::rtm as machine;
pub use slack_rtm_session::rtm::{
    KeepaliveConfig, LazyEvent, LazySessionEvent, Reason, ReconnectPolicy, RtmAck, SendError, SendRate,
    SessionConfig, SessionEvent, State, Warning,
};
pub use slack_rtm_types::event;
pub use slack_rtm_types::event::MessageView;
pub use slack_rtm_types::{ClientMessage, ConnectOptions, Event, OutgoingMessage, SelfInfo, TeamInfo};
