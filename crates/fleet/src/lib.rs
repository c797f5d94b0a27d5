//! # slack-rtm-fleet
//!
//! Run a Slack Socket Mode app as a fleet of processes with nothing lost, on Redis Streams (or
//! Valkey).
//!
//! - **Gateways** ([`Gateway`]) hold a share of the app's 10 Socket Mode sockets. Each envelope
//!   is appended to a Redis Stream and acked only once Redis confirmed the append, within
//!   Slack's 3 s deadline. If Redis is down, slow, or the stream is full, the envelope is not
//!   acked: Slack delivers it again.
//! - **Dedupe across the fleet**: the append claims the event's `event_id` in Redis in the same
//!   atomic script, so a redelivery that reaches another gateway is acked and not appended
//!   again.
//! - **HTTP mode** ([`RedisEventDedupe`]): instances of an app on Slack's Request URLs share
//!   the same claims, so a retry that lands on another instance is not handled twice.
//! - **Workers** ([`Worker`]) read the stream in a consumer group, hand each event to the
//!   application's handler and `XACK` it after the handler succeeded. A dead worker's events
//!   are taken over by another (`XAUTOCLAIM`); an event whose handler keeps failing goes to a
//!   dead-letter stream.
//! - **Bounded**: handled entries are trimmed, and past [`FleetConfig::max_backlog`] unhandled
//!   ones the gateways push back (they stop acking, so Slack holds the events).
//!
//! Delivery to handlers is at least once, with the event id exposed
//! ([`FleetEvent::idempotency_key`]). See `docs/fleet.md` for the topology, the guarantees and
//! what to run in production.
//!
//! ```no_run
//! use slack_rtm::SocketModeClient;
//! use slack_rtm_fleet::{FleetConfig, Gateway, Worker, WorkerConfig};
//!
//! # async fn run() -> Result<(), slack_rtm_fleet::FleetError> {
//! let fleet = FleetConfig::new("redis://127.0.0.1:6379", "my-app");
//! // In the gateway processes: two of the app's ten sockets each.
//! let gateway = Gateway::builder(SocketModeClient::builder("xapp-…").connections(2), fleet.clone())
//!     .start()
//!     .await?;
//! // In the worker processes:
//! let mut worker = Worker::new(&fleet, WorkerConfig::new("handlers"))?;
//! worker
//!     .run(
//!         |event| async move {
//!             println!("{} {:?}", event.idempotency_key(), event.event_type);
//!             Ok::<(), std::io::Error>(())
//!         },
//!         async { tokio::signal::ctrl_c().await.ok(); },
//!     )
//!     .await;
//! # gateway.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod config;
mod entry;
mod entry_view;
mod error;
mod gateway;
mod http_dedupe;
mod installations;
mod stream;
#[cfg(feature = "testing")]
pub mod testing;
mod worker;

pub use config::{FleetConfig, Keys, RedisUrl};
pub use entry::{FleetEvent, NewEntry};
pub use error::FleetError;
pub use gateway::{Gateway, GatewayBuilder, GatewayCounts};
pub use http_dedupe::RedisEventDedupe;
pub use installations::RedisInstallationStore;
pub use stream::{AppendOutcome, EventStream};
pub use worker::{Worker, WorkerConfig, WorkerCounts};
