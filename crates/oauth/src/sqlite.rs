//! [`SqliteInstallationStore`]: installations in one SQLite file.
//!
//! Schema (version 3; 2 added `leases`, 3 `oauth_states`, the shared single-use ledger of
//! install states): `installations(enterprise_id, team_id, user_id, data, installed_at)`
//! keyed by the three ids ([`crate::rows::RowKey`]), `data` being
//! [`Installation::to_json_with_secrets`]. `schema_version` holds the version; [`MIGRATIONS`]
//! bring any older file up to date when it is opened, in one transaction.

use crate::rows::{RowKey, merge, rows_to_save};
use crate::{InstallationStore, Lease, StoreError, StoreFuture, Workspace};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use slack_rtm_types::UserId;
use slack_rtm_types::oauth::Installation;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Whether `lease.holder` holds `lease` now (inside a transaction).
fn holds(tx: &Transaction<'_>, lease: &Lease) -> Result<bool, StoreError> {
    let row: Option<(String, i64)> = tx
        .query_row("SELECT holder, expires_at_ms FROM leases WHERE name = ?1", [&lease.name], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(backend)?;
    Ok(row.is_some_and(|(holder, until)| holder == lease.holder && until > now_ms()))
}

fn save_rows(tx: &Transaction<'_>, installation: &Installation) -> Result<(), StoreError> {
    let keys = rows_to_save(installation)?;
    let data = installation.to_json_with_secrets().to_string();
    for key in keys {
        tx.execute(
            "INSERT INTO installations (enterprise_id, team_id, user_id, data, installed_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (enterprise_id, team_id, user_id)
             DO UPDATE SET data = excluded.data, installed_at = excluded.installed_at",
            params![key.enterprise, key.team, key.user, data, installation.installed_at as i64],
        )
        .map_err(backend)?;
    }
    Ok(())
}

/// Each migration brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE installations (
        enterprise_id TEXT NOT NULL,
        team_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        data TEXT NOT NULL,
        installed_at INTEGER NOT NULL,
        PRIMARY KEY (enterprise_id, team_id, user_id)
    );",
    "CREATE TABLE leases (
        name TEXT PRIMARY KEY NOT NULL,
        holder TEXT NOT NULL,
        expires_at_ms INTEGER NOT NULL
    );",
    "CREATE TABLE oauth_states (
        nonce TEXT PRIMARY KEY NOT NULL,
        expires_at_ms INTEGER NOT NULL
    );",
];

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Installations in one SQLite file (created with mode 0600 on Unix). Calls run on tokio's
/// blocking pool; one connection, serialized. Cloning shares it.
#[derive(Clone)]
pub struct SqliteInstallationStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteInstallationStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteInstallationStore")
    }
}

/// The schema version this library writes.
pub(crate) fn known_version() -> i64 {
    MIGRATIONS.len() as i64
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(backend)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")
        .map_err(backend)?;
    let found: Option<i64> =
        tx.query_row("SELECT version FROM schema_version", [], |r| r.get(0)).optional().map_err(backend)?;
    let found = found.unwrap_or(0);
    if found > known_version() {
        return Err(StoreError::SchemaTooNew { found, known: known_version() });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tracing::info!(to = i + 1, "migrating the installation store");
        tx.execute_batch(sql).map_err(backend)?;
    }
    tx.execute("DELETE FROM schema_version", []).map_err(backend)?;
    tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [known_version()]).map_err(backend)?;
    tx.commit().map_err(backend)
}

#[cfg(unix)]
fn restrict(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(backend)
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> Result<(), StoreError> {
    Ok(())
}

fn read(conn: &Connection, key: &RowKey) -> Result<Option<Installation>, StoreError> {
    let data: Option<String> = conn
        .query_row(
            "SELECT data FROM installations WHERE enterprise_id = ?1 AND team_id = ?2 AND user_id = ?3",
            params![key.enterprise, key.team, key.user],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    data.map(|d| decode(&d)).transpose()
}

fn decode(data: &str) -> Result<Installation, StoreError> {
    let value =
        serde_json::from_str(data).map_err(|e| StoreError::Backend(format!("a row is not JSON: {e}")))?;
    Ok(Installation::from_json_with_secrets(value)?)
}

impl SqliteInstallationStore {
    /// Opens (or creates) the store at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let mut conn = Connection::open(path).map_err(backend)?;
        restrict(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(backend)?;
        migrate(&mut conn)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.with(|c| c.query_row("SELECT version FROM schema_version", [], |r| r.get(0)).map_err(backend))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn =
            self.conn.lock().map_err(|_| StoreError::Backend("the connection lock is poisoned".into()))?;
        f(&mut conn)
    }

    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, Result<T, StoreError>> {
        let this = self.clone();
        Box::pin(async move { tokio::task::spawn_blocking(move || this.with(f)).await.map_err(backend)? })
    }
}

impl InstallationStore for SqliteInstallationStore {
    fn save(&self, installation: Installation) -> StoreFuture<'_, Result<(), StoreError>> {
        self.run(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            save_rows(&tx, &installation)?;
            tx.commit().map_err(backend)
        })
    }

    fn find(
        &self,
        workspace: Workspace,
        user: Option<UserId>,
    ) -> StoreFuture<'_, Result<Option<Installation>, StoreError>> {
        self.run(move |conn| {
            let bot = read(conn, &RowKey::new(&workspace, None))?;
            let user_row = match &user {
                Some(u) => read(conn, &RowKey::new(&workspace, Some(u)))?,
                None => None,
            };
            Ok(merge(user_row, bot))
        })
    }

    fn delete(&self, workspace: Workspace, user: Option<UserId>) -> StoreFuture<'_, Result<u64, StoreError>> {
        let key = RowKey::new(&workspace, user.as_ref());
        if user.is_some() {
            return self.delete_row(key);
        }
        self.run(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM installations WHERE enterprise_id = ?1 AND team_id = ?2",
                    params![key.enterprise, key.team],
                )
                .map_err(backend)?;
            Ok(n as u64)
        })
    }

    fn delete_bot(&self, workspace: Workspace) -> StoreFuture<'_, Result<u64, StoreError>> {
        self.delete_row(RowKey::new(&workspace, None))
    }

    fn list(&self) -> StoreFuture<'_, Result<Vec<Installation>, StoreError>> {
        self.run(|conn| {
            let mut stmt = conn
                .prepare("SELECT data FROM installations ORDER BY enterprise_id, team_id, user_id")
                .map_err(backend)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(backend)?;
            rows.map(|r| decode(&r.map_err(backend)?)).collect()
        })
    }

    /// One row of `leases`, taken in an immediate (write-locked) transaction: two processes
    /// on one file never both take it.
    fn try_lease(&self, lease: Lease, ttl: Duration) -> StoreFuture<'_, Result<bool, StoreError>> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let now = now_ms();
            let until = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
            let n = tx
                .execute(
                    "INSERT INTO leases (name, holder, expires_at_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
                     WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= ?4",
                    params![lease.name, lease.holder, until, now],
                )
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(n == 1)
        })
    }

    /// A row of `oauth_states` per consumed nonce; expired rows go on every call (bounded).
    fn consume_state(
        &self,
        nonce: String,
        expires_at_ms: u64,
    ) -> StoreFuture<'_, Result<Option<bool>, StoreError>> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            tx.execute("DELETE FROM oauth_states WHERE expires_at_ms <= ?1", [now_ms()]).map_err(backend)?;
            let until = i64::try_from(expires_at_ms).unwrap_or(i64::MAX);
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO oauth_states (nonce, expires_at_ms) VALUES (?1, ?2)",
                    params![nonce, until],
                )
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(Some(n == 1))
        })
    }

    fn release_lease(&self, lease: Lease) -> StoreFuture<'_, Result<(), StoreError>> {
        self.run(move |conn| {
            conn.execute(
                "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                params![lease.name, lease.holder],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn save_leased(
        &self,
        lease: Lease,
        installation: Installation,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            if !holds(&tx, &lease)? {
                return Ok(false);
            }
            save_rows(&tx, &installation)?;
            tx.commit().map_err(backend)?;
            Ok(true)
        })
    }
}

impl SqliteInstallationStore {
    fn delete_row(&self, key: RowKey) -> StoreFuture<'_, Result<u64, StoreError>> {
        self.run(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM installations WHERE enterprise_id = ?1 AND team_id = ?2 AND user_id = ?3",
                    params![key.enterprise, key.team, key.user],
                )
                .map_err(backend)?;
            Ok(n as u64)
        })
    }
}
