//! The install flow's two pages on the HTTP receiver: `/slack/install` and
//! `/slack/oauth_redirect` ([`InstallConfig`], served by [`InstallFlow`]).

use super::authorize::Installations;
use super::{Installation, Workspace, now_ms, secure_random};
use crate::web::WebClient;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::{HeaderValue, Response, StatusCode};
use slack_rtm_codec::oauth::{
    OAuthClient, OAuthError, StateLedger, StateSecret, StateSigner, browser_cookie, clear_browser_cookie,
    nonce_from_random, parse_access_response, parse_redirect, set_browser_cookie,
};
use slack_rtm_hyper::server::PageHandler;
use slack_rtm_oauth::StoreError;
use slack_rtm_types::oauth::InstallationError;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// Bolt's path of the page that starts an install.
pub const DEFAULT_INSTALL_PATH: &str = "/slack/install";
/// Bolt's path of the page Slack redirects to.
pub const DEFAULT_REDIRECT_PATH: &str = "/slack/oauth_redirect";
/// States in flight at once in one process (each lives 10 minutes).
const LEDGER_CAPACITY: usize = 10_000;

/// Why an install failed (shown by the failure page). Never holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// The redirect, the state or `oauth.v2.access` refused it.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// `oauth.v2.access` could not be reached.
    #[error("oauth.v2.access could not be reached: {0}")]
    Transport(#[source] slack_rtm_codec::TransportFailure),
    /// The answer cannot become an installation.
    #[error("{0}")]
    Installation(#[from] InstallationError),
    /// The store failed to save it.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No secure random generator for the state.
    #[error("no secure random generator: {0}")]
    Random(String),
}

impl InstallError {
    /// A short machine-readable reason (`access_denied`, `state_reused`, `invalid_code`, …).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::OAuth(e) => e.reason(),
            Self::Transport(_) => "oauth_unreachable",
            Self::Installation(_) => "bad_installation",
            Self::Store(_) => "store_failed",
            Self::Random(_) => "no_random",
        }
    }
}

/// The pages that end an install. Replace them with [`InstallConfig::pages`].
pub trait InstallPages: Send + Sync + 'static {
    /// After the installation was saved.
    fn success(&self, installation: &Installation) -> Response<Bytes>;
    /// After a failure; nothing was saved.
    fn failure(&self, error: &InstallError) -> Response<Bytes>;
}

/// The default pages: short HTML, `200` on success, `400` (or `500` when the app failed) with
/// the reason on failure.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultPages;

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn html(status: StatusCode, body: String) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

impl InstallPages for DefaultPages {
    fn success(&self, installation: &Installation) -> Response<Bytes> {
        let name = installation
            .team_name
            .as_deref()
            .or(installation.enterprise_name.as_deref())
            .or(installation.team_id.as_ref().map(|t| t.as_str()))
            .unwrap_or("your workspace");
        html(
            StatusCode::OK,
            format!(
                "<!doctype html><title>Installed</title><h1>Installed</h1><p>The app is installed in {}.</p>",
                escape_html(name)
            ),
        )
    }

    fn failure(&self, error: &InstallError) -> Response<Bytes> {
        let status = match error {
            InstallError::OAuth(OAuthError::Api(_)) | InstallError::Transport(_) => StatusCode::BAD_GATEWAY,
            InstallError::OAuth(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        html(
            status,
            format!(
                "<!doctype html><title>Install failed</title><h1>The install failed</h1><p>{}</p><p>Reason: <code>{}</code></p>",
                escape_html(&error.to_string()),
                error.reason()
            ),
        )
    }
}

/// The install flow's settings: the app's OAuth client (client id and secret, scopes,
/// redirect URI, API base), the state secret, the paths, the pages, and where installations
/// go ([`Installations`]). Give it to
/// [`HttpConfig::install`](crate::app::http::HttpConfig::install).
#[derive(Clone)]
pub struct InstallConfig {
    pub(crate) client: OAuthClient,
    signer: StateSigner,
    pub(crate) install_path: String,
    pub(crate) redirect_path: String,
    pages: Arc<dyn InstallPages>,
    installations: Installations,
}

impl std::fmt::Debug for InstallConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallConfig")
            .field("client", &self.client)
            .field("install_path", &self.install_path)
            .field("redirect_path", &self.redirect_path)
            .finish_non_exhaustive()
    }
}

impl InstallConfig {
    /// With the app's OAuth client, the state secret (every instance that may receive the
    /// redirect needs the same one), and where installations are saved (the same
    /// [`Installations`] the app reads, so its cache is evicted on a new install).
    pub fn new(
        client: OAuthClient,
        state_secret: StateSecret,
        installations: &Installations,
    ) -> InstallConfig {
        InstallConfig {
            client,
            signer: StateSigner::new(state_secret),
            install_path: DEFAULT_INSTALL_PATH.to_owned(),
            redirect_path: DEFAULT_REDIRECT_PATH.to_owned(),
            pages: Arc::new(DefaultPages),
            installations: installations.clone(),
        }
    }

    /// The page that starts an install (default [`DEFAULT_INSTALL_PATH`]).
    pub fn install_path(mut self, path: impl Into<String>) -> InstallConfig {
        self.install_path = slash(path.into());
        self
    }

    /// The page Slack redirects to (default [`DEFAULT_REDIRECT_PATH`]); the redirect URI's path.
    pub fn redirect_path(mut self, path: impl Into<String>) -> InstallConfig {
        self.redirect_path = slash(path.into());
        self
    }

    /// The success and failure pages.
    pub fn pages(mut self, pages: impl InstallPages) -> InstallConfig {
        self.pages = Arc::new(pages);
        self
    }

    /// The flow, calling `oauth.v2.access` through `web`'s transport.
    pub fn into_flow(self, web: &WebClient) -> InstallFlow {
        let secure = cookie_secure(self.client.redirect_uri.as_deref());
        InstallFlow {
            inner: Arc::new(Flow {
                config: self,
                web: web.clone(),
                ledger: Mutex::new(StateLedger::new(LEDGER_CAPACITY)),
                secure,
            }),
        }
    }
}

fn slash(mut path: String) -> String {
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    path
}

/// `Secure` on the cookie unless the redirect URI is plain HTTP on a loopback host.
fn cookie_secure(redirect_uri: Option<&str>) -> bool {
    let Some(uri) = redirect_uri.and_then(|u| u.parse::<http::Uri>().ok()) else { return true };
    let loopback = uri.host().is_some_and(|h| {
        h == "localhost"
            || h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    });
    !(uri.scheme_str() == Some("http") && loopback)
}

struct Flow {
    config: InstallConfig,
    web: WebClient,
    ledger: Mutex<StateLedger>,
    secure: bool,
}

/// The install flow's pages, served by [`App::start_http`](crate::App::start_http) next to the
/// Request URL (or mounted by you: [`InstallFlow::answer`]). Cheap to clone.
#[derive(Clone)]
pub struct InstallFlow {
    inner: Arc<Flow>,
}

impl std::fmt::Debug for InstallFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallFlow").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

fn random_id() -> Result<String, InstallError> {
    let mut bytes = [0u8; 24];
    secure_random(&mut bytes).map_err(InstallError::Random)?;
    nonce_from_random(&bytes).map_err(InstallError::OAuth)
}

impl InstallFlow {
    /// Answers a `GET` to the install page or the redirect page; `None` for another path.
    pub async fn answer(&self, head: &http::request::Parts) -> Option<Response<Bytes>> {
        let path = head.uri.path();
        let config = &self.inner.config;
        if path == config.install_path {
            let span = tracing::info_span!("oauth_install");
            let _g = span.enter();
            Some(self.start())
        } else if path == config.redirect_path {
            let span = tracing::info_span!("oauth_redirect");
            let response = tracing::Instrument::instrument(self.finish(head), span).await;
            Some(response)
        } else {
            None
        }
    }

    /// `/slack/install`: a browser id in a cookie, a state bound to it, a redirect to Slack.
    fn start(&self) -> Response<Bytes> {
        let flow = &self.inner;
        let issued = (|| {
            let (browser, nonce) = (random_id()?, random_id()?);
            let state = flow.config.signer.issue(now_ms() / 1000, &nonce, &browser)?;
            let cookie = set_browser_cookie(&browser, flow.secure)?;
            Ok::<_, InstallError>((flow.config.client.authorize_url(&state), cookie))
        })();
        match issued {
            Ok((url, cookie)) => {
                let mut r = Response::new(Bytes::new());
                *r.status_mut() = StatusCode::FOUND;
                let h = r.headers_mut();
                if let (Ok(loc), Ok(cookie)) = (HeaderValue::try_from(url), HeaderValue::try_from(cookie)) {
                    h.insert(LOCATION, loc);
                    h.insert(SET_COOKIE, cookie);
                }
                h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                tracing::info!("install started: redirected to Slack's authorize page");
                r
            }
            Err(e) => self.failed(&e),
        }
    }

    /// `/slack/oauth_redirect`: the state, the code, the installation, a page.
    async fn finish(&self, head: &http::request::Parts) -> Response<Bytes> {
        match self.exchange(head).await {
            Ok(installation) => {
                tracing::info!(team = ?installation.team_id, enterprise = ?installation.enterprise_id, "installed");
                let mut r = self.inner.config.pages.success(&installation);
                self.clear_cookie(&mut r);
                r
            }
            Err(e) => self.failed(&e),
        }
    }

    fn failed(&self, e: &InstallError) -> Response<Bytes> {
        tracing::warn!(reason = e.reason(), "install failed: {e}");
        let mut r = self.inner.config.pages.failure(e);
        self.clear_cookie(&mut r);
        r
    }

    fn clear_cookie(&self, r: &mut Response<Bytes>) {
        if let Ok(v) = HeaderValue::try_from(clear_browser_cookie(self.inner.secure)) {
            r.headers_mut().append(SET_COOKIE, v);
        }
        r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }

    async fn exchange(&self, head: &http::request::Parts) -> Result<Installation, InstallError> {
        let flow = &self.inner;
        let redirect = parse_redirect(head.uri.query().unwrap_or(""))?;
        let now = now_ms() / 1000;
        let verified = flow.config.signer.verify(&redirect.state, browser_cookie(&head.headers), now)?;
        // Single-use across instances when the store keeps a shared ledger; else per process.
        let store = flow.config.installations.store();
        match store.consume_state(verified.nonce.clone(), verified.expires_at.saturating_mul(1000)).await? {
            Some(true) => {}
            Some(false) => return Err(OAuthError::StateReused.into()),
            None => flow.ledger.lock().unwrap_or_else(|p| p.into_inner()).consume(&verified, now)?,
        }
        let request = flow.config.client.code_request(&redirect.code)?;
        let response = flow.web.transport().send_boxed(request).await.map_err(InstallError::Transport)?;
        let answer = parse_access_response(&response)?;
        let mut installation = Installation::from_access(answer, now_ms() / 1000)?;
        if let Some(bot) = installation.bot.as_mut()
            && let Ok(web) = flow.web.with_token(bot.grant.token.clone())
            && let Ok(Ok(me)) = tokio::time::timeout(std::time::Duration::from_secs(5), web.auth_test()).await
        {
            bot.bot_id = me.bot_id;
        }
        let installations = &flow.config.installations;
        installations.store().save(installation.clone()).await?;
        installations.evict(&Workspace::of(&installation));
        Ok(installation)
    }
}

impl PageHandler for InstallFlow {
    fn page(
        &self,
        head: http::request::Parts,
    ) -> Pin<Box<dyn Future<Output = Option<Response<Bytes>>> + Send + '_>> {
        Box::pin(async move { self.answer(&head).await })
    }
}
