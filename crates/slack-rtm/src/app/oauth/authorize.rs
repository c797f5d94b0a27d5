//! [`Installations`]: each request's installation from the store, through a bounded cache,
//! with a [`WebClient`] carrying that workspace's token.

use super::rotate::{Rotator, refresh_now};
use super::{Installation, InstallationStore, Workspace, now_ms};
use crate::app::context::Meta;
use crate::app::receiver::RequestKind;
use crate::web::WebClient;
use serde_json::Value;
use slack_rtm_codec::oauth::{OAuthClient, RotationPolicy};
use slack_rtm_types::{EnterpriseId, TeamId, UserId};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// Installations cached by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;
/// How long a cached installation is used before the store is read again (a token refreshed
/// by another instance is seen by then; an expiring token is read again earlier).
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
/// Workspaces without an installation remembered for "reported once".
const MISSING_REMEMBERED: usize = 1024;
/// A token is not used within this long of its expiry (the request would arrive late).
pub(crate) const EXPIRY_SAFETY_MS: u64 = 500;

/// A request's installation, and a Web client with its token.
#[derive(Clone, Debug)]
pub struct Authorized {
    /// The installation (the user's own row when the acting user installed, with the
    /// workspace's bot).
    pub installation: Installation,
    /// The workspace it serves.
    pub workspace: Workspace,
    pub(crate) web: WebClient,
}

impl Authorized {
    /// The Web client with the installation's bot token (its user token when it has no bot).
    pub fn web(&self) -> &WebClient {
        &self.web
    }
}

type CacheKey = (Workspace, Option<UserId>);
type MissingHook = Arc<dyn Fn(&Workspace) + Send + Sync>;

struct Cache {
    entries: HashMap<CacheKey, (Arc<Authorized>, Instant)>,
    order: VecDeque<CacheKey>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn InstallationStore>,
    capacity: usize,
    ttl: Duration,
    cache: Mutex<Cache>,
    missing: Mutex<HashSet<Workspace>>,
    on_missing: Option<MissingHook>,
    pub(crate) rotation: Option<(OAuthClient, RotationPolicy)>,
    /// Whether the scheduled rotation task runs (else tokens are refreshed on demand only).
    rotation_task: bool,
    pub(crate) web: OnceLock<WebClient>,
    rotator: OnceLock<()>,
}

/// Where an [`App`](crate::App) serving many workspaces finds each request's token:
/// an [`InstallationStore`] behind a bounded cache. Give it to
/// [`App::installations`](crate::App::installations); the install flow ([`InstallConfig`](super::InstallConfig))
/// saves into the same one. Cheap to clone (clones share the cache).
///
/// - Each request's workspace (enterprise, team, org-wide or not) and acting user select the
///   installation; its [`Context::web`](crate::app::Context::web) (and `say`) carry its
///   token; [`Context::installation`](crate::app::Context::installation) is the rest.
/// - A request from a workspace with no installation is acked and not handled; it is
///   reported once per workspace (a warning, and [`Installations::on_missing`]).
/// - `app_uninstalled` deletes the workspace's installations, `tokens_revoked` the revoked
///   bot or user tokens, and both evict the cache; listeners still get the events.
/// - With [`Installations::rotate`], tokens are refreshed before they expire, once across
///   every instance sharing the store (see the module's documentation).
#[derive(Clone)]
pub struct Installations {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Installations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installations")
            .field("capacity", &self.inner.capacity)
            .field("ttl", &self.inner.ttl)
            .field("rotation", &self.inner.rotation.as_ref().map(|(_, p)| p))
            .finish_non_exhaustive()
    }
}

/// What a request resolves to.
pub(crate) enum Resolution {
    /// Its installation.
    Found(Arc<Authorized>),
    /// Handled without one (an uninstall or a revocation, a payload naming no workspace).
    NotNeeded,
    /// No (usable) installation: acked, not handled.
    Missing,
}

/// The token a request's client carries: the bot's, else the user's.
fn token_grant(i: &Installation) -> Option<&slack_rtm_types::oauth::Grant> {
    i.bot.as_ref().map(|b| &b.grant).or_else(|| i.user.as_ref().and_then(|u| u.grant.as_ref()))
}

fn is_org_wide(body: &Value) -> bool {
    body.pointer("/authorizations/0/is_enterprise_install")
        .or_else(|| body.get("is_enterprise_install"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The workspace a request's ids select (the org alone for an org-wide install); `None` when
/// the payload names neither a team nor an enterprise.
fn workspace_of(meta: &Meta, body: &Value) -> Option<Workspace> {
    let team = meta.team_id.clone().map(TeamId::from);
    let enterprise = meta.enterprise_id.clone().map(EnterpriseId::from);
    if team.is_none() && enterprise.is_none() {
        return None;
    }
    Some(Workspace::for_event(enterprise, team, is_org_wide(body)))
}

/// The workspace and acting user of a request's payload, as an app with [`Installations`]
/// resolves them: an Events API `event_callback` (it has an `event`), else a slash command or
/// an interaction. `None` when the payload names no workspace. For tools that look
/// installations up themselves (e.g. the CLI's `http tail --store`).
pub fn request_workspace(payload: &Value) -> Option<(Workspace, Option<UserId>)> {
    let kind = if payload.get("event").is_some() { RequestKind::EventsApi } else { RequestKind::Interactive };
    let meta = Meta::read(&kind, payload);
    let workspace = workspace_of(&meta, payload)?;
    Some((workspace, meta.user_id.map(UserId::from)))
}

impl Installations {
    /// Installations in `store`, cached ([`DEFAULT_CACHE_CAPACITY`], [`DEFAULT_CACHE_TTL`]).
    pub fn new(store: impl InstallationStore) -> Installations {
        Self::from_arc(Arc::new(store))
    }

    /// [`Installations::new`] with a store already shared.
    pub fn from_arc(store: Arc<dyn InstallationStore>) -> Installations {
        Installations {
            inner: Arc::new(Inner {
                store,
                capacity: DEFAULT_CACHE_CAPACITY,
                ttl: DEFAULT_CACHE_TTL,
                cache: Mutex::new(Cache { entries: HashMap::new(), order: VecDeque::new() }),
                missing: Mutex::new(HashSet::new()),
                on_missing: None,
                rotation: None,
                rotation_task: false,
                web: OnceLock::new(),
                rotator: OnceLock::new(),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Installations {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => f(inner),
            None => tracing::warn!("Installations configured after being shared: setting ignored"),
        }
        self
    }

    /// At most `capacity` installations cached (at least 1), each for at most `ttl`.
    pub fn cache(self, capacity: usize, ttl: Duration) -> Installations {
        self.edit(|i| {
            i.capacity = capacity.max(1);
            i.ttl = ttl;
        })
    }

    /// Called once per workspace (up to 1024 remembered) whose request found no installation.
    pub fn on_missing(self, f: impl Fn(&Workspace) + Send + Sync + 'static) -> Installations {
        self.edit(|i| i.on_missing = Some(Arc::new(f)))
    }

    /// Refreshes rotating tokens with `client` (`oauth.v2.access`, `grant_type=refresh_token`)
    /// on `policy`'s schedule, once across every instance sharing the store (its leases).
    /// A request that finds an expired token (not refreshed in time) refreshes it then, under
    /// the same lease, before it is handled.
    pub fn rotate(self, client: OAuthClient, policy: RotationPolicy) -> Installations {
        self.edit(|i| {
            i.rotation = Some((client, policy));
            i.rotation_task = true;
        })
    }

    /// Refreshes rotating tokens only on demand: when a request finds its installation's
    /// token expired, it is refreshed then (under the store's lease, as
    /// [`Installations::rotate`] does), within the ack deadline. No scheduled task: for
    /// short-lived processes, or to leave the schedule to other instances.
    pub fn rotate_on_demand(self, client: OAuthClient, policy: RotationPolicy) -> Installations {
        self.edit(|i| {
            i.rotation = Some((client, policy));
            i.rotation_task = false;
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn InstallationStore> {
        &self.inner.store
    }

    /// Installations in the cache now.
    pub fn cached(&self) -> usize {
        self.inner.cache.lock().unwrap_or_else(|p| p.into_inner()).entries.len()
    }

    /// Forgets what is cached for `workspace` (after a save, a refresh or a deletion).
    pub fn evict(&self, workspace: &Workspace) {
        let mut cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.entries.retain(|(ws, _), _| ws != workspace);
        cache.order.retain(|(ws, _)| ws != workspace);
        drop(cache);
        self.inner.missing.lock().unwrap_or_else(|p| p.into_inner()).remove(workspace);
    }

    /// Starts using `web` (its transport and API base) for the installations' clients, and
    /// the rotation task when rotation is on (once). Called when the app's dispatcher is made.
    pub(crate) fn start(&self, web: &WebClient) {
        let _ = self.inner.web.set(web.clone());
        if self.inner.rotation.is_some() && self.inner.rotation_task && self.inner.rotator.set(()).is_ok() {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(Rotator::new(self.clone()).run());
                }
                Err(_) => tracing::error!("no tokio runtime: token rotation is not running"),
            }
        }
    }

    /// The usable installation for `workspace` (and `user`'s own row, when they installed),
    /// from the cache or the store; `None` when there is none, or its token has expired.
    pub async fn authorized(&self, workspace: Workspace, user: Option<UserId>) -> Option<Arc<Authorized>> {
        match self.find(workspace, user).await {
            Resolution::Found(auth) => Some(auth),
            _ => None,
        }
    }

    /// Boxed (and `Send`): a client's token source calls it again, from inside what it made.
    pub(crate) fn find(
        &self,
        workspace: Workspace,
        user: Option<UserId>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Resolution> + Send + '_>> {
        Box::pin(self.find_inner(workspace, user))
    }

    async fn find_inner(&self, workspace: Workspace, user: Option<UserId>) -> Resolution {
        let key = (workspace, user);
        let now = Instant::now();
        if let Some((auth, until)) =
            self.inner.cache.lock().unwrap_or_else(|p| p.into_inner()).entries.get(&key).cloned()
            && now < until
        {
            return Resolution::Found(auth);
        }
        let (workspace, user) = key.clone();
        let mut refreshed = false;
        let (installation, now_ms, expires_ms) = loop {
            let found = match self.inner.store.find(workspace.clone(), user.clone()).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(error = %e, "the installation store failed: the request is not handled");
                    return Resolution::Missing;
                }
            };
            let Some(installation) = found else { return self.missing(&workspace) };
            let Some(grant) = token_grant(&installation) else { return self.missing(&workspace) };
            let now_ms = now_ms();
            let expires_ms =
                grant.expires_at.map(|s| s.saturating_mul(1000).saturating_sub(EXPIRY_SAFETY_MS));
            if expires_ms.is_none_or(|at| now_ms < at) {
                break (installation, now_ms, expires_ms);
            }
            // Not refreshed in time by the rotation task: refresh now (under the same lease),
            // then read the store again.
            if refreshed || self.inner.rotation.is_none() {
                tracing::error!(
                    ?workspace,
                    "the installation's token has expired and could not be refreshed: not handled"
                );
                return Resolution::Missing;
            }
            refreshed = true;
            let span = tracing::info_span!("refresh_on_demand", ?workspace);
            let result = tracing::Instrument::instrument(refresh_now(self, &workspace, &user), span).await;
            if let Err(e) = result {
                tracing::error!(?workspace, error = %e, "the installation's token has expired and the refresh failed: not handled");
                return Resolution::Missing;
            }
            self.evict(&workspace);
        };
        let Some(grant) = token_grant(&installation) else { return self.missing(&workspace) };
        let Some(base) = self.inner.web.get() else { return Resolution::Missing };
        let source: crate::web::TokenSource = {
            // Weak: the cache holds this client; the client must not hold the cache up.
            let weak = Arc::downgrade(&self.inner);
            let (ws, user) = key.clone();
            Arc::new(move || {
                let (weak, ws, user) = (weak.clone(), ws.clone(), user.clone());
                Box::pin(async move {
                    let this = Installations { inner: weak.upgrade()? };
                    this.evict(&ws);
                    let auth = this.authorized(ws, user).await?;
                    let grant = token_grant(&auth.installation)?;
                    Some((grant.token.clone(), grant.expires_at.map(|s| s.saturating_mul(1000))))
                })
            })
        };
        let web = match base.with_rotating_token(
            grant.token.clone(),
            grant.expires_at.map(|s| s.saturating_mul(1000)),
            source,
        ) {
            Ok(web) => web,
            Err(e) => {
                tracing::warn!(error = %e, "the installation's token cannot call the Web API");
                return Resolution::Missing;
            }
        };
        let auth = Arc::new(Authorized { installation, workspace, web });
        let mut until = now + self.inner.ttl;
        if let Some(at) = expires_ms {
            until = until.min(now + Duration::from_millis(at.saturating_sub(now_ms)));
        }
        self.insert(key, auth.clone(), until);
        Resolution::Found(auth)
    }

    fn insert(&self, key: CacheKey, auth: Arc<Authorized>, until: Instant) {
        let mut cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.entries.insert(key.clone(), (auth, until)).is_none() {
            cache.order.push_back(key);
        }
        while cache.entries.len() > self.inner.capacity {
            let Some(oldest) = cache.order.pop_front() else { break };
            cache.entries.remove(&oldest);
        }
    }

    fn missing(&self, workspace: &Workspace) -> Resolution {
        let first = {
            let mut seen = self.inner.missing.lock().unwrap_or_else(|p| p.into_inner());
            if seen.len() >= MISSING_REMEMBERED && !seen.contains(workspace) {
                seen.clear();
            }
            seen.insert(workspace.clone())
        };
        if first {
            tracing::warn!(
                ?workspace,
                "a request from a workspace with no installation: acked, not handled (reported once)"
            );
            if let Some(f) = &self.inner.on_missing {
                f(workspace);
            }
        }
        Resolution::Missing
    }

    /// Resolves a request: deletes what `app_uninstalled` and `tokens_revoked` concern, finds
    /// the installation of anything else.
    pub(crate) async fn resolve(&self, kind: &RequestKind, meta: &Meta, body: &Value) -> Resolution {
        let Some(workspace) = workspace_of(meta, body) else { return Resolution::NotNeeded };
        if *kind == RequestKind::EventsApi {
            match meta.subkind.as_deref() {
                Some("app_uninstalled") => {
                    self.delete(&workspace, None).await;
                    return Resolution::NotNeeded;
                }
                Some("tokens_revoked") => {
                    self.delete(&workspace, Some(body)).await;
                    return Resolution::NotNeeded;
                }
                _ => {}
            }
        }
        self.find(workspace, meta.user_id.clone().map(UserId::from)).await
    }

    /// `app_uninstalled` (`revoked: None`): every row; `tokens_revoked`: the bot row when bot
    /// tokens were revoked, each user's row for their tokens.
    async fn delete(&self, workspace: &Workspace, revoked: Option<&Value>) {
        let store = &self.inner.store;
        let result = match revoked {
            None => store.delete(workspace.clone(), None).await.map(|n| (n, "app_uninstalled")),
            Some(body) => {
                let ids = |which: &str| -> Vec<String> {
                    body.pointer(&format!("/event/tokens/{which}"))
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                        .unwrap_or_default()
                };
                let mut n = 0;
                let mut result = Ok(());
                if !ids("bot").is_empty() {
                    match store.delete_bot(workspace.clone()).await {
                        Ok(k) => n += k,
                        Err(e) => result = Err(e),
                    }
                }
                for user in ids("oauth") {
                    match store.delete(workspace.clone(), Some(UserId::from(user))).await {
                        Ok(k) => n += k,
                        Err(e) => result = Err(e),
                    }
                }
                result.map(|()| (n, "tokens_revoked"))
            }
        };
        self.evict(workspace);
        match result {
            Ok((rows, why)) => tracing::info!(?workspace, rows, "{why}: installations deleted"),
            Err(e) => tracing::error!(?workspace, error = %e, "could not delete the installations"),
        }
    }
}
