//! Envelopes: the ack (auto or manual, on the socket the envelope came from), deduplication by
//! `event_id`, and manual mode's deadlines.

use super::SocketModeSession;
use super::config::AckMode;
use super::pending::{Stage, Waiting};
use super::types::{Delivered, DeliveryAckError, DeliverySeq, SocketModeEvent, SocketModeOutput};
use crate::common::ConnId;
use crate::common::fingerprint;
use slack_rtm_codec::types::RawJson;
use slack_rtm_codec::types::socket_mode::EnvelopeFrame;
use slack_rtm_codec::{AckEncodeError, encode_ack_of_into};
use std::borrow::Cow;
use std::time::Instant;

/// Ack buffers kept for reuse ([`SocketModeSession::recycle_ack`]): in manual mode each
/// envelope waiting for its ack holds one (its ack written when it was handed over), so as
/// many as a burst of envelopes waiting at once, within the session's byte budget (an
/// envelope of ~1 KB: ~128 to ~512 of them), come back after their acks; at most 256 ×
/// [`ACK_TEXT_KEPT_BYTES`] (a plain ack's buffer is ~64 bytes: ~16 KB).
const ACK_TEXTS_KEPT: usize = 256;
/// The largest ack buffer kept (a plain ack of a 36-byte id takes 54 bytes).
const ACK_TEXT_KEPT_BYTES: usize = 256;

/// The `event_id` and the inner event's `type` of an `events_api` envelope, read in one pass
/// without building the payload (everything else is skipped).
fn event_ids(frame: &EnvelopeFrame) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct Inner<'a> {
        #[serde(borrow, default, rename = "type")]
        kind: Option<Cow<'a, str>>,
    }
    #[derive(serde::Deserialize)]
    struct Payload<'a> {
        #[serde(borrow, default)]
        event_id: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        event: Option<Inner<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Outer<'a> {
        #[serde(borrow, default)]
        payload: Option<Payload<'a>>,
    }
    if frame.envelope_type() != "events_api" {
        return (None, None);
    }
    // Read by the frame's own scan, as serde reads them: no second walk.
    if let Some(p) = frame.parts() {
        let owned = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        return (owned(p.event_id), owned(p.event_type));
    }
    match serde_json::from_str::<Outer<'_>>(frame.as_str()) {
        Ok(outer) => {
            let Some(payload) = outer.payload else { return (None, None) };
            let id = payload.event_id.filter(|id| !id.is_empty()).map(Cow::into_owned);
            let kind = payload.event.and_then(|e| e.kind).filter(|k| !k.is_empty()).map(Cow::into_owned);
            (id, kind)
        }
        // An `event` that is not an object, or whose `type` is not a string: no type, and the
        // `event_id` read alone (it must not be lost to the odd shape).
        Err(_) => (event_id(frame), None),
    }
}

/// The `event_id` of an `events_api` envelope alone.
fn event_id(frame: &EnvelopeFrame) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Payload<'a> {
        #[serde(borrow, default)]
        event_id: Option<Cow<'a, str>>,
    }
    #[derive(serde::Deserialize)]
    struct Outer<'a> {
        #[serde(borrow, default)]
        payload: Option<Payload<'a>>,
    }
    let outer: Outer<'_> = serde_json::from_str(frame.as_str()).ok()?;
    outer.payload?.event_id.filter(|id| !id.is_empty()).map(Cow::into_owned)
}

/// The `retry_attempt` of an envelope (0 when absent or unreadable): only for reports.
fn retry_attempt(frame: &EnvelopeFrame) -> u32 {
    if let Some((attempt, _)) = frame.retry() {
        return attempt;
    }
    #[derive(serde::Deserialize)]
    struct Retry {
        #[serde(default)]
        retry_attempt: u32,
    }
    serde_json::from_str::<Retry>(frame.as_str()).map(|r| r.retry_attempt).unwrap_or(0)
}

impl SocketModeSession {
    /// An envelope arrived on `conn`.
    pub(super) fn on_envelope(&mut self, conn: ConnId, frame: EnvelopeFrame, now: Instant) {
        if self.shutdown_deadline.is_some() {
            // Not taken: without an ack Slack delivers it again (to another process, or to
            // this one after a restart).
            return;
        }
        let auto = self.config.ack_mode == AckMode::Auto;
        if auto {
            // From the scanned id, before anything else is read.
            self.send_ack(conn, frame.envelope_id());
        }
        let (event_id, event_type) = event_ids(&frame);
        let event_key = event_id.as_deref().map(|id| fingerprint(&["sm-event", id]));
        // Auto mode remembers an event as it is handed over (it is acked already). Manual
        // mode remembers it once the application acks it. While the application still holds a
        // delivery of it, a redelivery is held (neither acked nor handed over); once it
        // released that delivery without an ack, a redelivery is handed over again.
        let seen = match event_key {
            Some(k) if auto => self.seen.check_and_insert(k, now),
            Some(k) => self.seen.contains(k, now),
            None => false,
        };
        // Not held: this delivery is counted as the event's waiting one (`wait_for_ack` below).
        let held = !auto && !seen && event_key.is_some_and(|k| self.pending.hold_or_claim(k));
        if let (true, Some(id)) = (seen || held, &event_id) {
            let id = id.clone();
            let (envelope_id, retry_attempt) = (frame.envelope_id().to_owned(), retry_attempt(&frame));
            if held {
                tracing::debug!(event_id = %id, retry_attempt, "redelivery held: the app is still handling the event");
                self.emit(SocketModeEvent::RedeliveryHeld { envelope_id, event_id: id, retry_attempt });
            } else {
                if !auto {
                    self.send_ack(conn, frame.envelope_id());
                }
                tracing::debug!(event_id = %id, retry_attempt, "redelivery acked and not handed over again");
                self.emit(SocketModeEvent::Duplicate { envelope_id, event_id: id, retry_attempt });
            }
            return;
        }
        let seq =
            if auto { None } else { Some(self.wait_for_ack(conn, frame.envelope_id(), event_key, now)) };
        self.outputs.push_back(SocketModeOutput::Deliver(Delivered {
            conn,
            frame,
            event_id,
            event_type,
            acked: auto,
            seq,
        }));
    }

    /// Outputs an ack (encoded by the codec, which refuses one of 20 KB or more).
    pub(super) fn send_ack(&mut self, conn: ConnId, envelope_id: &str) {
        match self.ack_text(envelope_id, None) {
            Ok(text) => self.outputs.push_back(SocketModeOutput::Send { conn, text }),
            // An id the scan found is never empty; nothing else can fail without a payload.
            Err(e) => tracing::warn!(error = %e, "could not encode an ack"),
        }
    }

    /// An ack's text, written into a buffer given back by [`SocketModeSession::recycle_ack`]
    /// if one is kept (no allocation), or a new one.
    fn ack_text(&mut self, envelope_id: &str, payload: Option<&RawJson>) -> Result<String, AckEncodeError> {
        let mut text = self.ack_texts.pop().unwrap_or_default();
        match encode_ack_of_into(envelope_id, payload, &mut text) {
            Ok(()) => Ok(text),
            Err(e) => {
                self.recycle_ack(text.into_bytes());
                Err(e)
            }
        }
    }

    /// Gives back the buffer of an ack text once it is written out ([`SocketModeOutput::Send`]'s
    /// `text`, whatever it holds now: a client masks the frame in place), so a later ack is
    /// written into it. At most [`ACK_TEXTS_KEPT`] buffers of at most [`ACK_TEXT_KEPT_BYTES`]
    /// are kept (a few KB); any other is dropped.
    pub(crate) fn recycle_ack(&mut self, mut buf: Vec<u8>) {
        if self.ack_texts.len() < ACK_TEXTS_KEPT && buf.capacity() <= ACK_TEXT_KEPT_BYTES {
            buf.clear();
            // Empty: always UTF-8 (nothing to check).
            if let Ok(text) = String::from_utf8(buf) {
                self.ack_texts.push(text);
            }
        }
    }

    fn wait_for_ack(
        &mut self,
        conn: ConnId,
        envelope_id: &str,
        event_key: Option<u64>,
        now: Instant,
    ) -> DeliverySeq {
        if self.pending.len() >= self.config.max_pending_acks {
            // Forget the oldest: acking it later is `DeliveryAckError::Unknown`.
            if let Some((id, ack)) = self.pending.forget_oldest() {
                self.recycle_ack(ack.into_bytes());
                tracing::warn!(envelope_id = %id, "too many unacked envelopes: forgot the oldest");
            }
        }
        // The plain ack written now, from the frame's id (already text), into a buffer given
        // back: the ack in order then sends it as it is, with no id read back as text (its
        // UTF-8 checked again). Not written (an id the codec refuses): written at the ack,
        // which reports why.
        let mut ack = self.ack_texts.pop().unwrap_or_default();
        if encode_ack_of_into(envelope_id, None, &mut ack).is_err() {
            ack.clear();
        }
        DeliverySeq::new(self.pending.push(envelope_id, ack, Waiting::new(conn, now, event_key)))
    }

    /// Manual mode: acks `envelope_id` on the socket it came from, with an optional response
    /// payload. Returns the socket the ack goes out on ([`SocketModeOutput::Send`] follows at once).
    /// A late ack is still sent (Slack may not have redelivered yet) and reported as
    /// [`SocketModeEvent::AckLate`].
    pub fn ack(
        &mut self,
        envelope_id: &str,
        payload: Option<RawJson>,
        now: Instant,
    ) -> Result<ConnId, DeliveryAckError> {
        if self.stopped {
            return Err(DeliveryAckError::Stopped);
        }
        if payload.is_none()
            && let Some((w, text)) = self.pending.remove_written(envelope_id)
        {
            // The plain ack written when the envelope was handed over.
            let late = self.late_by(&w, now).map(|late_by| (envelope_id.to_owned(), late_by));
            return self.acked(w, text, late, now);
        }
        // Checked before the envelope is forgotten: a refused ack can be tried again smaller.
        let text = self.ack_text(envelope_id, payload.as_ref())?;
        let Some((w, written)) = self.pending.remove(envelope_id) else {
            self.recycle_ack(text.into_bytes());
            return Err(DeliveryAckError::Unknown);
        };
        self.recycle_ack(written.into_bytes());
        let late = self.late_by(&w, now).map(|late_by| (envelope_id.to_owned(), late_by));
        self.acked(w, text, late, now)
    }

    /// Manual mode: acks the oldest envelope still waiting if it was handed over before `to`
    /// (its [`Delivered::seq`] is below `to`), as [`SocketModeSession::ack`] does without a
    /// payload: the socket the ack goes out on, or why it cannot be sent; `None` if no envelope
    /// handed over before `to` is waiting (the rest were acked, released or forgotten).
    ///
    /// For acks that come in delivery order (every envelope before `to` acked by the
    /// application, as the [driver's handle](crate::driver::SocketModeHandle) counts them): no
    /// id to compare.
    pub fn ack_oldest_before(
        &mut self,
        to: DeliverySeq,
        now: Instant,
    ) -> Option<Result<ConnId, DeliveryAckError>> {
        let mut result = None;
        self.ack_oldest_run_before(to, now, 1, |r| result = Some(r));
        result
    }

    /// Manual mode: [`SocketModeSession::ack_oldest_before`] again and again, at most `max`
    /// times, `each` called with each ack's result in turn: the number of acks (below `max`
    /// once no envelope handed over before `to` is waiting). One call for a run of acks in
    /// delivery order: the session's state and the deadline are looked at once for the run.
    pub fn ack_oldest_run_before(
        &mut self,
        to: DeliverySeq,
        now: Instant,
        max: u64,
        mut each: impl FnMut(Result<ConnId, DeliveryAckError>),
    ) -> u64 {
        if self.stopped {
            return 0;
        }
        // An envelope is late if handed over before this (the same for a run of acks at `now`).
        let late_before = match self.late_before {
            Some((at, before)) if at == now => before,
            _ => {
                let before = now.checked_sub(self.config.ack_deadline);
                self.late_before = Some((now, before));
                before
            }
        };
        let mut acked = 0;
        while acked < max {
            // The id comes as text only if the ack was not written at the hand-over, or is late.
            let Some((text, w, id)) = self.pending.take_oldest_before(to.get(), late_before) else {
                break;
            };
            acked += 1;
            // Written when the envelope was handed over; else now (never fails without a
            // payload: an id the scan found is never empty).
            let text = match &id {
                Some(id) if text.is_empty() => {
                    let mut text = text;
                    encode_ack_of_into(id, None, &mut text).map(|()| text)
                }
                _ => Ok(text),
            };
            let late = id.and_then(|id| self.late_by(&w, now).map(|late_by| (id, late_by)));
            each(text.map_err(DeliveryAckError::from).and_then(|text| self.acked(w, text, late, now)));
        }
        acked
    }

    /// By how much an ack now comes after the deadline, if it does.
    fn late_by(&self, w: &Waiting, now: Instant) -> Option<std::time::Duration> {
        now.saturating_duration_since(w.delivered)
            .checked_sub(self.config.ack_deadline)
            .filter(|d| !d.is_zero())
    }

    /// An envelope's ack taken out of `pending`: its event remembered, the ack output on its
    /// socket (`late`: its id and how late, reported). Inlined into both kinds of ack (as
    /// `ack`'s own code it was before).
    #[inline(always)]
    fn acked(
        &mut self,
        w: Waiting,
        text: String,
        late: Option<(String, std::time::Duration)>,
        now: Instant,
    ) -> Result<ConnId, DeliveryAckError> {
        // The application is done with the event, even if the ack can no longer be sent: a
        // redelivery is acked by the session and not handed over again. Not remembered yet:
        // the window did not hold it at this delivery, and while the delivery waited it was
        // the event's only one (`hold_or_claim`), so no other ack could record it meanwhile.
        if let Some(k) = w.event_key() {
            self.seen.insert_absent(k, now);
        }
        if w.orphaned {
            self.recycle_ack(text.into_bytes());
            return Err(DeliveryAckError::Unsent);
        }
        let conn = w.conn;
        if let Some((envelope_id, late_by)) = late {
            self.emit(SocketModeEvent::AckLate { envelope_id, late_by });
        }
        self.outputs.push_back(SocketModeOutput::Send { conn, text });
        // An ack changes no socket: only a shutdown waiting for the last ack has to look.
        if self.shutdown_deadline.is_some() {
            self.after(now);
        }
        Ok(conn)
    }

    /// Manual mode: the application gives `envelope_id` up without acking it (its handler
    /// failed, its store was down). Nothing is sent: Slack delivers the event again, and that
    /// redelivery is handed over. [`DeliveryAckError::Unknown`] if it is not waiting for an ack.
    pub fn release(&mut self, envelope_id: &str) -> Result<(), DeliveryAckError> {
        let (_, written) = self.pending.remove(envelope_id).ok_or(DeliveryAckError::Unknown)?;
        self.recycle_ack(written.into_bytes());
        Ok(())
    }

    /// `conn` is gone: the acks still owed on it can no longer be sent.
    pub(super) fn on_socket_gone(&mut self, conn: ConnId, _now: Instant) {
        self.pending.orphan(conn);
    }

    /// The ack deadlines: due, missed, forgotten.
    pub(super) fn check_acks(&mut self, now: Instant) {
        let c = &self.config;
        let (warn, deadline, forget) = (c.ack_warning, c.ack_deadline, c.ack_forget);
        while let Some((id, waiting)) = self.pending.pop(Stage::Due, warn, now) {
            if waiting.is_some_and(|w| !w.orphaned) {
                let remaining = deadline.saturating_sub(warn);
                self.emit(SocketModeEvent::AckDue { envelope_id: id.to_string(), remaining });
            }
        }
        while let Some((id, waiting)) = self.pending.pop(Stage::Missed, deadline, now) {
            if waiting.is_some() {
                self.emit(SocketModeEvent::AckMissed { envelope_id: id.to_string() });
            }
        }
        // Forgotten as they are popped.
        while self.pending.pop(Stage::Forget, forget, now).is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::event_ids;
    use slack_rtm_codec::types::socket_mode::EnvelopeFrame;

    fn frame(text: &str) -> EnvelopeFrame {
        EnvelopeFrame::new(text.to_owned()).expect("an envelope")
    }

    #[test]
    fn event_id_and_event_type_in_one_pass() {
        let f = frame(
            r#"{"envelope_id":"e1","payload":{"event":{"type":"app_mention","text":"hi"},"event_id":"Ev1"},"type":"events_api"}"#,
        );
        assert_eq!(event_ids(&f), (Some("Ev1".into()), Some("app_mention".into())));
    }

    #[test]
    fn an_odd_event_keeps_its_event_id() {
        // `event` not an object, or its `type` not a string: no type, the id still read.
        for odd in [r#""event":"x""#, r#""event":{"type":7}"#, r#""event":null"#] {
            let f = frame(&format!(
                r#"{{"envelope_id":"e1","payload":{{{odd},"event_id":"Ev1"}},"type":"events_api"}}"#
            ));
            assert_eq!(event_ids(&f), (Some("Ev1".into()), None), "{odd}");
        }
        let empty = frame(r#"{"envelope_id":"e1","payload":{"event":{"type":""}},"type":"events_api"}"#);
        assert_eq!(event_ids(&empty), (None, None));
        // Not an event: nothing read.
        let cmd = frame(r#"{"envelope_id":"e1","payload":{"event_id":"Ev1"},"type":"slash_commands"}"#);
        assert_eq!(event_ids(&cmd), (None, None));
    }

    #[test]
    fn ack_texts_are_written_into_the_buffers_given_back_and_only_a_few_small_ones_are_kept() {
        use super::super::testing::{SocketModeHarness as T, sent};
        use super::super::{AckMode, SocketModeConfig, SocketModeOutput};
        use super::{ACK_TEXT_KEPT_BYTES, ACK_TEXTS_KEPT};
        for mode in [AckMode::Auto, AckMode::Manual] {
            let mut t =
                T::new(SocketModeConfig { ack_mode: mode, connections: 1, ..SocketModeConfig::default() });
            let c = t.ready();
            // A buffer given back after its frame was masked in place: garbage, not UTF-8.
            let given = vec![0xff; 100];
            let at = given.as_ptr();
            t.s.recycle_ack(given);
            let envelope = r#"{"envelope_id":"e1","type":"slash_commands","payload":{}}"#;
            let mut out = t.frame(c, envelope);
            if mode == AckMode::Manual {
                assert_eq!(t.s.ack("e1", None, t.now), Ok(c));
                out = t.drain();
            }
            assert_eq!(sent(&out), [(c, serde_json::json!({"envelope_id": "e1"}))], "{mode:?}");
            let text = out.iter().find_map(|o| match o {
                SocketModeOutput::Send { text, .. } => Some(text),
                _ => None,
            });
            assert_eq!(text.map(|t| t.as_ptr()), Some(at), "{mode:?}: written into the buffer given back");
        }
        // Bounded: a turn's worth of small buffers; a large one is dropped.
        let mut t = T::new(SocketModeConfig::default());
        t.s.recycle_ack(Vec::with_capacity(ACK_TEXT_KEPT_BYTES + 1));
        assert_eq!(t.s.ack_texts.len(), 0);
        for _ in 0..3 * ACK_TEXTS_KEPT {
            t.s.recycle_ack(Vec::with_capacity(64));
        }
        assert_eq!(t.s.ack_texts.len(), ACK_TEXTS_KEPT);
    }

    /// Manual mode writes an envelope's plain ack when it hands the envelope over (into a
    /// buffer given back before), and an ack without a payload — in order or by id — sends
    /// that text; an id the codec refuses is refused at the ack, as before, and stays waiting
    /// for an ack by id.
    #[test]
    fn a_plain_ack_is_written_at_the_hand_over_and_a_refused_id_is_refused_at_the_ack() {
        use super::super::testing::{SocketModeHarness as T, sent};
        use super::super::{AckMode, DeliveryAckError, DeliverySeq, SocketModeConfig, SocketModeOutput};
        let mut t = T::new(SocketModeConfig {
            ack_mode: AckMode::Manual,
            connections: 1,
            ..SocketModeConfig::default()
        });
        let c = t.ready();
        let slash = |id: &str| format!(r#"{{"envelope_id":"{id}","type":"slash_commands","payload":{{}}}}"#);
        let sent_at = |out: &[SocketModeOutput]| {
            out.iter().find_map(|o| match o {
                SocketModeOutput::Send { text, .. } => Some(text.as_ptr()),
                _ => None,
            })
        };
        for by_id in [false, true] {
            let before = vec![0xff; 80];
            let at = before.as_ptr();
            t.s.recycle_ack(before);
            t.frame(c, &slash("s1"));
            // Given back after the hand-over: not the one the ack goes out in.
            t.s.recycle_ack(vec![0xff; 80]);
            if by_id {
                assert_eq!(t.s.ack("s1", None, t.now), Ok(c));
            } else {
                let to = DeliverySeq::new(t.s.first_waiting_seq() + 1);
                assert_eq!(t.s.ack_oldest_before(to, t.now), Some(Ok(c)));
            }
            let out = t.drain();
            assert_eq!(sent(&out), [(c, serde_json::json!({"envelope_id": "s1"}))], "by id: {by_id}");
            assert_eq!(sent_at(&out), Some(at), "by id: {by_id}: written at the hand-over");
        }
        // An id too long for any ack: handed over, refused at the ack, still waiting.
        let long = "x".repeat(slack_rtm_codec::types::socket_mode::MAX_ACK_BYTES);
        t.frame(c, &slash(&long));
        assert_eq!(t.s.pending_acks(), 1);
        assert!(matches!(t.s.ack(&long, None, t.now), Err(DeliveryAckError::Invalid(_))));
        assert_eq!(t.s.pending_acks(), 1, "refused before it is forgotten");
        assert!(sent(&t.drain()).is_empty());
        assert_eq!(t.s.release(&long), Ok(()));
    }

    #[test]
    fn acks_in_delivery_order_ack_the_oldest_waiting_below_the_count_and_nothing_else() {
        use super::super::testing::{SocketModeHarness as T, delivered, events, sent};
        use super::super::{AckMode, DeliveryAckError, DeliverySeq, SocketModeConfig, SocketModeEvent};
        use crate::common::Reason;
        use std::time::Duration;
        let mut t = T::new(SocketModeConfig {
            ack_mode: AckMode::Manual,
            connections: 1,
            ..SocketModeConfig::default()
        });
        let c = t.ready();
        let slash = |id: &str| {
            format!(
                r#"{{"envelope_id":"{id}","type":"slash_commands","accepts_response_payload":true,"payload":{{}}}}"#
            )
        };
        for i in 0..4 {
            let out = t.frame(c, &slash(&format!("s{i}")));
            assert_eq!(delivered(&out)[0].seq, Some(DeliverySeq::new(i)));
        }
        // s1 acked by id, out of order; then "every envelope before 2 acked in order": s0.
        assert_eq!(t.s.ack("s1", None, t.now), Ok(c));
        t.drain();
        assert_eq!(t.s.ack_oldest_before(DeliverySeq::new(2), t.now), Some(Ok(c)));
        assert_eq!(t.s.ack_oldest_before(DeliverySeq::new(2), t.now), None, "s1 was acked already");
        assert_eq!(sent(&t.drain()), [(c, serde_json::json!({"envelope_id": "s0"}))]);
        assert_eq!(t.s.first_waiting_seq(), 2);
        // Late: still sent, and reported with its id.
        t.advance(Duration::from_millis(3500));
        assert_eq!(t.s.ack_oldest_before(DeliverySeq::new(3), t.now), Some(Ok(c)));
        let out = t.drain();
        assert!(
            matches!(&events(&out)[..], [SocketModeEvent::AckLate { envelope_id, late_by }] if envelope_id == "s2" && *late_by == Duration::from_millis(500))
        );
        assert_eq!(sent(&out), [(c, serde_json::json!({"envelope_id": "s2"}))]);
        // Its socket gone: not sent (`Unsent`), and taken all the same.
        t.input(super::super::SocketModeInput::SocketClosed { conn: c, reason: Reason::Io("reset".into()) });
        assert_eq!(t.s.ack_oldest_before(DeliverySeq::new(4), t.now), Some(Err(DeliveryAckError::Unsent)));
        assert!(sent(&t.drain()).is_empty());
        assert_eq!((t.s.pending_acks(), t.s.first_waiting_seq()), (0, 4));
        // A forgotten envelope is not acked.
        t.advance(Duration::from_secs(2));
        let c2 = t.ready();
        t.frame(c2, &slash("s4"));
        t.advance(t.s.config().ack_forget + Duration::from_secs(1));
        assert_eq!(t.s.ack_oldest_before(DeliverySeq::new(5), t.now), None);
        assert_eq!(t.s.first_waiting_seq(), 5);
    }

    /// A run of acks in order takes at most `max` envelopes, each one below the count, oldest
    /// first, and reports each ack to `each`; a stopped session acks none.
    #[test]
    fn a_run_of_acks_in_order_stops_at_its_bound_and_at_the_count() {
        use super::super::testing::{SocketModeHarness as T, sent};
        use super::super::{AckMode, DeliverySeq, SocketModeConfig};
        let mut t =
            T::new(SocketModeConfig { ack_mode: AckMode::Manual, connections: 1, ..Default::default() });
        let c = t.ready();
        for i in 0..5 {
            t.frame(c, &format!(r#"{{"envelope_id":"s{i}","type":"slash_commands","payload":{{}}}}"#));
        }
        let mut results = Vec::new();
        assert_eq!(t.s.ack_oldest_run_before(DeliverySeq::new(4), t.now, 3, |r| results.push(r)), 3);
        assert_eq!(
            t.s.ack_oldest_run_before(DeliverySeq::new(4), t.now, 3, |r| results.push(r)),
            1,
            "s4 not below"
        );
        assert_eq!(results, vec![Ok(c), Ok(c), Ok(c), Ok(c)]);
        let ids: Vec<_> = sent(&t.drain()).into_iter().map(|(_, v)| v["envelope_id"].clone()).collect();
        assert_eq!(ids, ["s0", "s1", "s2", "s3"]);
        // Stopped once the grace has passed, s4 still waiting.
        t.s.shutdown(t.now, std::time::Duration::ZERO);
        t.advance(std::time::Duration::from_millis(1));
        assert_eq!(t.s.ack_oldest_run_before(DeliverySeq::new(5), t.now, 3, |_| panic!("acked")), 0);
    }
}
