//! The shared state's Socket Mode operations, used by the HTTP side, the sockets and the
//! handle: tickets, socket registration, `hello` / `disconnect` frames, acks, commands, the
//! timer task, and the one place a workspace message becomes an `events_api` envelope.

use super::conn::SmCmd;
use super::state::{SmConn, SmTicket, event_callback, event_id};
use super::{SocketId, SocketInfo, SocketTarget};
use crate::Shared;
use crate::record::CloseReason;
use crate::workspace::random_u64;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};

impl Shared {
    /// Runs `f` on the Socket Mode state, then wakes the waits and the timer task.
    pub fn sm_with<R>(
        &self,
        f: impl FnOnce(&mut super::state::SmState, &crate::config::SocketModeServerConfig) -> R,
    ) -> R {
        let (r, earlier) = {
            let sm = &mut self.lock().sm;
            let before = sm.next_deadline();
            let r = f(sm, &self.config.socket_mode);
            let after = sm.next_deadline();
            // The timer task sleeps until the earliest deadline: woken only when that moved
            // earlier (not once per envelope).
            (r, after.is_some_and(|a| before.is_none_or(|b| a < b)))
        };
        self.notify();
        if earlier {
            self.sm_timer.notify_one();
        }
        r
    }

    /// Issues a Socket Mode ticket; returns the socket URL (a client may append
    /// `&debug_reconnects=true` to it).
    pub fn sm_issue_ticket(&self) -> String {
        let ticket = format!("{:016x}{:016x}", random_u64(), random_u64());
        let now = Instant::now();
        let app_id = self.sm_with(|sm, _| {
            sm.active = true;
            sm.tickets.retain(|_, t| t.expires > now);
            sm.tickets.insert(ticket.clone(), SmTicket { expires: now + self.config.url_lifetime });
            sm.app_id.clone()
        });
        format!("{}/link/?ticket={ticket}&app_id={app_id}", self.ws_base())
    }

    /// `ws://host:port` (`wss://` with TLS).
    pub fn ws_base(&self) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}", self.addr)
    }

    /// Consumes a Socket Mode ticket: whether it was issued, unused and not expired.
    pub fn sm_take_ticket(&self, ticket: &str) -> bool {
        let now = Instant::now();
        self.sm_with(|sm, _| {
            let ok = sm.tickets.remove(ticket).is_some_and(|t| t.expires > now);
            if !ok {
                sm.expired_attempts += 1;
            }
            ok
        })
    }

    /// Registers a socket; `(id, None)` when the app already holds its maximum.
    pub fn sm_register(
        &self,
        tx: mpsc::Sender<SmCmd>,
        overflow: Arc<Notify>,
        debug_reconnects: bool,
    ) -> (SocketId, Option<()>) {
        self.sm_with(|sm, cfg| {
            sm.next_socket += 1;
            let id = SocketId(sm.next_socket);
            let refused = sm.open_count() >= cfg.max_sockets;
            sm.infos.push(SocketInfo {
                id,
                opened_at: Instant::now(),
                closed_at: None,
                close_reason: None,
                refused,
                debug_reconnects,
                disconnects: Vec::new(),
                client_pings: 0,
                client_pongs: 0,
            });
            if refused {
                return (id, None);
            }
            sm.conns.insert(id, SmConn { tx, overflow, accepting: false });
            (id, Some(()))
        })
    }

    /// Forgets a socket and records why it closed.
    pub fn sm_unregister(&self, id: SocketId, reason: CloseReason) {
        self.sm_with(|sm, _| {
            sm.conns.remove(&id);
            if let Some(info) = sm.infos.iter_mut().rev().find(|s| s.id == id)
                && info.closed_at.is_none()
            {
                info.closed_at = Some(Instant::now());
                info.close_reason = Some(reason);
            }
        });
    }

    /// Updates a socket's record.
    pub fn sm_update(&self, id: SocketId, f: impl FnOnce(&mut SocketInfo)) {
        self.sm_with(|sm, _| {
            if let Some(info) = sm.infos.iter_mut().rev().find(|s| s.id == id) {
                f(info);
            }
        });
    }

    /// The socket said `hello`: envelopes may go to it, the queued ones first.
    pub fn sm_accept(&self, id: SocketId) {
        self.sm_with(|sm, cfg| sm.accept(cfg, id));
    }

    /// The `hello` frame of a socket.
    pub fn sm_hello(&self, id: SocketId, lifetime: Option<Duration>) -> String {
        let (n, app_id) = {
            let st = self.lock();
            (st.sm.open_count(), st.sm.app_id.clone())
        };
        // Slack's sockets live for hours when no refresh is scheduled.
        let secs = lifetime.map_or(18_060, |l| l.as_secs());
        json!({
            "type": "hello",
            "num_connections": n,
            "debug_info": {"host": format!("applink-emu-{}", id.0), "build_number": 1,
                           "approximate_connection_time": secs},
            "connection_info": {"app_id": app_id},
        })
        .to_string()
    }

    /// A `disconnect` frame; the socket stops receiving envelopes and the reason is recorded.
    pub fn sm_disconnect_frame(&self, id: SocketId, reason: &str) -> String {
        self.sm_with(|sm, _| {
            if let Some(c) = sm.conns.get_mut(&id) {
                c.accepting = false;
            }
            if let Some(info) = sm.infos.iter_mut().rev().find(|s| s.id == id) {
                info.disconnects.push(reason.to_owned());
            }
        });
        json!({"type": "disconnect", "reason": reason, "debug_info": {"host": format!("applink-emu-{}", id.0)}})
            .to_string()
    }

    /// Records an ack; the first ack of an envelope is applied (a view's `response_action`, a
    /// command's reply) and resolves [`crate::Emulator::wait_for_ack`].
    pub fn sm_ack(&self, id: SocketId, envelope_id: &str, payload: Option<serde_json::Value>) {
        let first = self.sm_with(|sm, cfg| sm.on_ack(cfg, id, envelope_id, payload));
        if let Some((seq, late)) = first {
            crate::interact::acks::on_socket_ack(self, seq, envelope_id, late);
        }
    }

    /// Sends a command to the targeted open sockets; returns how many accepted it.
    pub fn sm_command(&self, target: SocketTarget, make: impl Fn() -> SmCmd) -> usize {
        let st = self.lock();
        let mut n = 0;
        for (id, conn) in &st.sm.conns {
            if matches!(target, SocketTarget::Socket(t) if t != *id) {
                continue;
            }
            match conn.tx.try_send(make()) {
                Ok(()) => n += 1,
                Err(mpsc::error::TrySendError::Full(_)) => conn.overflow.notify_one(),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        n
    }

    /// The one place a message posted in the workspace (by a simulated user, the RTM socket,
    /// or a Web API call) becomes Socket Mode envelopes: `message`, and `app_mention` when it
    /// mentions the bot. Called with the state locked, by [`Shared::post_message`]. Nothing is
    /// made until the app has used Socket Mode (a successful `apps.connections.open`), as Slack
    /// sends an app nothing over sockets before it connects once; from then on, envelopes made
    /// while no socket is open wait for one. `more`: further top-level fields of the event.
    #[allow(clippy::too_many_arguments)]
    pub fn sm_message_posted(
        &self,
        st: &mut crate::State,
        channel: &str,
        user: &slack_rtm_types::UserId,
        text: &str,
        ts: &str,
        thread_ts: Option<&str>,
        more: &serde_json::Map<String, Value>,
    ) {
        if !st.sm.active {
            return;
        }
        // The channel's workspace, and the installation that sees it.
        let scope = crate::oauth::EventScope::for_channel(st, channel, &self.bot.user);
        let team = scope.team_id.as_str().to_owned();
        let bot = scope.bot.as_str().to_owned();
        let mut event = json!({
            "type": "message", "channel": channel, "user": user.as_str(), "text": text,
            "ts": ts, "team": team, "event_ts": ts, "channel_type": "channel",
        });
        if let Some(t) = thread_ts {
            event["thread_ts"] = json!(t);
        }
        if let Some(obj) = event.as_object_mut() {
            obj.extend(more.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        // A bot's message says so, as on Slack (apps ignore their own by it).
        if let Some(bot_id) = st.ws.user(user).and_then(|u| u.bot_id.clone()) {
            event["bot_id"] = json!(bot_id);
        }
        let mut events = vec![event.clone()];
        if text.contains(&format!("<@{bot}>")) {
            let mut mention = event;
            mention["type"] = json!("app_mention");
            if let Some(obj) = mention.as_object_mut() {
                obj.remove("channel_type");
            }
            events.push(mention);
        }
        for ev in events {
            let id = event_id();
            let mut payload = event_callback(&team, &st.sm.app_id.clone(), &bot, &id, ev);
            scope.apply(&mut payload);
            st.sm.enqueue(&self.config.socket_mode, "events_api", payload, Some(id));
        }
        self.sm_timer.notify_one();
    }
}

/// Fires the delivery engine's timers (ack deadlines, redeliveries) until shutdown.
pub(crate) async fn timer_task(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let next = shared.lock().sm.next_deadline();
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = shared.sm_timer.notified() => {}
            _ = sleep => {
                shared.sm_with(|sm, cfg| sm.fire_timers(cfg, Instant::now()));
            }
        }
    }
}
