//! [`RedisInstallationStore`]: OAuth installations in Redis, shared by every instance of an
//! app (HTTP instances behind a load balancer, a fleet's workers).
//!
//! One Redis hash per workspace, `slack-rtm:{app}:installations:{enterprise}:{team}` (ids
//! escaped; `""` when absent), with the field `bot` for the workspace's bot row and `user:{id}`
//! for each user row ([`slack_rtm_oauth::rows`]); each value is
//! `Installation::to_json_with_secrets`. The set `slack-rtm:{app}:installations` lists the
//! workspace hashes. Every key shares the app's hash tag, so one app's keys live on one slot.

use crate::config::FleetConfig;
use crate::stream::connect;
use redis::aio::ConnectionManager;
use slack_rtm::types::UserId;
use slack_rtm::types::oauth::Installation;
use slack_rtm_oauth::rows::{RowKey, merge, rows_to_save};
use slack_rtm_oauth::{InstallationStore, Lease, StoreError, StoreFuture, Workspace};
use std::time::Duration;

/// Saves the rows (`ARGV[3..]` fields of hash `KEYS[2]`, value `ARGV[2]`, listed in set
/// `KEYS[3]`) only while the lease `KEYS[1]` is held by `ARGV[1]`: the fencing check and the
/// write in one atomic script.
const SAVE_LEASED: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 3, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], ARGV[2]) end
redis.call('SADD', KEYS[3], KEYS[2])
return 1";

/// Deletes the lease `KEYS[1]` if `ARGV[1]` holds it; extends it (`PX ARGV[2]`) when asked to
/// with `ARGV[3] == 'extend'`.
const LEASE_OWNED: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == 'extend' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) else redis.call('DEL', KEYS[1]) end
return 1";

/// OAuth installations in Redis (see the module's documentation for the keys).
#[derive(Clone)]
pub struct RedisInstallationStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisInstallationStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisInstallationStore").field("prefix", &self.prefix).finish()
    }
}

fn backend(e: redis::RedisError) -> StoreError {
    StoreError::Backend(format!("Redis: {e}"))
}

/// Escapes `%` and `:` so two different ids never give one key.
fn escape(id: &str) -> String {
    id.replace('%', "%25").replace(':', "%3A")
}

fn field(user: &str) -> String {
    if user.is_empty() { "bot".to_owned() } else { format!("user:{user}") }
}

fn decode(data: Option<String>) -> Result<Option<Installation>, StoreError> {
    let Some(data) = data else { return Ok(None) };
    let value =
        serde_json::from_str(&data).map_err(|e| StoreError::Backend(format!("a row is not JSON: {e}")))?;
    Ok(Some(Installation::from_json_with_secrets(value)?))
}

impl RedisInstallationStore {
    /// A store on `config`'s Redis, under the app's keys (`slack-rtm:{app}:installations…`).
    /// Connects lazily.
    pub fn new(config: &FleetConfig) -> Result<Self, crate::FleetError> {
        let stream = &config.keys.stream;
        let base = stream.strip_suffix(":events").unwrap_or(stream);
        Ok(Self { conn: connect(config, config.response_timeout)?, prefix: format!("{base}:installations") })
    }

    fn hash(&self, key: &RowKey) -> String {
        format!("{}:{}:{}", self.prefix, escape(&key.enterprise), escape(&key.team))
    }

    fn lease_key(&self, name: &str) -> String {
        format!("{}:lease:{}", self.prefix, escape(name))
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl InstallationStore for RedisInstallationStore {
    fn save(&self, installation: Installation) -> StoreFuture<'_, Result<(), StoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let keys = rows_to_save(&installation)?;
            let Some(first) = keys.first() else { return Ok(()) };
            let hash = self.hash(first);
            let data = installation.to_json_with_secrets().to_string();
            let mut pipe = redis::pipe();
            pipe.atomic();
            for key in &keys {
                pipe.hset(&hash, field(&key.user), &data).ignore();
            }
            pipe.sadd(&self.prefix, &hash).ignore();
            pipe.query_async::<()>(&mut conn).await.map_err(backend)
        })
    }

    fn find(
        &self,
        workspace: Workspace,
        user: Option<UserId>,
    ) -> StoreFuture<'_, Result<Option<Installation>, StoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let hash = self.hash(&RowKey::new(&workspace, None));
            let user_field = field(user.as_ref().map_or("", |u| u.as_str()));
            let (bot, user_row): (Option<String>, Option<String>) = redis::cmd("HMGET")
                .arg(&hash)
                .arg("bot")
                .arg(&user_field)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            let user_row = if user.is_some() { decode(user_row)? } else { None };
            Ok(merge(user_row, decode(bot)?))
        })
    }

    fn delete(&self, workspace: Workspace, user: Option<UserId>) -> StoreFuture<'_, Result<u64, StoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let hash = self.hash(&RowKey::new(&workspace, None));
            if let Some(user) = user {
                return redis::cmd("HDEL")
                    .arg(&hash)
                    .arg(field(user.as_str()))
                    .query_async(&mut conn)
                    .await
                    .map_err(backend);
            }
            let (n,): (u64,) = redis::pipe()
                .atomic()
                .hlen(&hash)
                .del(&hash)
                .ignore()
                .srem(&self.prefix, &hash)
                .ignore()
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            Ok(n)
        })
    }

    fn delete_bot(&self, workspace: Workspace) -> StoreFuture<'_, Result<u64, StoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let hash = self.hash(&RowKey::new(&workspace, None));
            redis::cmd("HDEL").arg(&hash).arg("bot").query_async(&mut conn).await.map_err(backend)
        })
    }

    fn list(&self) -> StoreFuture<'_, Result<Vec<Installation>, StoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let mut hashes: Vec<String> =
                redis::cmd("SMEMBERS").arg(&self.prefix).query_async(&mut conn).await.map_err(backend)?;
            hashes.sort();
            let mut out = Vec::new();
            for hash in hashes {
                let mut rows: Vec<(String, String)> =
                    redis::cmd("HGETALL").arg(&hash).query_async(&mut conn).await.map_err(backend)?;
                rows.sort();
                for (_, data) in rows {
                    out.extend(decode(Some(data))?);
                }
            }
            Ok(out)
        })
    }

    /// `SET …:state:{nonce} 1 NX PX (until expiry)`: the first instance to set it wins.
    fn consume_state(
        &self,
        nonce: String,
        expires_at_ms: u64,
    ) -> StoreFuture<'_, Result<Option<bool>, StoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            let set: Option<String> = redis::cmd("SET")
                .arg(format!("{}:state:{}", self.prefix, escape(&nonce)))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(expires_at_ms.saturating_sub(now).max(1))
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            Ok(Some(set.is_some()))
        })
    }

    /// `SET lease holder NX PX ttl`; its holder extends it with a checked `PEXPIRE`.
    fn try_lease(&self, lease: Lease, ttl: Duration) -> StoreFuture<'_, Result<bool, StoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let key = self.lease_key(&lease.name);
            let set: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&lease.holder)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms(ttl))
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            if set.is_some() {
                return Ok(true);
            }
            let extended: i64 = redis::Script::new(LEASE_OWNED)
                .key(&key)
                .arg(&lease.holder)
                .arg(ttl_ms(ttl))
                .arg("extend")
                .invoke_async(&mut conn)
                .await
                .map_err(backend)?;
            Ok(extended == 1)
        })
    }

    fn release_lease(&self, lease: Lease) -> StoreFuture<'_, Result<(), StoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let _: i64 = redis::Script::new(LEASE_OWNED)
                .key(self.lease_key(&lease.name))
                .arg(&lease.holder)
                .arg(0)
                .arg("release")
                .invoke_async(&mut conn)
                .await
                .map_err(backend)?;
            Ok(())
        })
    }

    fn save_leased(
        &self,
        lease: Lease,
        installation: Installation,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let keys = rows_to_save(&installation)?;
            let Some(first) = keys.first() else { return Ok(true) };
            let save = redis::Script::new(SAVE_LEASED);
            let mut script = save.prepare_invoke();
            script
                .key(self.lease_key(&lease.name))
                .key(self.hash(first))
                .key(&self.prefix)
                .arg(&lease.holder)
                .arg(installation.to_json_with_secrets().to_string());
            for key in &keys {
                script.arg(field(&key.user));
            }
            let saved: i64 = script.invoke_async(&mut conn).await.map_err(backend)?;
            Ok(saved == 1)
        })
    }
}
