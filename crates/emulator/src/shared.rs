//! The state every task shares: the workspace, tickets, open connections and the records.

#[cfg(feature = "blast")]
use crate::blast;
use crate::faults::{Cmd, Rejection, Target};
use crate::record::{
    CloseReason, ConnectCall, ConnectionId, ConnectionRecord, FrameKind, PostedMessage, ReceivedFrame, Ring,
};
use crate::workspace::{Credentials, TsClock, UserSet, Workspace};
use crate::{EmulatorConfig, HelloMode, socket, tls};
use bytes::Bytes;
use slack_rtm_types::event::Presence;
use slack_rtm_types::{ChannelId, ConnectOptions, Ts, UserId};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

/// What a successful `rtm.connect` issued, checked when the socket URL is used.
#[derive(Clone, Debug)]
pub(crate) struct Admission {
    pub user: UserId,
    pub options: ConnectOptions,
    pub hello: HelloMode,
}

#[derive(Debug)]
pub(crate) struct Ticket {
    pub user: UserId,
    pub options: ConnectOptions,
    pub expires: Instant,
}

pub(crate) struct ConnEntry {
    pub tx: mpsc::Sender<Cmd>,
    pub overflow: Arc<Notify>,
    pub user: UserId,
    pub options: ConnectOptions,
    pub subs: UserSet,
}

pub(crate) struct State {
    pub ws: Workspace,
    pub tickets: HashMap<String, Ticket>,
    pub conns: HashMap<ConnectionId, ConnEntry>,
    pub conn_infos: Ring<ConnectionRecord>,
    pub calls: Ring<ConnectCall>,
    pub frames: Ring<ReceivedFrame>,
    pub messages: Ring<PostedMessage>,
    pub rejections: VecDeque<Rejection>,
    pub rate_window: VecDeque<Instant>,
    pub hello: HelloMode,
    pub next_conn: u64,
    pub tokens_in_urls: usize,
    pub expired_attempts: u64,
    pub auth_tests: u64,
    /// The Socket Mode side.
    pub sm: crate::socket_mode::state::SmState,
    /// The Web API methods' state (edits, reactions, views, triggers, limits, records).
    pub web: crate::web::WebState,
    /// The interactions' state (`response_url`s, ephemeral messages, resolved acks).
    pub ix: crate::interact::state::IxState,
    /// Delivery to a Request URL (secret, target, records).
    pub http: crate::http_delivery::HttpState,
    /// More workspaces, orgs, OAuth installs and their tokens.
    pub oauth: crate::oauth::OAuthState,
}

/// Everything the tasks share.
pub(crate) struct Shared {
    pub config: EmulatorConfig,
    pub addr: SocketAddr,
    pub tls: Option<tls::TlsMaterial>,
    pub state: Mutex<State>,
    pub changed: watch::Sender<u64>,
    pub clock: TsClock,
    /// The RTM blast's templates (benchmarks, feature `blast`).
    #[cfg(feature = "blast")]
    pub blast: Option<blast::Blast>,
    /// The Socket Mode envelope blast's templates (only when configured).
    #[cfg(feature = "blast")]
    pub sm_blast: Option<crate::socket_mode::blast::EnvelopeBlast>,
    pub tasks: Mutex<JoinSet<()>>,
    pub shutdown: watch::Sender<bool>,
    pub bot: Credentials,
    pub second: Credentials,
    pub general: ChannelId,
    /// Wakes the Socket Mode timer task when a timer may have been added.
    pub sm_timer: Notify,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the records inconsistent in a way that
        // matters to a test server: keep going with the data.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes every `wait_for_*`.
    pub fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Spawns a task that dies with the emulator. Finished tasks are reaped here so the set
    /// stays small.
    pub fn spawn<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        while tasks.try_join_next().is_some() {}
        if *self.shutdown.borrow() {
            return;
        }
        tasks.spawn(fut);
    }

    /// Consumes a socket ticket: `Some` if it was issued, unused and not expired.
    pub fn take_ticket(&self, ticket: &str) -> Option<Admission> {
        let mut st = self.lock();
        let now = Instant::now();
        let admitted = match st.tickets.remove(ticket) {
            Some(t) if t.expires > now => {
                Some(Admission { user: t.user, options: t.options, hello: st.hello })
            }
            _ => None,
        };
        if admitted.is_none() {
            st.expired_attempts += 1;
        }
        drop(st);
        self.notify();
        admitted
    }

    /// Issues a socket ticket, forgetting expired ones.
    pub fn issue_ticket(&self, user: UserId, options: ConnectOptions, lifetime: Duration) -> String {
        let ticket = crate::workspace::random_alnum(40);
        let now = Instant::now();
        let mut st = self.lock();
        st.tickets.retain(|_, t| t.expires > now);
        st.tickets.insert(ticket.clone(), Ticket { user, options, expires: now + lifetime });
        ticket
    }

    pub fn socket_url(&self, ticket: &str) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}/websocket/{ticket}", self.addr)
    }

    pub fn register(&self, a: &Admission, tx: mpsc::Sender<Cmd>, overflow: Arc<Notify>) -> ConnectionId {
        let mut st = self.lock();
        st.next_conn += 1;
        let id = ConnectionId(st.next_conn);
        st.conns.insert(
            id,
            ConnEntry { tx, overflow, user: a.user.clone(), options: a.options, subs: UserSet::new() },
        );
        st.conn_infos.push(ConnectionRecord {
            id,
            user: a.user.clone(),
            options: a.options,
            opened_at: Instant::now(),
            closed_at: None,
            close_reason: None,
            ws_pongs: 0,
        });
        drop(st);
        self.notify();
        id
    }

    pub fn unregister(&self, id: ConnectionId, reason: CloseReason) {
        let mut st = self.lock();
        st.conns.remove(&id);
        if let Some(info) = st.conn_infos.iter_mut().rev().find(|c| c.id == id)
            && info.closed_at.is_none()
        {
            info.closed_at = Some(Instant::now());
            info.close_reason = Some(reason);
        }
        drop(st);
        self.notify();
    }

    pub fn update_conn(&self, id: ConnectionId, f: impl FnOnce(&mut ConnectionRecord)) {
        let mut st = self.lock();
        if let Some(info) = st.conn_infos.iter_mut().rev().find(|c| c.id == id) {
            f(info);
        }
        drop(st);
        self.notify();
    }

    pub fn record_frame(&self, conn: ConnectionId, kind: FrameKind, payload: &Bytes) {
        if !self.config.record_frames {
            return;
        }
        let frame = ReceivedFrame::new(conn, kind, payload);
        self.lock().frames.push(frame);
        self.notify();
    }

    pub fn is_member(&self, channel: &str, user: &UserId) -> bool {
        self.lock().ws.is_member(channel, user)
    }

    /// Posts a message: checks, takes a `ts`, fans the event out, records it.
    #[allow(clippy::too_many_arguments)]
    pub fn post_message(
        &self,
        conn: ConnectionId,
        user: &UserId,
        channel: &str,
        text: &str,
        formatted: &str,
        thread_ts: Option<&str>,
        client_id: Option<&str>,
    ) -> Result<String, socket::PostError> {
        let plain = serde_json::Map::new();
        self.post_message_with(conn, user, channel, text, formatted, thread_ts, client_id, &plain)
    }

    /// [`Self::post_message`] for a message whose live events (RTM and Events API) carry
    /// further top-level fields, `more` (a file share: `subtype`, `files`, `upload`).
    #[allow(clippy::too_many_arguments)]
    pub fn post_message_with(
        &self,
        conn: ConnectionId,
        user: &UserId,
        channel: &str,
        text: &str,
        formatted: &str,
        thread_ts: Option<&str>,
        client_id: Option<&str>,
        more: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, socket::PostError> {
        let mut st = self.lock();
        if !st.ws.is_member(channel, user) {
            return Err(socket::PostError::Channel);
        }
        let ts = self.clock.next();
        let event = socket::MessageEventOut {
            kind: "message",
            channel,
            user: user.as_str(),
            text: formatted,
            ts: &ts,
            thread_ts,
            team: st.ws.team.id.as_str(),
            event_ts: &ts,
            more,
        };
        if let Ok(v) = serde_json::to_vec(&event) {
            fan_out_locked(&st, channel, Some(conn), &Bytes::from(v));
        }
        // The same message, as the Events API shows it, for the Socket Mode side.
        self.sm_message_posted(&mut st, channel, user, formatted, &ts, thread_ts, more);
        st.messages.push(PostedMessage {
            conn,
            user: user.clone(),
            channel: ChannelId::new(channel),
            ts: Ts::new(ts.clone()),
            text: text.to_owned(),
            formatted_text: formatted.to_owned(),
            client_id: client_id.map(str::to_owned),
            thread_ts: thread_ts.map(Ts::new),
        });
        drop(st);
        self.notify();
        Ok(ts)
    }

    pub fn fan_out(&self, channel: &str, except: Option<ConnectionId>, frame: Bytes) -> usize {
        fan_out_locked(&self.lock(), channel, except, &frame)
    }

    /// Replaces a connection's presence subscriptions; returns the presence of the newly added
    /// (known) users.
    pub fn presence_subscribe(&self, conn: ConnectionId, ids: Vec<String>) -> Vec<(UserId, Presence)> {
        let mut guard = self.lock();
        let st = &mut *guard;
        let Some(entry) = st.conns.get_mut(&conn) else { return Vec::new() };
        let mut added = Vec::new();
        let mut subs = UserSet::with_capacity(ids.len());
        for id in ids {
            let id = UserId::new(id);
            if let Some(u) = st.ws.user(&id) {
                if !entry.subs.contains(&id) && !subs.contains(&id) {
                    added.push((id.clone(), u.presence.clone()));
                }
                subs.insert(id);
            }
        }
        entry.subs = subs;
        added
    }

    pub fn presence_of(&self, ids: &[String]) -> Vec<(UserId, Presence)> {
        let st = self.lock();
        ids.iter()
            .filter_map(|id| st.ws.users.iter().find(|u| u.id.as_str() == id))
            .map(|u| (u.id.clone(), u.presence.clone()))
            .collect()
    }

    /// Sends a command to every targeted connection; returns how many accepted it.
    pub fn command(&self, target: &Target, mut make: impl FnMut() -> Cmd) -> usize {
        let st = self.lock();
        let mut n = 0;
        for (id, entry) in &st.conns {
            let hit = match target {
                Target::All => true,
                Target::Conn(c) => c == id,
                Target::User(u) => &entry.user == u,
            };
            if !hit {
                continue;
            }
            match entry.tx.try_send(make()) {
                Ok(()) => n += 1,
                // The client does not keep up: disconnect it rather than lose what it is sent.
                Err(mpsc::error::TrySendError::Full(_)) => entry.overflow.notify_one(),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        n
    }
}

pub(crate) fn fan_out_locked(
    st: &State,
    channel: &str,
    except: Option<ConnectionId>,
    frame: &Bytes,
) -> usize {
    let mut n = 0;
    for (id, entry) in &st.conns {
        if Some(*id) == except || !st.ws.is_member(channel, &entry.user) {
            continue;
        }
        match entry.tx.try_send(Cmd::Event(frame.clone())) {
            Ok(()) => n += 1,
            Err(mpsc::error::TrySendError::Full(_)) => entry.overflow.notify_one(),
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
    n
}

/// `presence_change` frames for these users, in the single or the batched form (batched: one
/// frame per presence value, listing its users).
pub(crate) fn presence_events(report: &[(UserId, Presence)], batched: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if batched {
        let mut groups: Vec<(&Presence, Vec<&str>)> = Vec::new();
        for (user, presence) in report {
            match groups.iter_mut().find(|(p, _)| *p == presence) {
                Some((_, users)) => users.push(user.as_str()),
                None => groups.push((presence, vec![user.as_str()])),
            }
        }
        for (presence, users) in groups {
            let v =
                serde_json::json!({"type": "presence_change", "users": users, "presence": presence.as_str()});
            out.push(v.to_string().into_bytes());
        }
    } else {
        for (user, presence) in report {
            let v = serde_json::json!({"type": "presence_change", "user": user.as_str(), "presence": presence.as_str()});
            out.push(v.to_string().into_bytes());
        }
    }
    out
}
