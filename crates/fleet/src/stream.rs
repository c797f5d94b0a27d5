//! The fleet's stream in Redis: connecting, appending (with the dedupe claim and
//! back-pressure, in one atomic script), and reading its size.

use crate::config::{FleetConfig, Keys};
use crate::entry::{EntryView, NewEntry};
use crate::error::FleetError;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
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
        let cmd = self.append_cmd(entries);
        let mut conn = self.conn.clone();
        // Once more on a connection that broke (Redis restarted): safe, because an append that
        // did happen has claimed its event, so the second try answers `Duplicate`.
        let answer: String = match self.eval(&cmd, &mut conn).await {
            Err(e) if e.is_connection_dropped() || e.is_io_error() => {
                tracing::debug!(error = %e, "Redis connection broke; appending again on a new one");
                self.eval(&cmd, &mut conn).await.map_err(FleetError::redis)?
            }
            r => r.map_err(FleetError::redis)?,
        };
        outcomes(&answer, entries.len(), self.max_backlog)
    }

    /// The script's `EVALSHA` for `entries`, written straight into one command buffer: no
    /// buffer per argument (as `redis::ScriptInvocation` keeps) and one copy of each body on
    /// its way to the socket, not two; the claim keys and `meta` fields go through one reused
    /// string (see docs/perf/fleet4.md).
    fn append_cmd(&self, entries: &[EntryView<'_>]) -> redis::Cmd {
        let body_bytes: usize = entries.iter().map(|e| e.body.len() + e.envelope_id.len() + 160).sum();
        let mut cmd = redis::Cmd::with_capacity(10 + 4 * entries.len(), 128 + body_bytes);
        cmd.arg("EVALSHA").arg(self.script.get_hash()).arg(1 + entries.len()).arg(&self.keys.stream);
        let mut buf = String::with_capacity(128);
        for entry in entries {
            buf.clear();
            self.keys.write_claim(entry.event_id.as_deref(), &entry.envelope_id, &mut buf);
            cmd.arg(buf.as_str());
        }
        cmd.arg(self.claim_ttl_secs).arg(self.max_backlog).arg(crate::entry::FIELD_COUNT);
        for name in crate::entry::FIELD_NAMES {
            cmd.arg(name);
        }
        for entry in entries {
            buf.clear();
            entry.write_meta(&mut buf);
            cmd.arg(entry.envelope_id.as_ref()).arg(buf.as_str()).arg(entry.body);
        }
        cmd
    }

    /// Runs `cmd` (an `EVALSHA` of the append script), loading the script first if this Redis
    /// does not have it (a new or restarted server, `SCRIPT FLUSH`).
    async fn eval(&self, cmd: &redis::Cmd, conn: &mut ConnectionManager) -> redis::RedisResult<String> {
        match cmd.query_async(conn).await {
            Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
                self.script.load_async(conn).await?;
                cmd.query_async(conn).await
            }
            r => r,
        }
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

/// The append script's answer read into one outcome per entry: an item per entry, in order,
/// separated by `,` — the entry's id (`<ms>-<seq>`), `d` (a duplicate) or `f<entries>` (full).
/// Anything else, or another number of items, is a [`FleetError::Protocol`], never a panic.
fn outcomes(answer: &str, entries: usize, max_backlog: u64) -> Result<Vec<AppendOutcome>, FleetError> {
    let mut out = Vec::with_capacity(entries);
    for item in answer.split(',') {
        out.push(match item.as_bytes().first() {
            Some(b'0'..=b'9') => AppendOutcome::Appended { id: item.to_owned() },
            Some(b'd') if item.len() == 1 => AppendOutcome::Duplicate,
            Some(b'f') => AppendOutcome::Full { backlog: item[1..].parse().unwrap_or(max_backlog) },
            _ => return Err(FleetError::Protocol(format!("the append script answered {item:?}"))),
        });
    }
    if out.len() != entries {
        return Err(FleetError::Protocol(format!(
            "the append script answered {} items for {entries} entries",
            out.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_answer_is_one_outcome_per_entry_in_order() {
        let out = outcomes("1733-0,d,f12,1733-1", 4, 99).unwrap();
        assert_eq!(
            out,
            [
                AppendOutcome::Appended { id: "1733-0".into() },
                AppendOutcome::Duplicate,
                AppendOutcome::Full { backlog: 12 },
                AppendOutcome::Appended { id: "1733-1".into() },
            ]
        );
        assert_eq!(outcomes("f", 1, 99).unwrap(), [AppendOutcome::Full { backlog: 99 }]);
        // Not an answer of the script: a typed error, no panic.
        for (bad, n) in [("", 1), ("1-0,d", 1), ("1-0", 2), ("ok", 1), ("dd", 1), ("1-0,,d", 3), (",", 2)] {
            assert!(matches!(outcomes(bad, n, 9), Err(FleetError::Protocol(_))), "{bad:?}");
        }
    }
}
