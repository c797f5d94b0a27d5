//! More workspaces and Enterprise Grid orgs beside the default workspace, and acting in one
//! ([`Emulator::in_team`] → [`TeamScope`] → [`crate::Actor`]).

use super::{EventScope, OrgRec, TeamRec};
use crate::workspace::Credentials;
use crate::{Actor, Emulator};
use slack_rtm_types::{ChannelId, EnterpriseId, TeamId, UserId};

/// A workspace, as [`Emulator::add_workspace`] made it (or the default one).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkspaceInfo {
    /// The workspace's id (`T…`).
    pub team_id: TeamId,
    /// Its name.
    pub name: String,
    /// Its domain (`<domain>.slack.com`).
    pub domain: String,
    /// The org it belongs to, if any.
    pub enterprise_id: Option<EnterpriseId>,
    /// The app's bot user in this workspace (an org-wide install uses the org's instead:
    /// [`TeamScope::bot_user`] says which the app is).
    pub bot_user: UserId,
    /// The user who installs the app there (`alice`).
    pub installer: UserId,
    /// Its `general` channel.
    pub general_channel: ChannelId,
}

/// An Enterprise Grid org, as [`Emulator::add_org`] made it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrgInfo {
    /// The org's id (`E…`).
    pub enterprise_id: EnterpriseId,
    /// Its name.
    pub name: String,
    /// Its workspaces.
    pub teams: Vec<TeamId>,
    /// The app's bot user for an org-wide install.
    pub bot_user: UserId,
}

/// One workspace, from [`Emulator::in_team`]: its users act there.
#[derive(Clone, Debug)]
pub struct TeamScope<'a> {
    emu: &'a Emulator,
    team: TeamId,
}

fn domain_of(name: &str) -> String {
    let d: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    d.trim_matches('-').to_owned()
}

impl Emulator {
    /// Adds a workspace `team_id` named `name`, beside the default one: with the app's bot
    /// user, a user `alice` (who installs the app there) and a `general` channel, all in the
    /// emulator's one store (every Web API method works there). Events in it carry its
    /// `team_id`. The same id again returns the workspace as it is.
    pub fn add_workspace(&self, team_id: &str, name: &str) -> WorkspaceInfo {
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        if st.oauth.team(team_id).is_none() && st.ws.team.id.as_str() != team_id {
            let id = TeamId::new(team_id);
            let bot = st.ws.add_user(&self.shared.config.bot_name, true);
            // Its tokens come from OAuth installs only.
            st.ws.tokens.retain(|_, t| t.user != bot.user);
            let alice = st.ws.add_user("alice", false);
            let general = st.ws.add_channel("general");
            for u in [&bot.user, &alice.user] {
                st.oauth.user_team.insert(u.clone(), id.clone());
            }
            st.oauth.channel_team.insert(general.clone(), id.clone());
            st.oauth.teams.push(TeamRec {
                id,
                name: name.to_owned(),
                domain: domain_of(name),
                enterprise: None,
                bot: bot.user,
                installer: alice.user,
                general,
            });
        }
        drop(guard);
        self.shared.notify();
        self.workspace(team_id).unwrap_or_else(|| self.default_workspace())
    }

    /// Adds an Enterprise Grid org `enterprise_id` named `name` whose workspaces are `teams`
    /// (workspaces not made yet are made, named after their id; the default workspace may be
    /// one), with the app's bot user for an org-wide install. The same id again adds the
    /// workspaces to the org.
    pub fn add_org(&self, enterprise_id: &str, name: &str, teams: &[&str]) -> OrgInfo {
        for t in teams {
            if self.workspace(t).is_none() {
                self.add_workspace(t, t);
            }
        }
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        let id = EnterpriseId::new(enterprise_id);
        if st.oauth.org(enterprise_id).is_none() {
            let bot = st.ws.add_user(&self.shared.config.bot_name, true);
            st.ws.tokens.retain(|_, t| t.user != bot.user);
            st.oauth.orgs.push(OrgRec {
                id: id.clone(),
                name: name.to_owned(),
                teams: Vec::new(),
                bot: bot.user,
            });
        }
        let default = st.ws.team.id.clone();
        for t in teams {
            let team = TeamId::new(*t);
            if team == default {
                st.oauth.default_enterprise = Some(id.clone());
            } else if let Some(rec) = st.oauth.teams.iter_mut().find(|r| r.id == team) {
                rec.enterprise = Some(id.clone());
            }
            if let Some(org) = st.oauth.orgs.iter_mut().find(|o| o.id == id)
                && !org.teams.contains(&team)
            {
                org.teams.push(team);
            }
        }
        let info = st.oauth.org(enterprise_id).map_or_else(
            || OrgInfo {
                enterprise_id: id.clone(),
                name: name.to_owned(),
                teams: Vec::new(),
                bot_user: UserId::new(""),
            },
            |o| OrgInfo {
                enterprise_id: o.id.clone(),
                name: o.name.clone(),
                teams: o.teams.clone(),
                bot_user: o.bot.clone(),
            },
        );
        drop(guard);
        self.shared.notify();
        info
    }

    /// Every workspace, the default one first.
    pub fn workspaces(&self) -> Vec<WorkspaceInfo> {
        let ids: Vec<String> =
            self.shared.lock().oauth.teams.iter().map(|t| t.id.as_str().to_owned()).collect();
        let mut out = vec![self.default_workspace()];
        out.extend(ids.iter().filter_map(|id| self.workspace(id)));
        out
    }

    /// The workspace `team_id`, if it exists (the default one included).
    pub fn workspace(&self, team_id: &str) -> Option<WorkspaceInfo> {
        if self.team().id.as_str() == team_id {
            return Some(self.default_workspace());
        }
        let st = self.shared.lock();
        let t = st.oauth.team(team_id)?;
        Some(WorkspaceInfo {
            team_id: t.id.clone(),
            name: t.name.clone(),
            domain: t.domain.clone(),
            enterprise_id: t.enterprise.clone(),
            bot_user: t.bot.clone(),
            installer: t.installer.clone(),
            general_channel: t.general.clone(),
        })
    }

    fn default_workspace(&self) -> WorkspaceInfo {
        let st = self.shared.lock();
        WorkspaceInfo {
            team_id: st.ws.team.id.clone(),
            name: st.ws.team.name.clone(),
            domain: st.ws.team.domain.clone(),
            enterprise_id: st.oauth.default_enterprise.clone(),
            bot_user: self.shared.bot.user.clone(),
            installer: self.shared.second.user.clone(),
            general_channel: self.shared.general.clone(),
        }
    }

    /// One workspace (`T…`; the default one's id works too): act as its users, add users and
    /// channels to it.
    pub fn in_team(&self, team_id: &str) -> TeamScope<'_> {
        TeamScope { emu: self, team: TeamId::new(team_id) }
    }
}

impl<'a> TeamScope<'a> {
    /// The workspace's id.
    pub fn id(&self) -> &TeamId {
        &self.team
    }

    /// The workspace, if it exists.
    pub fn info(&self) -> Option<WorkspaceInfo> {
        self.emu.workspace(self.team.as_str())
    }

    fn is_default(&self) -> bool {
        self.emu.shared.lock().oauth.team(self.team.as_str()).is_none()
    }

    /// Acts as `user` in this workspace: a user id the emulator does not know yet becomes one
    /// of this workspace's (a user of another workspace stays in theirs). Events carry the
    /// workspace's `team_id`, its org's `enterprise_id` and the `authorizations` of the
    /// install that sees them (org-wide when the org has one).
    pub fn user(&self, user: &UserId) -> Actor<'a> {
        if !self.is_default() {
            let mut st = self.emu.shared.lock();
            if st.ws.user(user).is_none() {
                st.oauth.user_team.insert(user.clone(), self.team.clone());
            }
        }
        self.emu.user(user)
    }

    /// Adds a (human) user to this workspace, with a classic `xoxp-` token.
    pub fn add_user(&self, name: &str) -> Credentials {
        let default = self.is_default();
        let mut st = self.emu.shared.lock();
        let c = st.ws.add_user(name, false);
        if !default {
            st.oauth.user_team.insert(c.user.clone(), self.team.clone());
        }
        c
    }

    /// Adds a channel to this workspace (every user is a member, as in the default one).
    pub fn add_channel(&self, name: &str) -> ChannelId {
        let default = self.is_default();
        let mut st = self.emu.shared.lock();
        let c = st.ws.add_channel(name);
        if !default {
            st.oauth.channel_team.insert(c.clone(), self.team.clone());
        }
        c
    }

    /// Whether an item mapped (or not) to a workspace by `map` is of this one: items of no
    /// other workspace are the default workspace's.
    fn owns<K: std::hash::Hash + Eq>(
        &self,
        st: &crate::State,
        map: &std::collections::HashMap<K, TeamId>,
        k: &K,
    ) -> bool {
        match map.get(k) {
            Some(t) => *t == self.team,
            None => st.oauth.team(self.team.as_str()).is_none(),
        }
    }

    /// The workspace's users (for the default workspace: every user of no other workspace
    /// and no org).
    pub fn users(&self) -> Vec<crate::UserInfo> {
        let st = self.emu.shared.lock();
        let org_bot = |u: &UserId| st.oauth.orgs.iter().any(|o| &o.bot == u);
        let mine = |u: &&crate::UserInfo| self.owns(&st, &st.oauth.user_team, &u.id) && !org_bot(&u.id);
        st.ws.users.iter().filter(mine).cloned().collect()
    }

    /// The workspace's channels (for the default workspace: every channel of no other).
    pub fn channels(&self) -> Vec<crate::WorkspaceChannel> {
        let st = self.emu.shared.lock();
        st.ws.channels.iter().filter(|c| self.owns(&st, &st.oauth.channel_team, &c.id)).cloned().collect()
    }

    /// The workspace's `general` channel (the default workspace's first channel for the
    /// default one).
    pub fn general_channel(&self) -> ChannelId {
        self.info().map_or_else(|| self.emu.general_channel(), |w| w.general_channel)
    }

    /// The user who installs the app there.
    pub fn installer(&self) -> UserId {
        self.info().map_or_else(|| self.emu.second_user().user, |w| w.installer)
    }

    /// The bot the app is in this workspace now: the org's when the app is installed
    /// org-wide in the workspace's org, else the workspace's own.
    pub fn bot_user(&self) -> UserId {
        let st = self.emu.shared.lock();
        EventScope::for_team(&st, &self.team, &self.emu.shared.bot.user).bot
    }
}
