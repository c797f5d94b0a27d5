//! The worker's Redis commands: group creation, reads, takeovers, acks, dead letters.

use super::WorkerConfig;
use crate::config::Keys;
use crate::entry::{FleetEvent, field};
use crate::error::FleetError;
use redis::Value;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamClaimReply, StreamId, StreamPendingCountReply};

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
    match FleetEvent::from_entry(entry.id.clone(), entry.map, attempt) {
        Some(ev) => Read::Event(ev),
        None => Read::Malformed { id: entry.id },
    }
}

fn protocol(what: &str) -> FleetError {
    FleetError::Protocol(format!("unexpected XREADGROUP reply: {what}"))
}

/// The entries of an `XREADGROUP` reply on one stream (nil: none came in the block time),
/// walked as Redis sent them: no map per entry, and the fields' bytes are moved into the
/// events, not copied.
fn read_reply(reply: Value) -> Result<Vec<Read>, FleetError> {
    let lists: Vec<Value> = match reply {
        Value::Nil => return Ok(Vec::new()),
        // RESP2: [[stream, entries], …]
        Value::Array(streams) => streams
            .into_iter()
            .filter_map(|s| match s {
                Value::Array(pair) => pair.into_iter().nth(1),
                _ => None,
            })
            .collect(),
        // RESP3: {stream: entries, …}
        Value::Map(streams) => streams.into_iter().map(|(_, entries)| entries).collect(),
        _ => return Err(protocol("not a list of streams")),
    };
    let mut out = Vec::new();
    for list in lists {
        let Value::Array(entries) = list else { continue };
        out.reserve(entries.len());
        for entry in entries {
            let Value::Array(parts) = entry else { return Err(protocol("an entry is not a list")) };
            let mut parts = parts.into_iter();
            let id = match parts.next() {
                Some(Value::BulkString(b)) => {
                    String::from_utf8(b).map_err(|_| protocol("an id is not text"))?
                }
                Some(Value::SimpleString(s)) => s,
                _ => return Err(protocol("an entry has no id")),
            };
            let fields = match parts.next() {
                Some(Value::Array(fields)) => fields,
                Some(Value::Map(fields)) => fields.into_iter().flat_map(|(k, v)| [k, v]).collect(),
                // A pending entry deleted from the stream: its fields are nil.
                _ => Vec::new(),
            };
            out.push(match FleetEvent::from_fields(id, fields, 1) {
                Ok(ev) => Read::Event(ev),
                Err(id) => Read::Malformed { id },
            });
        }
    }
    Ok(out)
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
    ) -> Result<Vec<Read>, FleetError> {
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
        let (reply,): (Value,) = pipe.query_async(self.conn).await.map_err(FleetError::redis)?;
        read_reply(reply)
    }

    /// New entries (`>`), waiting up to the block time: delivered for the first time. `acked`
    /// (handled entries) are `XACK`ed in the same round trip.
    pub async fn read_new(&mut self, block_ms: u64, acked: &[String]) -> Result<Vec<Read>, FleetError> {
        self.read_group(">", Some(block_ms), acked).await
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
        let claimed = reply.claimed.into_iter().map(|e| read(e, 1)).collect();
        Ok((self.with_attempts(claimed).await?, next))
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
    async fn with_attempts(&mut self, mut entries: Vec<Read>) -> Result<Vec<Read>, FleetError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for e in &entries {
            pipe.cmd("XPENDING")
                .arg(&self.keys.stream)
                .arg(&self.config.group)
                .arg(e.id())
                .arg(e.id())
                .arg(1);
        }
        let counts: Vec<StreamPendingCountReply> =
            pipe.query_async(self.conn).await.map_err(FleetError::redis)?;
        for (e, c) in entries.iter_mut().zip(counts) {
            if let Read::Event(ev) = e {
                let n = c.ids.first().map_or(1, |p| p.times_delivered.max(1));
                ev.attempt = u32::try_from(n).unwrap_or(u32::MAX);
            }
        }
        Ok(entries)
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
            fields.extend(ev.as_entry().readable_fields().map(|(k, v)| (k, v.into_owned())));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn entry(id: &str, body: &str) -> Value {
        Value::Array(vec![
            bulk(id),
            Value::Array(vec![bulk("envelope_id"), bulk("e"), bulk("body"), bulk(body)]),
        ])
    }

    #[test]
    fn an_xreadgroup_reply_is_walked_into_events_in_order() {
        assert!(read_reply(Value::Nil).unwrap().is_empty());
        // RESP2, with a pending entry deleted from the stream (nil fields) and one without a body.
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("s"),
            Value::Array(vec![
                entry("1-0", "a"),
                Value::Array(vec![bulk("2-0"), Value::Nil]),
                Value::Array(vec![bulk("3-0"), Value::Array(vec![bulk("envelope_id"), bulk("e")])]),
                entry("4-0", "d"),
            ]),
        ])]);
        let reads = read_reply(reply).unwrap();
        let ids: Vec<&str> = reads.iter().map(Read::id).collect();
        assert_eq!(ids, ["1-0", "2-0", "3-0", "4-0"]);
        let kinds: Vec<Option<&str>> = reads
            .iter()
            .map(|r| match r {
                Read::Event(ev) => Some(ev.body.as_str()),
                Read::Malformed { .. } => None,
            })
            .collect();
        assert_eq!(kinds, [Some("a"), None, None, Some("d")]);
        // RESP3: a map of streams.
        let reply = Value::Map(vec![(bulk("s"), Value::Array(vec![entry("5-0", "e")]))]);
        assert_eq!(read_reply(reply).unwrap()[0].id(), "5-0");
        // Not a reply of XREADGROUP: a typed error, no panic.
        for bad in [
            Value::Int(3),
            Value::Array(vec![Value::Array(vec![bulk("s"), Value::Array(vec![Value::Int(1)])])]),
        ] {
            assert!(matches!(read_reply(bad), Err(FleetError::Protocol(_))));
        }
    }
}
