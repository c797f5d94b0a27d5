//! Many workspaces: an [`App`](crate::App) installed through Slack's OAuth v2 flow, one token
//! per workspace (per org for an org-wide install), the right one for every request, and
//! rotating tokens refreshed before they expire.
//!
//! - [`Installations`] (given to [`App::installations`](crate::App::installations)): each
//!   request's installation from an [`InstallationStore`] through a bounded cache; its
//!   [`Context::web`](crate::app::Context::web) carries that workspace's token. Uninstalls and
//!   revocations delete what they concern. With [`Installations::rotate`], a task refreshes
//!   rotating tokens `margin` before they expire, once across every instance sharing the
//!   store (a lease in the store; the installation read again once the lease is taken; the
//!   save fenced by the lease), retrying with backoff (the codec's [`RotationPolicy`]).
//! - [`InstallConfig`] (given to [`HttpConfig::install`](crate::app::http::HttpConfig::install),
//!   feature `hyper`): `/slack/install` and `/slack/oauth_redirect` on the app's HTTP server,
//!   with a signed, single-use, 10-minute state bound to the browser by a cookie.
//!
//! The stores: `slack_rtm_oauth::SqliteInstallationStore` (one file) and
//! `slack_rtm_fleet::RedisInstallationStore` (shared by instances). See `docs/oauth.md`.

mod authorize;
#[cfg(feature = "hyper")]
mod install;
mod rotate;

pub(crate) use authorize::Resolution;
pub use authorize::{
    Authorized, DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_TTL, Installations, request_workspace,
};
#[cfg(feature = "hyper")]
pub use install::{
    DEFAULT_INSTALL_PATH, DEFAULT_REDIRECT_PATH, DefaultPages, InstallConfig, InstallError, InstallFlow,
    InstallPages,
};
pub use slack_rtm_codec::oauth::{ClientSecret, OAuthClient, OAuthError, RotationPolicy, StateSecret};
pub use slack_rtm_oauth::{InstallationStore, Lease, StoreError, Workspace};
pub use slack_rtm_types::oauth::Installation;

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Fills `buf` from the TLS crypto provider's secure random generator (no new dependency).
pub(crate) fn secure_random(buf: &mut [u8]) -> Result<(), String> {
    #[cfg(feature = "hyper")]
    {
        let provider = slack_rtm_hyper::crypto_provider().map_err(|e| e.to_string())?;
        provider.secure_random.fill(buf).map_err(|_| "the crypto provider's generator failed".to_owned())
    }
    #[cfg(not(feature = "hyper"))]
    {
        let _ = buf;
        Err("no crypto provider (feature `hyper` is off)".to_owned())
    }
}
