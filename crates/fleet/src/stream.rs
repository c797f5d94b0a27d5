//! The fleet's stream in Redis: connecting, appending (with the dedupe claim and
//! back-pressure, in one atomic script; the bodies beside it in the same transaction), and
//! reading its size.

use crate::config::{FleetConfig, Keys};
use crate::entry::{EntryView, NewEntry};
use crate::error::FleetError;
use redis::AsyncCommands;
use redis::Value;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What became of an append.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendOutcome {
    /// Appended as entry `id`, and its event claimed.
    Appended {
        /// The entry's id.
        id: String,
    },
    /// The event was claimed already (appended by this or another gateway): not appended again.
    Duplicate,
    /// The stream holds `backlog` entries some consumer group has not finished: refused.
    Full {
        /// Entries not yet handled by every group.
        backlog: u64,
    },
}

/// A connection to the fleet's stream. Cheap to clone (one multiplexed connection that
/// reconnects by itself after Redis restarts).
#[derive(Clone)]
pub struct EventStream {
    conn: ConnectionManager,
    keys: Keys,
    script: redis::Script,
    max_backlog: u64,
    claim_ttl_secs: u64,
    /// Body keys: `<stream>:body:<random>-<n>`, n counted by `appends` (unique per append, so
    /// a duplicate's body never lands on another entry's key).
    body_prefix: Arc<str>,
    appends: Arc<AtomicU64>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").field("keys", &self.keys).finish_non_exhaustive()
    }
}

/// A connection manager for `config`'s Redis. It connects lazily (a Redis that is down at
/// start is not an error until a command fails) and reconnects after failures.
pub(crate) fn connect(
    config: &FleetConfig,
    response_timeout: Duration,
) -> Result<ConnectionManager, FleetError> {
    let client = redis::Client::open(config.redis.expose())
        .map_err(|e| FleetError::BadRedisUrl { url: config.redis.redacted(), reason: e.to_string() })?;
    let mc = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_lazy_with_config(client, mc)
        .map_err(|e| FleetError::BadRedisUrl { url: config.redis.redacted(), reason: e.to_string() })
}

impl EventStream {
    /// A stream handle for `config` (no command is sent yet).
    pub fn new(config: &FleetConfig) -> Result<Self, FleetError> {
        Ok(Self {
            conn: connect(config, config.response_timeout)?,
            keys: config.keys.clone(),
            script: redis::Script::new(include_str!("append.lua")),
            max_backlog: config.max_backlog.max(1),
            claim_ttl_secs: config.claim_ttl.as_secs().max(1),
            body_prefix: body_prefix(&config.keys).into(),
            appends: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Appends `entry` unless its event was claimed already or the stream is full (see
    /// [`AppendOutcome`]). Atomic: the entry and its claim are written together, or neither.
    pub async fn append(&self, entry: &NewEntry) -> Result<AppendOutcome, FleetError> {
        let mut outcomes = self.append_many(std::slice::from_ref(entry)).await?;
        outcomes.pop().ok_or_else(|| FleetError::Protocol("the append script answered nothing".into()))
    }

    /// Appends `entries` in order, in one script call (one round trip): each is appended
    /// unless its event was claimed already (by another entry of the batch too) or the stream
    /// is full, as [`EventStream::append`] does; one outcome per entry, in order. Atomic: the
    /// whole batch runs as one script, and each entry is written with its claim.
    pub async fn append_many(&self, entries: &[NewEntry]) -> Result<Vec<AppendOutcome>, FleetError> {
        let views: Vec<EntryView<'_>> = entries.iter().map(NewEntry::view).collect();
        self.append_views(&views).await
    }

    /// [`EventStream::append_many`] of borrowed entries (the gateway's, borrowed from the
    /// envelopes' text).
    pub(crate) async fn append_views(
        &self,
        entries: &[EntryView<'_>],
    ) -> Result<Vec<AppendOutcome>, FleetError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let pipe = self.append_pipe(entries);
        let mut conn = self.conn.clone();
        // Once more on a connection that broke (Redis restarted): safe, because an append that
        // did happen has claimed its event, so the second try answers `Duplicate` (and its
        // `SET … XX` writes the same body on the same key again).
        let answer = match self.exec(&pipe, &mut conn).await {
            Err(e) if e.is_connection_dropped() || e.is_io_error() => {
                tracing::debug!(error = %e, "Redis connection broke; appending again on a new one");
                self.exec(&pipe, &mut conn).await.map_err(FleetError::redis)?
            }
            r => r.map_err(FleetError::redis)?,
        };
        let (answer, bodies) = answer;
        if answer.len() != 2 * entries.len() || bodies.len() != entries.len() {
            return Err(FleetError::Protocol(format!(
                "the append script answered {} items for {} entries",
                answer.len(),
                entries.len()
            )));
        }
        let mut it = answer.into_iter();
        let mut out = Vec::with_capacity(entries.len());
        let mut bodies = bodies.into_iter();
        while let (Some(status), Some(value), Some(body)) = (it.next(), it.next(), bodies.next()) {
            let outcome = match status.as_str() {
                "ok" => AppendOutcome::Appended { id: value },
                "dup" => AppendOutcome::Duplicate,
                "full" => AppendOutcome::Full { backlog: value.parse().unwrap_or(self.max_backlog) },
                other => return Err(FleetError::Protocol(format!("the append script answered {other:?}"))),
            };
            // The body is written where the script appended an entry, and only there.
            let written = matches!(body, Value::Okay) || matches!(&body, Value::SimpleString(s) if s == "OK");
            if written != matches!(outcome, AppendOutcome::Appended { .. }) {
                return Err(FleetError::Protocol(format!("a body's SET answered {body:?} for {outcome:?}")));
            }
            out.push(outcome);
        }
        Ok(out)
    }

    /// The append's transaction for `entries`: `MULTI`, the script's `EVALSHA` (claims, entries
    /// and their bodies' placeholders; no body passes through the script), one `SET <body key>
    /// <body> XX` per entry (written only where the script left a placeholder), `EXEC`. The
    /// `EVALSHA` is written straight into one command buffer: no buffer per argument (as
    /// `redis::ScriptInvocation` keeps); the claim keys and `meta` fields go through one reused
    /// string (see docs/perf/fleet4.md and fleet5.md).
    fn append_pipe(&self, entries: &[EntryView<'_>]) -> redis::Pipeline {
        let first = self.appends.fetch_add(entries.len() as u64, Ordering::Relaxed);
        let mut body_keys = String::with_capacity(entries.len() * (self.body_prefix.len() + 12));
        let mut ends = Vec::with_capacity(entries.len());
        for n in first..first + entries.len() as u64 {
            use std::fmt::Write;
            body_keys.push_str(&self.body_prefix);
            let _ = write!(body_keys, "{n}");
            ends.push(body_keys.len());
        }
        let key = |i: usize| &body_keys[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
        let small_bytes: usize = entries.iter().map(|e| e.envelope_id.len() + 160).sum();
        let mut cmd = redis::Cmd::with_capacity(10 + 5 * entries.len(), 128 + small_bytes + body_keys.len());
        cmd.arg("EVALSHA").arg(self.script.get_hash()).arg(1 + 2 * entries.len()).arg(&self.keys.stream);
        let mut buf = String::with_capacity(128);
        for entry in entries {
            buf.clear();
            self.keys.write_claim(entry.event_id.as_deref(), &entry.envelope_id, &mut buf);
            cmd.arg(buf.as_str());
        }
        for i in 0..entries.len() {
            cmd.arg(key(i));
        }
        cmd.arg(self.claim_ttl_secs).arg(self.max_backlog).arg(crate::entry::FIELD_COUNT);
        for name in crate::entry::FIELD_NAMES {
            cmd.arg(name);
        }
        for entry in entries {
            buf.clear();
            entry.write_meta(&mut buf);
            cmd.arg(entry.envelope_id.as_ref()).arg(buf.as_str());
        }
        let mut pipe = redis::pipe();
        pipe.atomic().ignore_errors().add_command(cmd);
        for (i, entry) in entries.iter().enumerate() {
            let mut set = redis::Cmd::with_capacity(4, entry.body.len() + key(i).len() + 8);
            set.arg("SET").arg(key(i)).arg(entry.body).arg("XX");
            pipe.add_command(set);
        }
        pipe
    }

    /// Runs the append's transaction: the script's answer and each `SET`'s. If this Redis does
    /// not have the script (a new or restarted server, `SCRIPT FLUSH`), the `EVALSHA` fails
    /// alone, so no placeholder was written and each `SET … XX` wrote nothing: the script is
    /// loaded and the transaction runs once more.
    async fn exec(
        &self,
        pipe: &redis::Pipeline,
        conn: &mut ConnectionManager,
    ) -> redis::RedisResult<(Vec<String>, Vec<Value>)> {
        let mut replies: Vec<Value> = pipe.query_async(conn).await?;
        if matches!(&replies.first(), Some(Value::ServerError(e)) if e.kind() == Some(redis::ServerErrorKind::NoScript))
        {
            self.script.load_async(conn).await?;
            replies = pipe.query_async(conn).await?;
        }
        if replies.is_empty() {
            return Err(redis::RedisError::from((redis::ErrorKind::UnexpectedReturnType, "an empty EXEC")));
        }
        let script = replies.remove(0).extract_error()?;
        Ok((redis::from_redis_value(script)?, replies))
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), FleetError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await.map(drop).map_err(FleetError::redis)
    }

    /// Entries in the stream (handled ones are trimmed when the back-pressure limit is reached).
    pub async fn entries(&self) -> Result<u64, FleetError> {
        let mut conn = self.conn.clone();
        conn.xlen(&self.keys.stream).await.map_err(FleetError::redis)
    }

    /// Entries in the dead-letter stream.
    pub async fn dead_entries(&self) -> Result<u64, FleetError> {
        let mut conn = self.conn.clone();
        conn.xlen(&self.keys.dead).await.map_err(FleetError::redis)
    }
}

/// The prefix of the body keys of one [`EventStream`]: the stream's key (so the app's hash
/// tag), `:body:`, 64 random bits of this process and handle, and `-`.
fn body_prefix(keys: &Keys) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let random = std::collections::hash_map::RandomState::new().hash_one((nanos, std::process::id()));
    format!("{}:body:{random:016x}-", keys.stream)
}
