//! What the conversation, user, pin, App Home and scheduling methods add to the workspace:
//! explicit memberships, conversation kinds, emails, pins, Home tabs and scheduled messages.
//! Bounded like the rest of the Web API state; and the emulator handle's controls for them.

use crate::Emulator;
use serde_json::Value;
use slack_rtm_types::{ChannelId, UserId};
use std::collections::{HashMap, HashSet};

/// What kind of conversation an id is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Public,
    Private,
    /// A DM with these users (one, or the same user twice for a DM with oneself).
    Im(UserId),
    Mpim,
}

/// A message waiting to be posted by `chat.scheduleMessage`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ScheduledMessage {
    /// Its id (`Q…`).
    pub id: String,
    /// The conversation.
    pub channel: ChannelId,
    /// When it is posted, in Unix seconds.
    pub post_at: i64,
    /// The text.
    pub text: String,
    /// Who scheduled it.
    pub user: UserId,
    /// The `ts` of the message once posted.
    pub posted_ts: Option<String>,
}

#[derive(Default)]
pub(crate) struct Directory {
    /// Channels with an explicit member list (created, opened, or set by the handle); a
    /// channel not here has every user as a member (the workspace's rule).
    pub members: HashMap<String, Vec<UserId>>,
    pub kinds: HashMap<String, Kind>,
    /// DMs and group DMs by their sorted members.
    pub ims: HashMap<Vec<UserId>, ChannelId>,
    pub emails: HashMap<UserId, String>,
    pub pins: HashSet<(String, String)>,
    /// Home tabs by user: (view id, hash, view).
    pub homes: HashMap<UserId, (String, String, Value)>,
    pub scheduled: Vec<ScheduledMessage>,
    /// Files reserved by `files.getUploadURLExternal`.
    pub files: Vec<super::files::UploadedFileRecord>,
    /// Scripted statuses for the next byte transfers.
    pub upload_failures: std::collections::VecDeque<u16>,
}

impl Directory {
    pub fn kind(&self, channel: &str) -> Kind {
        self.kinds.get(channel).cloned().unwrap_or(Kind::Public)
    }

    /// The members of a channel known to the workspace.
    pub fn members_of(&self, channel: &str, all: &[UserId]) -> Vec<UserId> {
        self.members.get(channel).cloned().unwrap_or_else(|| all.to_vec())
    }

    pub fn is_member(&self, channel: &str, user: &UserId) -> bool {
        self.members.get(channel).is_none_or(|m| m.contains(user))
    }

    /// A user's email: set by the handle, else `<name>@example.com`.
    pub fn email(&self, user: &UserId, name: &str) -> String {
        self.emails.get(user).cloned().unwrap_or_else(|| format!("{name}@example.com"))
    }
}

impl Emulator {
    /// Gives a channel an explicit member list (by default every user is a member of every
    /// channel): `conversations.members`, `.join`, `.invite` and `users.conversations` follow
    /// it. `false` if the channel is unknown.
    pub fn set_channel_members(&self, channel: &ChannelId, members: &[UserId]) -> bool {
        let mut st = self.shared.lock();
        if !st.ws.has_channel(channel.as_str()) {
            return false;
        }
        st.web.dir.members.insert(channel.as_str().to_owned(), members.to_vec());
        true
    }

    /// Sets a user's email (for `users.lookupByEmail`; default `<name>@example.com`).
    pub fn set_user_email(&self, user: &UserId, email: &str) {
        self.shared.lock().web.dir.emails.insert(user.clone(), email.to_owned());
    }

    /// The messages pinned with `pins.add`, as (channel, ts).
    pub fn pins(&self) -> Vec<(String, String)> {
        let mut pins: Vec<_> = self.shared.lock().web.dir.pins.iter().cloned().collect();
        pins.sort();
        pins
    }

    /// The Home tab published for `user` with `views.publish`.
    pub fn home_view(&self, user: &UserId) -> Option<Value> {
        self.shared.lock().web.dir.homes.get(user).map(|(_, _, v)| v.clone())
    }

    /// Messages scheduled with `chat.scheduleMessage`, posted or not, oldest first.
    pub fn scheduled_messages(&self) -> Vec<ScheduledMessage> {
        self.shared.lock().web.dir.scheduled.clone()
    }

    /// `user` opens the app's Home tab: an `app_home_opened` event (with the published view,
    /// if any) in an `events_api` envelope. Returns the envelope's number.
    pub fn open_app_home(&self, user: &UserId) -> u64 {
        let (view, channel) = {
            let st = self.shared.lock();
            let view = st.web.dir.homes.get(user).map(|(id, hash, v)| super::home::shown(&st, id, hash, v));
            let channel =
                st.web.dir.ims.get(&super::conversations::im_key(user, &self.shared.bot.user)).cloned();
            (view, channel)
        };
        let ts = self.shared.clock.next();
        let mut event = serde_json::json!({
            "type": "app_home_opened", "user": user, "tab": "home", "event_ts": ts,
        });
        if let Some(c) = channel {
            event["channel"] = serde_json::json!(c);
        }
        if let Some(v) = view {
            event["view"] = v;
        }
        self.send_api_event(event)
    }
}
