//! Token rotation: a task per app refreshing rotating tokens before they expire, once across
//! every instance sharing the store.
//!
//! Each tick it lists the installations; for each one whose soonest rotating token is due
//! (the codec's [`Rotation`] rule: `margin` before expiry, backoff after failures), it takes
//! the workspace's lease in the store, **reads the installation again** (another instance may
//! have refreshed it meanwhile: then there is nothing to do), refreshes what is still due,
//! saves under the lease (the store's fencing check: a lease lost meanwhile writes nothing),
//! and gives the lease back.

use super::authorize::Installations;
use super::{Installation, Lease, Workspace, now_ms};
use slack_rtm_codec::oauth::{AfterFailure, OAuthError, RefreshStep, Rotation, parse_access_response};
use slack_rtm_types::UserId;
use slack_rtm_types::oauth::Grant;
use std::collections::HashMap;
use std::time::Duration;

type Key = (Workspace, Option<UserId>);

pub(crate) struct Rotator {
    installations: Installations,
    schedules: HashMap<Key, Rotation>,
    holder: u64,
}

/// The soonest expiry (Unix ms) of the installation's rotating tokens.
fn soonest_expiry(i: &Installation) -> Option<u64> {
    grants(i)
        .filter(|g| g.refresh_token.is_some())
        .filter_map(|g| g.expires_at)
        .min()
        .map(|s| s.saturating_mul(1000))
}

fn grants(i: &Installation) -> impl Iterator<Item = &Grant> {
    let bot = i.bot.as_ref().map(|b| &b.grant);
    let user = i.user.as_ref().and_then(|u| u.grant.as_ref());
    bot.into_iter().chain(user)
}

/// Why a refresh failed.
#[derive(Debug)]
pub(crate) enum RefreshError {
    OAuth(OAuthError),
    Transport(String),
    Store(String),
}

impl std::fmt::Display for RefreshError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OAuth(e) => write!(f, "{e}"),
            Self::Transport(e) => write!(f, "oauth.v2.access could not be reached: {e}"),
            Self::Store(e) => write!(f, "{e}"),
        }
    }
}

impl Rotator {
    pub(crate) fn new(installations: Installations) -> Rotator {
        Rotator { installations, schedules: HashMap::new(), holder: new_holder() }
    }

    fn policy(&self) -> Option<slack_rtm_codec::oauth::RotationPolicy> {
        self.installations.inner.rotation.as_ref().map(|(_, p)| *p)
    }

    pub(crate) async fn run(mut self) {
        let Some(policy) = self.policy() else { return };
        let tick = (policy.margin / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            // The app (and every clone of its installations) is gone: stop.
            if std::sync::Arc::strong_count(&self.installations.inner) <= 1 {
                return;
            }
            self.tick(policy).await;
        }
    }

    async fn tick(&mut self, policy: slack_rtm_codec::oauth::RotationPolicy) {
        let list = match self.installations.inner.store.list().await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(error = %e, "token rotation: the store could not be listed");
                return;
            }
        };
        let now = now_ms();
        let mut seen = Vec::new();
        for installation in list {
            let key: Key = (Workspace::of(&installation), installation.user_id().cloned());
            seen.push(key.clone());
            let schedule = *self.schedules.entry(key.clone()).or_insert_with(|| Rotation::new(policy));
            if schedule.step(soonest_expiry(&installation), now) != RefreshStep::Refresh {
                continue;
            }
            let span = tracing::info_span!("refresh", workspace = ?key.0);
            let result = tracing::Instrument::instrument(self.refresh(&key, policy), span).await;
            let Some(schedule) = self.schedules.get_mut(&key) else { continue };
            match result {
                Ok(()) => schedule.succeeded(),
                Err(e) => match schedule.failed(now_ms()) {
                    AfterFailure::Retry { at } => {
                        tracing::info!(workspace = ?key.0, error = %e, retry_in_ms = at.saturating_sub(now_ms()), "token refresh failed; retrying")
                    }
                    AfterFailure::GiveUp { .. } => tracing::error!(
                        workspace = ?key.0, error = %e, failures = schedule.failures(),
                        "token refresh keeps failing: the old token is used until it expires"
                    ),
                    _ => {}
                },
            }
        }
        self.schedules.retain(|k, _| seen.contains(k));
    }

    /// Refreshes what is due in one installation, under the workspace's lease.
    async fn refresh(
        &mut self,
        (workspace, user): &Key,
        policy: slack_rtm_codec::oauth::RotationPolicy,
    ) -> Result<(), RefreshError> {
        self.holder = self.holder.wrapping_add(1);
        let holder = format!("{:016x}", self.holder);
        refresh_once(&self.installations, workspace, user, holder, policy).await.map(|_| ())
    }
}

/// A lease holder distinct per instance and attempt (not a secret).
fn new_holder() -> u64 {
    let mut random = [0u8; 8];
    match super::secure_random(&mut random) {
        Ok(()) => u64::from_le_bytes(random),
        Err(_) => now_ms() ^ (u64::from(std::process::id()) << 32),
    }
}

/// How long a request waits for an on-demand refresh (the lease, the store, `oauth.v2.access`):
/// well within Slack's 3 s for an ack.
pub(crate) const ON_DEMAND_BUDGET: Duration = Duration::from_millis(2000);
/// How often a request whose workspace's lease another instance holds tries again.
const LEASE_POLL: Duration = Duration::from_millis(50);

/// Refreshes the installation a request found with an expired token (the rotation task did not
/// in time): under the workspace's lease, as the task does, reading the store again once the
/// lease is taken (a refresh done by another instance meanwhile is used, not repeated). Waits
/// for another instance holding the lease; gives up after [`ON_DEMAND_BUDGET`].
pub(crate) async fn refresh_now(
    installations: &Installations,
    workspace: &Workspace,
    user: &Option<UserId>,
) -> Result<(), RefreshError> {
    let Some((_, policy)) = installations.inner.rotation.as_ref() else {
        return Err(RefreshError::Store("token rotation is off".into()));
    };
    let policy = *policy;
    let attempt = async {
        loop {
            let holder = format!("{:016x}", new_holder());
            if refresh_once(installations, workspace, user, holder, policy).await? {
                return Ok(());
            }
            tokio::time::sleep(LEASE_POLL).await;
        }
    };
    tokio::time::timeout(ON_DEMAND_BUDGET, attempt)
        .await
        .unwrap_or_else(|_| Err(RefreshError::Transport("no refresh within the ack deadline".into())))
}

/// Takes the workspace's lease and refreshes what is due: `Ok(false)` when another instance
/// holds the lease (nothing done).
async fn refresh_once(
    installations: &Installations,
    workspace: &Workspace,
    user: &Option<UserId>,
    holder: String,
    policy: slack_rtm_codec::oauth::RotationPolicy,
) -> Result<bool, RefreshError> {
    let store = installations.inner.store.clone();
    let lease = Lease { name: Lease::refresh_of(workspace, None), holder };
    let ttl = (policy.margin / 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
    let taken = store.try_lease(lease.clone(), ttl).await.map_err(|e| RefreshError::Store(e.to_string()))?;
    if !taken {
        tracing::debug!("another instance is refreshing this workspace");
        return Ok(false);
    }
    let result = refresh_leased(installations, workspace, user, &lease, policy).await;
    if let Err(e) = store.release_lease(lease).await {
        tracing::warn!(error = %e, "token rotation: the lease could not be given back (it runs out)");
    }
    result.map(|()| true)
}

async fn refresh_leased(
    installations: &Installations,
    workspace: &Workspace,
    user: &Option<UserId>,
    lease: &Lease,
    policy: slack_rtm_codec::oauth::RotationPolicy,
) -> Result<(), RefreshError> {
    let inner = &installations.inner;
    let store = &inner.store;
    // Read again under the lease: another instance may have refreshed it already.
    let current =
        store.find(workspace.clone(), user.clone()).await.map_err(|e| RefreshError::Store(e.to_string()))?;
    let Some(mut installation) = current else { return Ok(()) };
    let (Some((client, _)), Some(web)) = (inner.rotation.as_ref(), inner.web.get()) else {
        return Ok(());
    };
    let margin = policy.margin.as_secs().max(1);
    let due: Vec<Grant> =
        grants(&installation).filter(|g| g.needs_refresh(now_ms() / 1000, margin)).cloned().collect();
    if due.is_empty() {
        tracing::debug!("already refreshed by another instance");
        return Ok(());
    }
    for grant in due {
        let Some(refresh_token) = &grant.refresh_token else { continue };
        let request = client.refresh_request(refresh_token).map_err(RefreshError::OAuth)?;
        let response =
            web.transport().send_boxed(request).await.map_err(|e| RefreshError::Transport(e.to_string()))?;
        let answer = parse_access_response(&response).map_err(RefreshError::OAuth)?;
        if !installation.apply_refresh(answer, now_ms() / 1000) {
            return Err(RefreshError::OAuth(OAuthError::Build(
                "the refresh answer named no token of this installation".into(),
            )));
        }
    }
    let saved = store
        .save_leased(lease.clone(), installation)
        .await
        .map_err(|e| RefreshError::Store(e.to_string()))?;
    if !saved {
        return Err(RefreshError::Store("the lease was lost before the refreshed tokens were saved".into()));
    }
    installations.evict(workspace);
    tracing::info!("tokens refreshed");
    Ok(())
}
