//! The worker's Redis commands: group creation, reads, takeovers, acks, dead letters.

use super::WorkerConfig;
use crate::config::Keys;
use crate::entry::{FleetEvent, field};
use crate::error::FleetError;
use redis::aio::ConnectionManager;
use redis::streams::{
    StreamAutoClaimReply, StreamClaimReply, StreamId, StreamPendingCountReply, StreamReadReply,
};

/// The idle time given to a released entry: past any sensible takeover idle time.
const RELEASED_IDLE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// An entry read from the stream: the event, or why it is not one.
pub(crate) enum Read {
    Event(FleetEvent),
    /// Not a fleet entry (fields missing): dead-lettered at once.
    Malformed {
        id: String,
    },
}

impl Read {
    /// The entry's id.
    pub fn id(&self) -> &str {
        match self {
            Read::Event(ev) => &ev.stream_id,
            Read::Malformed { id } => id,
        }
    }
}

fn read(entry: StreamId, attempt: u32) -> Read {
    match FleetEvent::from_entry(entry.id.clone(), &entry.map, attempt) {
        Some(ev) => Read::Event(ev),
        None => Read::Malformed { id: entry.id },
    }
}

pub(crate) struct Ops<'a> {
    pub conn: &'a mut ConnectionManager,
    pub keys: &'a Keys,
    pub config: &'a WorkerConfig,
}

impl Ops<'_> {
    /// Creates the group at the stream's start (and the stream) unless it exists.
    pub async fn ensure_group(&mut self) -> Result<(), FleetError> {
        let r: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.keys.stream)
            .arg(&self.config.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(self.conn)
            .await;
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(FleetError::redis(e)),
        }
    }

    /// `XREADGROUP` from `from` (`>` for new entries), waiting up to `block_ms` if given;
    /// `XACK`s `acked` first, in the same round trip.
    async fn read_group(
        &mut self,
        from: &str,
        block_ms: Option<u64>,
        acked: &[String],
    ) -> Result<Vec<StreamId>, FleetError> {
        let mut pipe = redis::pipe();
        if !acked.is_empty() {
            pipe.cmd("XACK").arg(&self.keys.stream).arg(&self.config.group).arg(acked).ignore();
        }
        let cmd = pipe
            .cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.config.group)
            .arg(&self.config.consumer)
            .arg("COUNT")
            .arg(self.config.batch);
        if let Some(ms) = block_ms {
            cmd.arg("BLOCK").arg(ms);
        }
        cmd.arg("STREAMS").arg(&self.keys.stream).arg(from);
        let (reply,): (Option<StreamReadReply>,) =
            pipe.query_async(self.conn).await.map_err(FleetError::redis)?;
        Ok(reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids).collect())
    }

    /// New entries (`>`), waiting up to the block time: delivered for the first time. `acked`
    /// (handled entries) are `XACK`ed in the same round trip.
    pub async fn read_new(&mut self, block_ms: u64, acked: &[String]) -> Result<Vec<Read>, FleetError> {
        Ok(self.read_group(">", Some(block_ms), acked).await?.into_iter().map(|e| read(e, 1)).collect())
    }

    /// Entries this consumer already holds (after a restart under the same name), after
    /// `from` (`0` for the first).
    pub async fn read_own(&mut self, from: &str) -> Result<Vec<Read>, FleetError> {
        let entries = self.read_group(from, None, &[]).await?;
        self.with_attempts(entries).await
    }

    /// Takes over entries idle for `claim_idle` in any consumer (`XAUTOCLAIM` from `cursor`);
    /// returns them and the next cursor (`0-0` once the whole list was scanned).
    pub async fn autoclaim(&mut self, cursor: &str) -> Result<(Vec<Read>, String), FleetError> {
        let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(&self.keys.stream)
            .arg(&self.config.group)
            .arg(&self.config.consumer)
            .arg(self.config.claim_idle.as_millis() as u64)
            .arg(cursor)
            .arg("COUNT")
            .arg(self.config.batch)
            .query_async(self.conn)
            .await
            .map_err(FleetError::redis)?;
        if !reply.deleted_ids.is_empty() {
            // Only a hand-made XDEL/XTRIM can do that: the fleet trims handled entries only.
            tracing::error!(ids = ?reply.deleted_ids, "pending entries were deleted from the stream by someone else");
        }
        let next = reply.next_stream_id;
        Ok((self.with_attempts(reply.claimed).await?, next))
    }

    /// Takes `id` back for another attempt (`XCLAIM`, which counts a delivery).
    pub async fn reclaim(&mut self, id: &str, attempt: u32) -> Result<Option<Read>, FleetError> {
        let reply: StreamClaimReply = redis::cmd("XCLAIM")
            .arg(&self.keys.stream)
            .arg(&self.config.group)
            .arg(&self.config.consumer)
            .arg(0)
            .arg(id)
            .query_async(self.conn)
            .await
            .map_err(FleetError::redis)?;
        Ok(reply.ids.into_iter().next().map(|e| read(e, attempt)))
    }

    /// Each entry with its delivery count (from `XPENDING`).
    async fn with_attempts(&mut self, entries: Vec<StreamId>) -> Result<Vec<Read>, FleetError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for e in &entries {
            pipe.cmd("XPENDING").arg(&self.keys.stream).arg(&self.config.group).arg(&e.id).arg(&e.id).arg(1);
        }
        let counts: Vec<StreamPendingCountReply> =
            pipe.query_async(self.conn).await.map_err(FleetError::redis)?;
        Ok(entries
            .into_iter()
            .zip(counts)
            .map(|(e, c)| {
                let n = c.ids.first().map_or(1, |p| p.times_delivered.max(1));
                read(e, u32::try_from(n).unwrap_or(u32::MAX))
            })
            .collect())
    }

    /// Gives back entries this consumer holds and will not handle: marks them idle for at
    /// least [`WorkerConfig::claim_idle`] (`XCLAIM … IDLE … JUSTID`, which counts no
    /// delivery), so any worker's next `XAUTOCLAIM` takes them over.
    pub async fn release(&mut self, ids: &[String]) -> Result<(), FleetError> {
        if ids.is_empty() {
            return Ok(());
        }
        let idle = self.config.claim_idle.max(RELEASED_IDLE).as_millis() as u64;
        redis::cmd("XCLAIM")
            .arg(&self.keys.stream)
            .arg(&self.config.group)
            .arg(&self.config.consumer)
            .arg(0)
            .arg(ids)
            .arg("IDLE")
            .arg(idle)
            .arg("JUSTID")
            .query_async::<redis::Value>(self.conn)
            .await
            .map(drop)
            .map_err(FleetError::redis)
    }

    /// `XACK`s `ids`.
    pub async fn ack(&mut self, ids: &[String]) -> Result<(), FleetError> {
        if ids.is_empty() {
            return Ok(());
        }
        redis::cmd("XACK")
            .arg(&self.keys.stream)
            .arg(&self.config.group)
            .arg(ids)
            .query_async::<u64>(self.conn)
            .await
            .map(drop)
            .map_err(FleetError::redis)
    }

    /// Moves an entry to the dead-letter stream (trimmed with `MAXLEN ~`) and acks it, in one
    /// transaction.
    pub async fn dead_letter(
        &mut self,
        id: &str,
        event: Option<&FleetEvent>,
        attempts: u32,
        error: &str,
        dead_max_len: u64,
    ) -> Result<(), FleetError> {
        let mut fields: Vec<(&str, String)> = vec![
            (field::ORIGINAL_ID, id.to_owned()),
            (field::GROUP, self.config.group.clone()),
            (field::ATTEMPTS, attempts.to_string()),
            (field::ERROR, error.to_owned()),
        ];
        if let Some(ev) = event {
            fields.extend(ev.as_entry().fields().map(|(k, v)| (k, v.into_owned())));
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("XADD").arg(&self.keys.dead).arg("MAXLEN").arg("~").arg(dead_max_len).arg("*");
        for (k, v) in &fields {
            pipe.arg(*k).arg(v);
        }
        pipe.ignore();
        pipe.cmd("XACK").arg(&self.keys.stream).arg(&self.config.group).arg(id).ignore();
        pipe.query_async::<()>(self.conn).await.map_err(FleetError::redis)
    }
}
