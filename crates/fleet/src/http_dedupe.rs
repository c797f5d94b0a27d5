//! [`RedisEventDedupe`]: HTTP mode's event dedupe shared by every instance behind a load
//! balancer, on the fleet's claim (`SET key NX EX ttl` on the app's hash-tagged claim key).

use crate::config::{FleetConfig, Keys};
use crate::error::FleetError;
use crate::stream::connect;
use redis::aio::ConnectionManager;
use slack_rtm::app::BoxFuture;
use slack_rtm::app::http::EventDedupe;
use slack_rtm::codec::BoxError;

/// Claims an event id in Redis, so one `event_id` reaches the listeners of one instance only,
/// however many instances Slack's retries land on. The claim key is the fleet's
/// ([`Keys::claim`]), so HTTP instances and Socket Mode gateways of the same app share it.
/// Each claim lives [`FleetConfig::claim_ttl`].
#[derive(Clone)]
pub struct RedisEventDedupe {
    conn: ConnectionManager,
    keys: Keys,
    ttl_secs: u64,
}

impl std::fmt::Debug for RedisEventDedupe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisEventDedupe")
            .field("keys", &self.keys)
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

impl RedisEventDedupe {
    /// A dedupe on `config`'s Redis and keys (connects lazily: a Redis that is down fails
    /// claims, which hand the event over).
    pub fn new(config: &FleetConfig) -> Result<Self, FleetError> {
        Ok(Self {
            conn: connect(config, config.response_timeout)?,
            keys: config.keys.clone(),
            ttl_secs: config.claim_ttl.as_secs().max(1),
        })
    }
}

impl EventDedupe for RedisEventDedupe {
    fn claim(&self, event_id: String) -> BoxFuture<Result<bool, BoxError>> {
        let mut conn = self.conn.clone();
        let key = self.keys.claim(Some(&event_id), "");
        let ttl = self.ttl_secs;
        Box::pin(async move {
            let set: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(ttl)
                .query_async(&mut conn)
                .await?;
            Ok(set.is_some())
        })
    }

    fn release(&self, event_id: String) -> BoxFuture<()> {
        let mut conn = self.conn.clone();
        let key = self.keys.claim(Some(&event_id), "");
        Box::pin(async move {
            if let Err(e) = redis::cmd("DEL").arg(&key).query_async::<i64>(&mut conn).await {
                tracing::warn!("could not release an event claim: {e}");
            }
        })
    }
}
