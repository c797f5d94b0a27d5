//! Workspace events: preferences, the workspace's name, domain, plan and profile fields,
//! custom emoji, slash commands, bots, and organisation migrations.

use super::BotInfo;
use super::lossless::lossless;
use crate::RawJson;
use crate::ids::{TeamId, Ts};

lossless! {
    /// `pref_change` (a preference of the connecting user) and `team_pref_change` (a workspace
    /// preference). The value can be any JSON, so it stays raw: read it with [`RawJson::parse`].
    #[derive(Clone, Debug, PartialEq)]
    pub struct PrefChange {
        /// The preference's name, e.g. `messages_theme`.
        pub name: String,
        /// Its new value, raw.
        pub value: RawJson,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `team_rename`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct TeamRename {
        /// The new name.
        pub name: String,
        /// The workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team_id: Option<TeamId>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `team_domain_change`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct TeamDomainChange {
        /// The new domain, e.g. `acme` for `acme.slack.com`.
        pub domain: String,
        /// The new URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub url: Option<String>,
        /// The workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team_id: Option<TeamId>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `team_plan_change`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct TeamPlanChange {
        /// The new plan: `""` (free), `std`, `plus`, `enterprise`, ...
        pub plan: String,
        /// Whether single-channel guests can now be added.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub can_add_ura: Option<bool>,
        /// The features the plan pays for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub paid_features: Option<Vec<String>>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `team_profile_change` (fields changed; only changed fields are listed) and
    /// `team_profile_reorder` (fields reordered; each with only `id` and `ordering`).
    #[derive(Clone, Debug, PartialEq)]
    pub struct TeamProfileChange {
        /// The profile fields concerned.
        pub profile: TeamProfile,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// The workspace profile part of a `team_profile_change` or `team_profile_reorder`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct TeamProfile {
        /// The fields.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fields: Option<Vec<ProfileField>>,
    }
}

lossless! {
    /// A custom profile field defined by the workspace.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ProfileField {
        /// The field id (`Xf…`).
        pub id: String,
        /// Its position in the profile.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ordering: Option<i64>,
        /// The label shown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub label: Option<String>,
        /// The hint shown when editing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hint: Option<String>,
        /// The kind of field: `text`, `date`, `link`, `mailto`, `options_list`, `user`.
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        pub field_type: Option<String>,
        /// The choices, for `options_list` fields.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub possible_values: Option<Vec<String>>,
        /// Field options, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub options: Option<RawJson>,
        /// Whether the field is hidden.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_hidden: Option<bool>,
    }
}

lossless! {
    /// `team_profile_delete`: profile fields were deleted.
    #[derive(Clone, Debug, PartialEq)]
    pub struct TeamProfileDelete {
        /// The deleted fields.
        pub profile: DeletedProfileFields,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// The workspace profile part of a `team_profile_delete`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct DeletedProfileFields {
        /// The ids of the deleted fields.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fields: Option<Vec<String>>,
    }
}

lossless! {
    /// `email_domain_changed`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct EmailDomainChanged {
        /// The new domain (several are comma-separated).
        pub email_domain: String,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `accounts_changed`: the accounts signed in on this client changed. It carries nothing else:
    /// refetch what you need.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct AccountsChanged {
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `commands_changed`: a slash command was added or changed. It carries nothing else: refetch
    /// the command list if you need it.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct CommandsChanged {
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

wire_enum! {
    /// What happened to a custom emoji (the `subtype` of `emoji_changed`).
    pub enum EmojiChangeKind {
        /// An emoji was added (`name`, `value`).
        Add = "add",
        /// Emoji were removed (`names`).
        Remove = "remove",
        /// An emoji was renamed (`old_name`, `new_name`, `value`).
        Rename = "rename",
    }
}

lossless! {
    /// `emoji_changed`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct EmojiChanged {
        /// What happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub subtype: Option<EmojiChangeKind>,
        /// The added emoji's name (`add`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// The removed emoji's names (`remove`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub names: Option<Vec<String>>,
        /// The former name (`rename`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub old_name: Option<String>,
        /// The new name (`rename`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub new_name: Option<String>,
        /// The image URL, or `alias:<name>` for an alias (`add`, `rename`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub value: Option<String>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `bot_added`, `bot_changed`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct BotChange {
        /// The bot.
        pub bot: BotInfo,
        /// The version of the client cache this event updates, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cache_ts: Option<i64>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `external_org_migration_started`, `external_org_migration_finished`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ExternalOrgMigration {
        /// The migrating workspace.
        pub team: MigratingTeam,
        /// When the migration started, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_started: Option<i64>,
        /// When the migration finished, in Unix seconds (`…_finished`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_finished: Option<i64>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// The workspace of an external organisation migration event.
    #[derive(Clone, Debug, PartialEq)]
    pub struct MigratingTeam {
        /// The workspace.
        pub id: TeamId,
        /// Whether it is still migrating.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_migrating: Option<bool>,
    }
}
