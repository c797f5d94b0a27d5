//! Slack OAuth v2 installs for slack-rtm: where installations live.
//!
//! - [`InstallationStore`]: save an [`Installation`], find the one an event needs (its
//!   enterprise, team and user), delete what an uninstall or a revocation concerns.
//! - [`SqliteInstallationStore`] (feature `sqlite`, on by default): one SQLite file, schema
//!   created and migrated by the library. The fleet crate has the Redis one.
//!
//! Every store keeps, per workspace (or per org for an org-wide install), one *bot row* (the
//! latest installation with a bot token) and one *user row* per installing user; a lookup for a
//! user returns that user's row with the workspace's current bot. [`rows`] is that rule, shared
//! by every store.
#![deny(missing_docs)]

pub mod rows;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "sqlite")]
pub use sqlite::SqliteInstallationStore;

pub use slack_rtm_types::oauth::Installation;
use slack_rtm_types::oauth::InstallationError;
use slack_rtm_types::{EnterpriseId, TeamId, UserId};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed, sendable future (what the store trait returns, so it stays object-safe).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a store failed. Never holds a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend (SQLite, Redis…) failed.
    #[error("installation store: {0}")]
    Backend(String),
    /// A stored installation does not read back.
    #[error("installation store: {0}")]
    Corrupt(#[from] InstallationError),
    /// The store was written by a newer version of this library.
    #[error("installation store: schema version {found} is newer than this library's {known}")]
    SchemaTooNew {
        /// The store's version.
        found: i64,
        /// The newest this library knows.
        known: i64,
    },
    /// An installation with neither a team nor an enterprise.
    #[error("installation store: an installation needs a team or an enterprise id")]
    NoWorkspace,
}

/// Which workspace (or org) an event or an installation belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Workspace {
    /// The Enterprise Grid org, if any.
    pub enterprise_id: Option<EnterpriseId>,
    /// The workspace; `None` for an org-wide install.
    pub team_id: Option<TeamId>,
}

impl Workspace {
    /// The workspace an installation serves (org-wide installs: the org alone).
    pub fn of(installation: &Installation) -> Self {
        Self {
            enterprise_id: installation.enterprise_id.clone(),
            team_id: if installation.is_enterprise_install { None } else { installation.team_id.clone() },
        }
    }

    /// The workspace of an event from `team_id` in `enterprise_id`; `is_enterprise_install`
    /// (from the event's authorizations) selects the org-wide installation.
    pub fn for_event(
        enterprise_id: Option<EnterpriseId>,
        team_id: Option<TeamId>,
        is_enterprise_install: bool,
    ) -> Self {
        Self { enterprise_id, team_id: if is_enterprise_install { None } else { team_id } }
    }
}

/// A lease on a name (e.g. one installation's token refresh): held by `holder` (a random
/// value each instance makes for each attempt) until it is released or its time runs out.
/// A store's leases are shared by every instance using the store, so one instance at a time
/// refreshes a token (a refresh token is single-use).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    /// What is leased.
    pub name: String,
    /// Who holds it.
    pub holder: String,
}

impl Lease {
    /// The lease name of a workspace's token refresh.
    pub fn refresh_of(workspace: &Workspace, user: Option<&UserId>) -> String {
        let key = rows::RowKey::new(workspace, user);
        format!("refresh|{}|{}|{}", key.enterprise, key.team, key.user)
    }
}

fn no_leases<T>() -> StoreFuture<'static, Result<T, StoreError>> {
    Box::pin(async {
        Err(StoreError::Backend("this store has no leases (token rotation needs them)".into()))
    })
}

/// Where installations live. Implementations must never log a token.
pub trait InstallationStore: Send + Sync + 'static {
    /// Saves an installation (a new install, or one whose tokens were refreshed): it becomes
    /// its workspace's bot row when it has a bot, and its user's row when it has a user.
    fn save(&self, installation: Installation) -> StoreFuture<'_, Result<(), StoreError>>;

    /// The installation for `workspace` (and `user`, whose own row is preferred when there is
    /// one, completed with the workspace's current bot).
    fn find(
        &self,
        workspace: Workspace,
        user: Option<UserId>,
    ) -> StoreFuture<'_, Result<Option<Installation>, StoreError>>;

    /// Deletes `user`'s row of `workspace`, or (`None`) every row of it (`app_uninstalled`).
    /// Returns how many rows went.
    fn delete(&self, workspace: Workspace, user: Option<UserId>) -> StoreFuture<'_, Result<u64, StoreError>>;

    /// Deletes the workspace's bot (`tokens_revoked` with bot tokens); user rows stay.
    fn delete_bot(&self, workspace: Workspace) -> StoreFuture<'_, Result<u64, StoreError>>;

    /// Every workspace's bot row and every user row, for listing (tokens inside: redact them).
    fn list(&self) -> StoreFuture<'_, Result<Vec<Installation>, StoreError>>;

    /// Takes `lease` for `ttl` if nobody else holds it (or their time ran out): `true` when
    /// taken (taking it again as its holder extends it). Default: no leases (an error).
    fn try_lease(&self, lease: Lease, ttl: Duration) -> StoreFuture<'_, Result<bool, StoreError>> {
        let _ = (lease, ttl);
        no_leases()
    }

    /// Gives `lease` back if `lease.holder` still holds it.
    fn release_lease(&self, lease: Lease) -> StoreFuture<'_, Result<(), StoreError>> {
        let _ = lease;
        no_leases()
    }

    /// [`InstallationStore::save`] only while `lease` is still held (the fencing check, in the
    /// same transaction as the write): `false` (nothing written) when it was lost.
    fn save_leased(
        &self,
        lease: Lease,
        installation: Installation,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        let _ = (lease, installation);
        no_leases()
    }

    /// Consumes an OAuth state's `nonce` once across every instance sharing the store, kept
    /// until `expires_at_ms` (Unix ms, the state's expiry): `Some(true)` the first time,
    /// `Some(false)` after. Default: `None`, no shared ledger (the install flow then keeps a
    /// ledger per process, and a state could be replayed once on each instance).
    fn consume_state(
        &self,
        nonce: String,
        expires_at_ms: u64,
    ) -> StoreFuture<'_, Result<Option<bool>, StoreError>> {
        let _ = (nonce, expires_at_ms);
        Box::pin(async { Ok(None) })
    }
}
