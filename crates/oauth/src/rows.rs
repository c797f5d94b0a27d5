//! The row rule every store shares: keys and the merge of a user row with the bot row.

use crate::{StoreError, Workspace};
use slack_rtm_types::UserId;
use slack_rtm_types::oauth::Installation;

/// A row's key: enterprise id, team id and user id, each `""` when absent (`user == ""` is the
/// workspace's bot row).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    /// The org, or `""`.
    pub enterprise: String,
    /// The workspace, or `""` (org-wide).
    pub team: String,
    /// The user, or `""` for the bot row.
    pub user: String,
}

impl RowKey {
    /// The key of `workspace`'s row for `user` (`None`: the bot row).
    pub fn new(workspace: &Workspace, user: Option<&UserId>) -> Self {
        Self {
            enterprise: workspace.enterprise_id.as_ref().map_or("", |e| e.as_str()).to_owned(),
            team: workspace.team_id.as_ref().map_or("", |t| t.as_str()).to_owned(),
            user: user.map_or("", |u| u.as_str()).to_owned(),
        }
    }
}

/// The rows an installation is saved as: its workspace's bot row (when it has a bot) and its
/// user's row (when it has a user).
pub fn rows_to_save(installation: &Installation) -> Result<Vec<RowKey>, StoreError> {
    let ws = Workspace::of(installation);
    if ws.enterprise_id.is_none() && ws.team_id.is_none() {
        return Err(StoreError::NoWorkspace);
    }
    let mut keys = Vec::with_capacity(2);
    if installation.bot.is_some() {
        keys.push(RowKey::new(&ws, None));
    }
    if let Some(user) = installation.user_id() {
        keys.push(RowKey::new(&ws, Some(user)));
    }
    Ok(keys)
}

/// What a lookup returns from the user's row (if asked and present) and the bot row: the
/// user's row with the bot row's bot (the bot comes from the bot row only, so a deleted or
/// refreshed bot is never read from a stale user row), else the bot row.
pub fn merge(user_row: Option<Installation>, bot_row: Option<Installation>) -> Option<Installation> {
    match (user_row, bot_row) {
        (Some(mut user), bot) => {
            user.bot = bot.and_then(|b| b.bot);
            Some(user)
        }
        (None, bot) => bot,
    }
}
