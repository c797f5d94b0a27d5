//! [`RedisEventDedupe`]: HTTP mode's event dedupe shared by every instance behind a load
//! balancer, on the fleet's claim (`SET key NX EX ttl` on the app's hash-tagged claim key,
//! unless a gateway claimed the event in its period's set).

use crate::config::{FleetConfig, Keys};
use crate::error::FleetError;
use crate::stream::connect;
use redis::aio::ConnectionManager;
use slack_rtm::app::BoxFuture;
use slack_rtm::app::http::EventDedupe;
use slack_rtm::codec::BoxError;

/// Claims an event id in Redis, so one `event_id` reaches the listeners of one instance only,
/// however many instances Slack's retries land on. The claim key is the fleet's
/// ([`Keys::claim`]), which gateways check too, and an event a Socket Mode gateway of the same
/// app claimed (in its period's set, [`Keys::claim_set`]) counts as claimed: the two share
/// their claims. Each claim lives [`FleetConfig::claim_ttl`].
#[derive(Clone)]
pub struct RedisEventDedupe {
    conn: ConnectionManager,
    keys: Keys,
    ttl_secs: u64,
    script: redis::Script,
}

/// The claim: none if a gateway claimed the event in this period's set or the one before
/// (see `append.lua`), else `SET key 1 NX EX ttl`. KEYS[1] the claim key; ARGV[1] the
/// lifetime (s), ARGV[2] the claim prefix. Answers 1 when claimed now, 0 when claimed before.
const CLAIM: &str = r"
local ttl, prefix = tonumber(ARGV[1]), ARGV[2]
local member = string.sub(KEYS[1], #prefix + 1)
local period = math.floor(tonumber(redis.call('TIME')[1]) / ttl)
for p = period - 1, period do
  if redis.call('SISMEMBER', prefix .. 't:' .. p, member) == 1 then return 0 end
end
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ttl) then return 1 end
return 0
";

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
            script: redis::Script::new(CLAIM),
        })
    }
}

impl EventDedupe for RedisEventDedupe {
    fn claim(&self, event_id: String) -> BoxFuture<Result<bool, BoxError>> {
        let mut conn = self.conn.clone();
        let key = self.keys.claim(Some(&event_id), "");
        let (script, ttl, prefix) = (self.script.clone(), self.ttl_secs, self.keys.claim_prefix.clone());
        Box::pin(async move {
            let claimed: i64 = script.key(key).arg(ttl).arg(prefix).invoke_async(&mut conn).await?;
            Ok(claimed == 1)
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
