//! [`Actor`]: a workspace user, acting on the app.

use super::elements::{action, find, state_value, state_values};
use super::payloads::{Common, action_ts, channel_object, response_url, trigger};
use super::{ActError, ActionSurface, Sent};
use crate::Emulator;
use crate::record::ConnectionId;
use crate::web::render_view;
use crate::web::{find_message, render_message as render};
use crate::workspace::format_message_text;
use serde_json::{Value, json};
use slack_rtm_types::{ChannelId, Ts, UserId};

/// A workspace user acting on the app, from [`Emulator::user`]. Every action builds the
/// payload Slack would send and delivers it to the app (over its Socket Mode sockets, queued
/// while none is open); the returned [`Sent::seq`] is what [`Emulator::wait_for_ack`] waits on.
///
/// | the user… | method | the app gets |
/// |---|---|---|
/// | says something | [`say`](Actor::say), [`say_in_thread`](Actor::say_in_thread) | `message` event |
/// | mentions the bot | [`mention_bot`](Actor::mention_bot) | `message` + `app_mention` events |
/// | runs a slash command | [`run_command`](Actor::run_command) | `slash_commands` (with `response_url`, `trigger_id`) |
/// | clicks a button | [`click`](Actor::click) | `block_actions` |
/// | picks in a select / overflow / date picker… | [`select`](Actor::select) | `block_actions` |
/// | types in an external select | [`type_in_select`](Actor::type_in_select) | `block_suggestion` |
/// | runs a global shortcut | [`global_shortcut`](Actor::global_shortcut) | `shortcut` |
/// | runs a message shortcut | [`message_shortcut`](Actor::message_shortcut) | `message_action` |
/// | submits a modal | [`submit_view`](Actor::submit_view) | `view_submission` |
/// | closes a modal | [`close_view`](Actor::close_view) | `view_closed` (if `notify_on_close`) |
/// | opens the App Home | [`open_home`](Actor::open_home) | `app_home_opened` event |
#[derive(Clone, Debug)]
pub struct Actor<'a> {
    emu: &'a Emulator,
    user: UserId,
}

impl Emulator {
    /// Acts as `user` (any id; use [`Emulator::second_user`] or [`Emulator::add_user`] for a
    /// known one).
    pub fn user(&self, user: &UserId) -> Actor<'_> {
        Actor { emu: self, user: user.clone() }
    }
}

fn sent(seq: u64) -> Sent {
    Sent {
        seq,
        envelopes: vec![seq],
        channel: None,
        ts: None,
        trigger_id: None,
        response_url: None,
        view_id: None,
    }
}

impl Actor<'_> {
    /// The user's id.
    pub fn id(&self) -> &UserId {
        &self.user
    }

    fn common(&self) -> Common {
        Common::new(&self.emu.shared, &self.user)
    }

    fn interactive(&self, payload: Value) -> u64 {
        self.emu.send_envelope("interactive", payload)
    }

    fn post(&self, channel: &ChannelId, text: &str, thread_ts: Option<&Ts>) -> Result<Sent, ActError> {
        if text.trim().is_empty() {
            return Err(ActError::CannotPost("no_text".into()));
        }
        let shared = &self.emu.shared;
        // An action of a user is meant for the app: deliver workspace events from now on.
        shared.sm_with(|sm, _| sm.active = true);
        let ts = shared
            .post_message(
                ConnectionId(0),
                &self.user,
                channel.as_str(),
                text,
                &format_message_text(text),
                thread_ts.map(Ts::as_str),
                None,
            )
            .map_err(|e| {
                ActError::CannotPost(match e {
                    crate::socket::PostError::Channel => "not_in_channel".into(),
                })
            })?;
        let st = shared.lock();
        let mut envelopes: Vec<u64> = st
            .sm
            .envelopes
            .iter()
            .rev()
            // Its envelopes are among the newest (others may have been made meanwhile).
            .take(256)
            .filter(|e| {
                e.payload["event"]["ts"] == json!(ts) && e.payload["event"]["channel"] == json!(channel)
            })
            .map(|e| e.seq)
            .collect();
        envelopes.reverse();
        drop(st);
        Ok(Sent {
            seq: envelopes.last().copied().unwrap_or(0),
            envelopes,
            channel: Some(channel.clone()),
            ts: Some(Ts::new(ts)),
            ..sent(0)
        })
    }

    /// Posts `text` in `channel`; the app gets a `message` event (and an `app_mention` if the
    /// text mentions the bot). [`Sent::ts`] is the message's `ts`.
    pub fn say(&self, channel: &ChannelId, text: &str) -> Result<Sent, ActError> {
        self.post(channel, text, None)
    }

    /// Replies in the thread of `thread_ts`.
    pub fn say_in_thread(&self, channel: &ChannelId, thread_ts: &Ts, text: &str) -> Result<Sent, ActError> {
        self.post(channel, text, Some(thread_ts))
    }

    /// Posts `<@BOT> text`: the app gets a `message` and an `app_mention` event, as from Slack;
    /// [`Sent::seq`] is the `app_mention`.
    pub fn mention_bot(&self, channel: &ChannelId, text: &str) -> Result<Sent, ActError> {
        // The bot the app is in the user's workspace.
        let bot = {
            let st = self.emu.shared.lock();
            crate::oauth::EventScope::for_user(&st, &self.user, &self.emu.shared.bot.user).bot
        };
        let text = format!("<@{bot}> {text}");
        self.post(channel, &text, None)
    }

    /// Runs `/command text` in `channel`: a `slash_commands` payload with a working
    /// `response_url` and a fresh `trigger_id`. A reply in the ack is shown like a
    /// `response_url` answer (ephemeral unless `response_type: in_channel`).
    pub fn run_command(&self, channel: &ChannelId, command: &str, text: &str) -> Sent {
        let shared = &self.emu.shared;
        let common = self.common();
        let trigger_id = trigger(shared, &self.user);
        let url = response_url(shared, "commands", &self.user, Some(channel), None);
        let payload = json!({
            "token": super::payloads::VERIFICATION_TOKEN,
            "team_id": common.team["id"], "team_domain": common.team["domain"],
            "channel_id": channel, "channel_name": channel_object(shared, channel)["name"],
            "user_id": self.user, "user_name": common.user["name"],
            "command": command, "text": text, "api_app_id": common.app_id,
            "is_enterprise_install": common.scope.org_install.to_string(),
            "enterprise_id": common.scope.enterprise.as_ref().map(|(id, _)| id.as_str()),
            "enterprise_name": common.scope.enterprise.as_ref().map(|(_, name)| name.as_str()),
            "response_url": url,
            "trigger_id": trigger_id,
        });
        let seq = self.emu.send_envelope("slash_commands", payload);
        Sent {
            channel: Some(channel.clone()),
            trigger_id: Some(trigger_id),
            response_url: Some(url),
            ..sent(seq)
        }
    }

    /// The blocks of a surface and the payload fields that locate it (`container`, and the
    /// `channel` + `message` or the `view`); the `response_url` for a message.
    fn locate(
        &self,
        surface: &ActionSurface,
        with_url: bool,
    ) -> Result<(Value, Value, Option<String>), ActError> {
        let shared = &self.emu.shared;
        match surface {
            ActionSurface::Message { channel, ts } => {
                let message = {
                    let st = shared.lock();
                    let m = find_message(&st, channel.as_str(), ts.as_str()).ok_or_else(|| {
                        ActError::NoMessage { channel: channel.to_string(), ts: ts.to_string() }
                    })?;
                    render(&st, &m)
                };
                let url = with_url.then(|| {
                    response_url(
                        shared,
                        "actions",
                        &self.user,
                        Some(channel),
                        Some((channel.clone(), ts.to_string())),
                    )
                });
                let fields = json!({
                    "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
                    "channel": channel_object(shared, channel),
                    "message": message,
                });
                Ok((message["blocks"].clone(), fields, url))
            }
            ActionSurface::View(id) => {
                let view = self.view(id)?;
                let fields = json!({"container": {"type": "view", "view_id": id}, "view": view});
                Ok((view["blocks"].clone(), fields, None))
            }
        }
    }

    /// An open view, rendered.
    fn view(&self, view_id: &str) -> Result<Value, ActError> {
        let st = self.emu.shared.lock();
        let v = st.web.views.iter().rev().find(|v| v.id == view_id && !v.closed);
        let v = v.ok_or_else(|| ActError::NoView(view_id.to_owned()))?;
        Ok(render_view(&st, &self.emu.shared.bot.user, v))
    }

    fn block_action(
        &self,
        surface: &ActionSurface,
        action_id: &str,
        choice: Option<&str>,
    ) -> Result<Sent, ActError> {
        let shared = &self.emu.shared;
        if let (ActionSurface::View(id), Some(c)) = (surface, choice) {
            // A choice in a modal is part of its state from then on.
            let blocks = self.view(id)?["blocks"].clone();
            let found = find(&blocks, action_id)?;
            let value = state_value(found.element, Some(c))?;
            let block_id = found.block_id.clone();
            if let Some(v) = shared.lock().web.view_mut(id) {
                let entry =
                    v.state_values.as_object_mut().map(|m| m.entry(block_id).or_insert_with(|| json!({})));
                if let Some(entry) = entry {
                    entry[action_id] = value;
                }
            }
        }
        let (blocks, fields, url) = self.locate(surface, true)?;
        let found = find(&blocks, action_id)?;
        let act = action(&found, choice, &action_ts(shared))?;
        let trigger_id = trigger(shared, &self.user);
        let mut payload = self.common().payload("block_actions");
        merge(&mut payload, fields);
        payload["trigger_id"] = json!(trigger_id);
        payload["actions"] = json!([act]);
        if payload.get("view").is_none() {
            payload["state"] = json!({"values": {}});
        }
        if let Some(u) = &url {
            payload["response_url"] = json!(u);
        }
        let seq = self.interactive(payload);
        Ok(Sent { trigger_id: Some(trigger_id), response_url: url, ..located(seq, surface) })
    }

    /// Clicks the button `action_id` in a message or a modal: `block_actions` with its
    /// `container`, the message (or view) as it is now, the action (`type`, `action_id`,
    /// `block_id`, `value`, `text`, `action_ts`), a `trigger_id` and (for a message) a
    /// `response_url` whose `replace_original` / `delete_original` act on that message.
    pub fn click(&self, surface: &ActionSurface, action_id: &str) -> Result<Sent, ActError> {
        self.block_action(surface, action_id, None)
    }

    /// Picks `value` in the element `action_id` (a select, overflow, radio buttons, checkboxes,
    /// a date/time picker, a users/conversations/channels select; multi-selects take values
    /// separated by commas): `block_actions` with the typed selection (`selected_option`, …).
    /// For an option list the value must be one of its options.
    pub fn select(&self, surface: &ActionSurface, action_id: &str, value: &str) -> Result<Sent, ActError> {
        self.block_action(surface, action_id, Some(value))
    }

    /// Types `typed` into the external select `action_id`: a `block_suggestion` with its
    /// `action_id`, `block_id`, `value` and container. Read the options the app answered with
    /// [`Emulator::wait_for_options`].
    pub fn type_in_select(
        &self,
        surface: &ActionSurface,
        action_id: &str,
        typed: &str,
    ) -> Result<Sent, ActError> {
        let (blocks, fields, _) = self.locate(surface, false)?;
        let found = find(&blocks, action_id)?;
        let mut payload = self.common().payload("block_suggestion");
        merge(&mut payload, fields);
        payload["action_id"] = json!(action_id);
        payload["block_id"] = json!(found.block_id);
        payload["value"] = json!(typed);
        payload["action_ts"] = json!(action_ts(&self.emu.shared));
        Ok(located(self.interactive(payload), surface))
    }

    /// Runs the global shortcut `callback_id`: a `shortcut` payload with a `trigger_id`.
    pub fn global_shortcut(&self, callback_id: &str) -> Sent {
        let shared = &self.emu.shared;
        let trigger_id = trigger(shared, &self.user);
        let mut payload = self.common().payload("shortcut");
        payload["callback_id"] = json!(callback_id);
        payload["trigger_id"] = json!(trigger_id);
        payload["action_ts"] = json!(action_ts(shared));
        Sent { trigger_id: Some(trigger_id), ..sent(self.interactive(payload)) }
    }

    /// Runs the message shortcut `callback_id` on a message: `message_action` with the
    /// message, its channel, a `trigger_id` and a `response_url`.
    pub fn message_shortcut(
        &self,
        channel: &ChannelId,
        ts: &Ts,
        callback_id: &str,
    ) -> Result<Sent, ActError> {
        let shared = &self.emu.shared;
        let surface = ActionSurface::message(channel, ts);
        let (_, fields, url) = self.locate(&surface, true)?;
        let trigger_id = trigger(shared, &self.user);
        let mut payload = self.common().payload("message_action");
        payload["callback_id"] = json!(callback_id);
        payload["trigger_id"] = json!(trigger_id);
        payload["response_url"] = json!(url);
        payload["channel"] = fields["channel"].clone();
        payload["message"] = fields["message"].clone();
        payload["message_ts"] = json!(ts);
        payload["action_ts"] = json!(action_ts(shared));
        let seq = self.interactive(payload);
        Ok(Sent { trigger_id: Some(trigger_id), response_url: url, ..located(seq, &surface) })
    }

    /// Submits the open modal `view_id` with these inputs (action id → value; typed from the
    /// view's elements as [`Actor::select`] types them; inputs not given are submitted empty):
    /// `view_submission` with the view, its `state.values` and `response_urls: []`. The ack's
    /// `response_action` is applied: `errors` ([`Emulator::view_errors`], the view stays
    /// open), `update`, `push`, `clear`, and an empty ack closes the view.
    pub fn submit_view(&self, view_id: &str, inputs: &[(&str, &str)]) -> Result<Sent, ActError> {
        let shared = &self.emu.shared;
        let blocks = self.view(view_id)?["blocks"].clone();
        let mut values = state_values(&blocks, inputs)?;
        {
            let mut st = shared.lock();
            if let Some(v) = st.web.view_mut(view_id) {
                // Choices made earlier (by `select`) stay unless given again.
                if let (Some(old), Some(new)) = (v.state_values.as_object(), values.as_object_mut()) {
                    for (block, actions) in old {
                        let entry = new.entry(block.clone()).or_insert_with(|| json!({}));
                        for (a, val) in actions.as_object().into_iter().flatten() {
                            if !inputs.iter().any(|(i, _)| i == a) {
                                entry[a] = val.clone();
                            }
                        }
                    }
                }
                v.state_values = values.clone();
                v.errors = None;
            }
        }
        values = self.view(view_id)?;
        let trigger_id = trigger(shared, &self.user);
        let mut payload = self.common().payload("view_submission");
        payload["trigger_id"] = json!(trigger_id);
        payload["view"] = values;
        payload["response_urls"] = json!([]);
        let seq = self.interactive(payload);
        Ok(Sent { trigger_id: Some(trigger_id), ..located(seq, &ActionSurface::view(view_id)) })
    }

    /// Closes the modal `view_id` (and any pushed above it). When the view asked for
    /// `notify_on_close`, the app gets `view_closed` (`is_cleared` when more than one view
    /// closed) and the result is `Some`.
    pub fn close_view(&self, view_id: &str) -> Result<Option<Sent>, ActError> {
        let shared = &self.emu.shared;
        let view = self.view(view_id)?;
        let closed = shared.lock().web.close_view(view_id);
        shared.notify();
        if view["notify_on_close"] != json!(true) {
            return Ok(None);
        }
        let mut payload = self.common().payload("view_closed");
        payload["view"] = view;
        payload["is_cleared"] = json!(closed.len() > 1);
        Ok(Some(located(self.interactive(payload), &ActionSurface::view(view_id))))
    }

    /// Opens the app's Home tab (`home`) or Messages tab (`messages`): an `app_home_opened`
    /// event.
    pub fn open_home(&self, tab: &str) -> Sent {
        let shared = &self.emu.shared;
        let dm = format!("D{}", self.user.as_str().trim_start_matches(['U', 'W']));
        let event = json!({
            "type": "app_home_opened", "user": self.user, "channel": dm, "tab": tab,
            "event_ts": action_ts(shared),
        });
        // In the user's workspace.
        sent(shared.send_user_event(&self.user, event))
    }
}

/// Copies `from`'s fields into `into`.
fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

fn located(seq: u64, surface: &ActionSurface) -> Sent {
    match surface {
        ActionSurface::Message { channel, ts } => {
            Sent { channel: Some(channel.clone()), ts: Some(ts.clone()), ..sent(seq) }
        }
        ActionSurface::View(id) => Sent { view_id: Some(id.clone()), ..sent(seq) },
    }
}
