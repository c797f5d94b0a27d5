//! The handle's Socket Mode methods: the app token, scripted envelopes, socket faults, the
//! records and waits.

use super::conn::SmCmd;
use super::state::{event_callback, event_id};
use super::{AckRecord, EnvelopeRecord, SocketId, SocketInfo, SocketTarget};
use crate::{ChannelId, ConnectCall, Emulator, EmulatorError, RawFrame, Rejection};
use serde_json::json;
use slack_rtm_types::UserId;
use std::time::Duration;

impl Emulator {
    /// The app-level token (`xapp-…`, with `connections:write`) issued at start, for
    /// `apps.connections.open`.
    pub fn app_token(&self) -> String {
        self.app_token.clone()
    }

    /// The app's id (`A…`).
    pub fn app_id(&self) -> String {
        self.shared.lock().sm.app_id.clone()
    }

    /// The base of the Socket Mode socket URLs, e.g. `ws://127.0.0.1:PORT/link/` (`wss://`
    /// with TLS); `apps.connections.open` answers with it plus a ticket.
    pub fn socket_mode_url(&self) -> String {
        format!("{}/link/", self.shared.ws_base())
    }

    /// Issues another app-level token; without `connections_write`, `apps.connections.open`
    /// refuses it with `missing_scope`.
    pub fn add_app_token(&self, connections_write: bool) -> String {
        self.shared.sm_with(|sm, _| sm.issue_app_token(connections_write))
    }

    /// Marks an app token active or inactive (`account_inactive`); `false` if unknown.
    pub fn set_app_token_active(&self, token: &str, active: bool) -> bool {
        self.shared.sm_with(|sm, _| sm.app_tokens.get_mut(token).map(|t| t.active = active).is_some())
    }

    /// Revokes an app token (`token_revoked`); `false` if unknown.
    pub fn revoke_app_token(&self, token: &str) -> bool {
        self.shared.sm_with(|sm, _| sm.app_tokens.get_mut(token).map(|t| t.revoked = true).is_some())
    }

    /// Answers the next `n` `apps.connections.open` calls with `rejection` instead.
    pub fn reject_next_opens(&self, n: usize, rejection: Rejection) {
        self.shared.sm_with(|sm, _| sm.rejections.extend(std::iter::repeat_n(rejection, n)));
    }

    /// Makes an envelope of any type with this payload and delivers it (or queues it while no
    /// socket is open). Returns its number ([`EnvelopeRecord::seq`]).
    pub fn send_envelope(&self, envelope_type: &str, payload: serde_json::Value) -> u64 {
        self.shared.sm_with(|sm, cfg| sm.enqueue(cfg, envelope_type, payload, None))
    }

    /// Delivers an `events_api` envelope around `event` (a new event id, the app's
    /// `event_callback` wrapper).
    pub fn send_api_event(&self, event: serde_json::Value) -> u64 {
        // The team's id only (not a copy of the whole team record per event).
        let (team, bot) = (self.shared.lock().ws.team.id.clone(), &self.shared.bot.user);
        let id = event_id();
        self.shared.sm_with(|sm, cfg| {
            let payload = event_callback(team.as_str(), &sm.app_id.clone(), bot.as_str(), &id, event);
            sm.enqueue(cfg, "events_api", payload, Some(id))
        })
    }

    /// A user runs a slash command in a channel: a `slash_commands` envelope (the same as
    /// [`crate::Actor::run_command`], which also returns its `response_url` and trigger).
    pub fn send_slash_command(&self, user: &UserId, channel: &ChannelId, command: &str, text: &str) -> u64 {
        self.user(user).run_command(channel, command, text).seq
    }

    /// A user clicks a button in a message that need not exist: an `interactive`
    /// `block_actions` envelope with a working `response_url` (without an original message to
    /// replace). [`crate::Actor::click`] clicks a button of a message the app posted.
    pub fn send_block_action(
        &self,
        user: &UserId,
        channel: &ChannelId,
        action_id: &str,
        block_id: &str,
        value: &str,
    ) -> u64 {
        let shared = &self.shared;
        let trigger_id = crate::interact::payloads::trigger(shared, user);
        let url = crate::interact::payloads::response_url(shared, "actions", user, Some(channel), None);
        let mut payload = crate::interact::payloads::Common::new(shared, user).payload("block_actions");
        payload["container"] = json!({"type": "message", "channel_id": channel, "is_ephemeral": false});
        payload["trigger_id"] = json!(trigger_id);
        payload["channel"] = crate::interact::payloads::channel_object(shared, channel);
        payload["response_url"] = json!(url);
        payload["actions"] = json!([{"action_id": action_id, "block_id": block_id, "type": "button", "value": value,
                                     "action_ts": crate::interact::payloads::action_ts(shared)}]);
        self.send_envelope("interactive", payload)
    }

    // ---- Socket faults ----

    /// Sends `disconnect` with `reason` (`warning`, `refresh_requested`, `link_disabled`, …);
    /// closes the socket `close_after` later unless `None`.
    pub fn disconnect_socket(
        &self,
        target: impl Into<SocketTarget>,
        reason: &str,
        close_after: Option<Duration>,
    ) -> usize {
        self.shared.sm_command(target.into(), || SmCmd::Disconnect(reason.to_owned(), close_after))
    }

    /// The refresh Slack does on its schedule, now: `warning`, `refresh_requested` after the
    /// configured lead, then a close after the grace.
    pub fn refresh_socket(&self, target: impl Into<SocketTarget>) -> usize {
        self.shared.sm_command(target.into(), || SmCmd::Refresh)
    }

    /// `disconnect` `link_disabled` then a close, as when Socket Mode is turned off.
    pub fn disable_link(&self, target: impl Into<SocketTarget>) -> usize {
        self.disconnect_socket(target, "link_disabled", Some(Duration::ZERO))
    }

    /// Closes with a close frame (e.g. 1011).
    pub fn close_socket(&self, target: impl Into<SocketTarget>, code: u16, reason: &str) -> usize {
        self.shared.sm_command(target.into(), || SmCmd::Close(code, reason.to_owned()))
    }

    /// Drops the TCP connection without a close frame.
    pub fn drop_socket(&self, target: impl Into<SocketTarget>) -> usize {
        self.shared.sm_command(target.into(), || SmCmd::Drop)
    }

    /// Stalls (stops reading, sending and pinging) or resumes.
    pub fn stall_socket(&self, target: impl Into<SocketTarget>, stalled: bool) -> usize {
        self.shared.sm_command(target.into(), || SmCmd::Stall(stalled))
    }

    /// Sends a raw frame (garbage, a mid-frame cut, a close, …).
    pub fn send_raw_to_socket(&self, target: impl Into<SocketTarget>, frame: RawFrame) -> usize {
        self.shared.sm_command(target.into(), || SmCmd::Raw(frame.clone()))
    }

    /// Answers the client's WebSocket pings or not (`false`: a half-open server).
    pub fn answer_pings(&self, target: impl Into<SocketTarget>, answer: bool) -> usize {
        self.shared.sm_command(target.into(), || SmCmd::AnswerPings(answer))
    }

    // ---- Records ----

    /// Every Socket Mode socket (open and closed, oldest first; bounded).
    pub fn sockets(&self) -> Vec<SocketInfo> {
        self.shared.lock().sm.infos.to_vec()
    }

    /// The open Socket Mode sockets, in opening order.
    pub fn open_sockets(&self) -> Vec<SocketId> {
        self.shared.lock().sm.conns.keys().copied().collect()
    }

    /// Every envelope with its deliveries (oldest first; bounded).
    pub fn envelopes(&self) -> Vec<EnvelopeRecord> {
        self.shared.lock().sm.envelopes.to_vec()
    }

    /// How many deliveries were redeliveries (an `events_api` envelope sent again after its
    /// ack deadline passed), ever: counted even when the records are no longer kept.
    pub fn redeliveries(&self) -> u64 {
        self.shared.lock().sm.redeliveries
    }

    /// Every ack received (oldest first; bounded).
    pub fn acks(&self) -> Vec<AckRecord> {
        self.shared.lock().sm.acks.to_vec()
    }

    /// The recorded `apps.connections.open` calls (oldest first; bounded).
    pub fn apps_connections_open_calls(&self) -> Vec<ConnectCall> {
        self.shared.lock().sm.open_calls.to_vec()
    }

    /// Socket Mode upgrades refused because their ticket was unknown, used or expired.
    pub fn expired_ticket_attempts(&self) -> u64 {
        self.shared.lock().sm.expired_attempts
    }

    /// Waits until at least `n` Socket Mode sockets were ever opened (refused ones included).
    pub async fn wait_for_sockets(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} Socket Mode sockets"), timeout, |st| st.sm.next_socket >= n).await
    }

    /// Waits until exactly `n` Socket Mode sockets are open.
    pub async fn wait_for_open_sockets(&self, n: usize, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} open Socket Mode sockets"), timeout, |st| st.sm.conns.len() == n)
            .await
    }

    /// The envelope blast's reports, one per socket whose blast ended (every envelope acked,
    /// or the socket closed), oldest first; see [`crate::SocketModeServerConfig::blast`].
    #[cfg(feature = "blast")]
    pub fn envelope_blast_reports(&self) -> Vec<super::blast::EnvelopeBlastReport> {
        self.shared.lock().sm.blast_reports.to_vec()
    }

    /// How many envelope blast reports were ever published, with the ones still kept.
    #[cfg(feature = "blast")]
    pub fn envelope_blast_reports_total(&self) -> (u64, Vec<super::blast::EnvelopeBlastReport>) {
        let st = self.shared.lock();
        (st.sm.blast_reports.total(), st.sm.blast_reports.to_vec())
    }

    /// Whether this emulator blasts envelopes ([`crate::SocketModeServerConfig::blast`]).
    #[cfg(feature = "blast")]
    pub fn is_envelope_blast(&self) -> bool {
        self.shared.sm_blast.is_some()
    }

    /// Waits until at least `n` envelope blast reports were published (ever).
    #[cfg(feature = "blast")]
    pub async fn wait_for_envelope_blast_reports(
        &self,
        n: u64,
        timeout: Duration,
    ) -> Result<(), EmulatorError> {
        self.wait_until(
            || format!("{n} envelope blast reports"),
            timeout,
            |st| st.sm.blast_reports.total() >= n,
        )
        .await
    }

    /// Waits until at least `n` acks arrived.
    pub async fn wait_for_acks(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} acks"), timeout, |st| st.sm.acks.total() >= n).await
    }

    /// Waits until at least `n` deliveries (first ones and redeliveries) were written.
    pub async fn wait_for_envelope_deliveries(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<(), EmulatorError> {
        self.wait_until(
            || format!("{n} envelope deliveries"),
            timeout,
            |st| st.sm.envelopes.iter().map(|e| e.attempts.len()).sum::<usize>() >= n,
        )
        .await
    }
}
