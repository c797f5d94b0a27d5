//! An [`Installation`] as a store writes it: JSON with its tokens in the clear, through private
//! mirror types, so `Installation` itself never implements `Serialize`.

use super::{BotInstallation, Grant, IncomingWebhook, Installation, InstallationError, UserInstallation};
use crate::{BotId, EnterpriseId, TeamId, Token, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The stored format's version, written as `"v"`.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct StoredGrant {
    token: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredBot {
    grant: StoredGrant,
    user_id: String,
    #[serde(default)]
    bot_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredUser {
    user_id: String,
    #[serde(default)]
    grant: Option<StoredGrant>,
}

#[derive(Serialize, Deserialize)]
struct StoredWebhook {
    url: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    channel_id: Option<String>,
    #[serde(default)]
    configuration_url: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    v: u32,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    enterprise_id: Option<String>,
    #[serde(default)]
    enterprise_name: Option<String>,
    #[serde(default)]
    team_id: Option<String>,
    #[serde(default)]
    team_name: Option<String>,
    #[serde(default)]
    is_enterprise_install: bool,
    #[serde(default)]
    bot: Option<StoredBot>,
    #[serde(default)]
    user: Option<StoredUser>,
    #[serde(default)]
    incoming_webhook: Option<StoredWebhook>,
    #[serde(default)]
    installed_at: u64,
}

impl StoredGrant {
    fn from(g: &Grant) -> Self {
        Self {
            token: g.token.expose_secret().to_owned(),
            scopes: g.scopes.clone(),
            expires_at: g.expires_at,
            refresh_token: g.refresh_token.as_ref().map(|t| t.expose_secret().to_owned()),
        }
    }
    fn into_grant(self) -> Grant {
        Grant {
            token: Token::new(self.token),
            scopes: self.scopes,
            expires_at: self.expires_at,
            refresh_token: self.refresh_token.map(Token::new),
        }
    }
}

impl Installation {
    /// The installation as JSON **with its tokens in the clear**: for a store to write, never
    /// for a log. Read it back with [`Installation::from_json_with_secrets`].
    pub fn to_json_with_secrets(&self) -> Value {
        let stored = Stored {
            v: VERSION,
            app_id: self.app_id.clone(),
            enterprise_id: self.enterprise_id.as_ref().map(|e| e.as_str().to_owned()),
            enterprise_name: self.enterprise_name.clone(),
            team_id: self.team_id.as_ref().map(|t| t.as_str().to_owned()),
            team_name: self.team_name.clone(),
            is_enterprise_install: self.is_enterprise_install,
            bot: self.bot.as_ref().map(|b| StoredBot {
                grant: StoredGrant::from(&b.grant),
                user_id: b.user_id.as_str().to_owned(),
                bot_id: b.bot_id.as_ref().map(|b| b.as_str().to_owned()),
            }),
            user: self.user.as_ref().map(|u| StoredUser {
                user_id: u.user_id.as_str().to_owned(),
                grant: u.grant.as_ref().map(StoredGrant::from),
            }),
            incoming_webhook: self.incoming_webhook.as_ref().map(|w| StoredWebhook {
                url: w.url.clone(),
                channel: w.channel.clone(),
                channel_id: w.channel_id.clone(),
                configuration_url: w.configuration_url.clone(),
            }),
            installed_at: self.installed_at,
        };
        // Plain strings, numbers and options: serializing into a `Value` cannot fail.
        serde_json::to_value(stored).unwrap_or(Value::Null)
    }

    /// Reads back what [`Installation::to_json_with_secrets`] wrote.
    pub fn from_json_with_secrets(value: Value) -> Result<Self, InstallationError> {
        let s: Stored =
            serde_json::from_value(value).map_err(|e| InstallationError::Stored(e.to_string()))?;
        if s.v != VERSION {
            return Err(InstallationError::Stored(format!("unknown format version {}", s.v)));
        }
        Ok(Self {
            app_id: s.app_id,
            enterprise_id: s.enterprise_id.map(EnterpriseId::new),
            enterprise_name: s.enterprise_name,
            team_id: s.team_id.map(TeamId::new),
            team_name: s.team_name,
            is_enterprise_install: s.is_enterprise_install,
            bot: s.bot.map(|b| BotInstallation {
                grant: b.grant.into_grant(),
                user_id: UserId::new(b.user_id),
                bot_id: b.bot_id.map(BotId::new),
            }),
            user: s.user.map(|u| UserInstallation {
                user_id: UserId::new(u.user_id),
                grant: u.grant.map(StoredGrant::into_grant),
            }),
            incoming_webhook: s.incoming_webhook.map(|w| IncomingWebhook {
                url: w.url,
                channel: w.channel,
                channel_id: w.channel_id,
                configuration_url: w.configuration_url,
            }),
            installed_at: s.installed_at,
        })
    }
}
