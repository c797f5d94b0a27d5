//! OAuth v2 installs, sans-IO: the authorize URL, the signed single-use `state`
//! ([`StateSigner`], [`StateLedger`]), the redirect's query ([`parse_redirect`]) and the
//! `oauth.v2.access` request for a code or a refresh token and its answer
//! ([`OAuthClient`]). Every failure is a typed [`OAuthError`]; the client secret travels only in
//! the `Authorization: Basic` header (marked sensitive) and is never in a URL, log or error.

mod b64;
mod cookie;
mod rotation;
mod state;

pub use rotation::{AfterFailure, RefreshStep, Rotation, RotationPolicy};

pub use cookie::{BROWSER_COOKIE, browser_cookie, clear_browser_cookie, set_browser_cookie};
pub use state::{STATE_TTL, StateLedger, StateSecret, StateSigner, VerifiedState};

use crate::ApiCallError;
use crate::request::{ApiBase, USER_AGENT};
use crate::web::parse_web_response;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT as UA};
use http::{HeaderValue, Method, Request, Response};
use slack_rtm_types::Token;
use slack_rtm_types::oauth::OAuthV2Access;
use std::fmt;

/// A nonce (or browser id) for [`StateSigner::issue`] and [`set_browser_cookie`] from random
/// bytes the caller got from a secure generator (16 to 48 bytes: 22 to 64 characters of
/// `[A-Za-z0-9_-]`). Sans-IO: the randomness is passed in.
pub fn nonce_from_random(random: &[u8]) -> Result<String, OAuthError> {
    if !(16..=48).contains(&random.len()) {
        return Err(OAuthError::BadNonce);
    }
    Ok(b64::url_safe(random))
}

/// The method that exchanges a code or a refresh token.
pub const ACCESS_METHOD: &str = "oauth.v2.access";

/// An app's client secret (Basic Information → App Credentials): redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a client secret (surrounding whitespace removed).
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into().trim().to_owned())
    }
    /// The secret: used only for the Basic auth header.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(…redacted)")
    }
}

/// Why an install or a refresh failed. Never holds a secret.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The user cancelled on Slack's authorize page (`error=access_denied`).
    #[error("the installation was cancelled (access_denied)")]
    AccessDenied,
    /// Slack's authorize page redirected with another error.
    #[error("Slack's authorize page answered `{0}`")]
    Authorize(String),
    /// The redirect carried no `code`.
    #[error("the redirect carried no code")]
    MissingCode,
    /// The redirect carried no `state`.
    #[error("the redirect carried no state")]
    MissingState,
    /// No browser cookie came with the redirect: the install was not started in this browser.
    #[error("the install was not started in this browser (no state cookie)")]
    StateNoBrowser,
    /// The state was not issued by this app for this browser (or was changed).
    #[error("the state is forged or was issued to another browser")]
    StateForged,
    /// The state is older than 10 minutes.
    #[error("the state has expired (installs must finish within 10 minutes)")]
    StateExpired,
    /// The state was used already.
    #[error("the state was used already")]
    StateReused,
    /// Too many installs in flight at once (the single-use ledger is full).
    #[error("too many installs in flight; try again in a few minutes")]
    TooManyPendingStates,
    /// A nonce outside `[A-Za-z0-9_-]{16,64}`.
    #[error("a state nonce must be 16 to 64 characters of [A-Za-z0-9_-]")]
    BadNonce,
    /// `invalid_code`: the code is unknown, used or expired.
    #[error("oauth.v2.access: the code is invalid, used or expired (invalid_code)")]
    InvalidCode,
    /// `invalid_client_id`.
    #[error("oauth.v2.access: the client id is wrong (invalid_client_id)")]
    InvalidClientId,
    /// `bad_client_secret`.
    #[error("oauth.v2.access: the client secret is wrong (bad_client_secret)")]
    BadClientSecret,
    /// `invalid_refresh_token`: unknown, used already or revoked.
    #[error("oauth.v2.access: the refresh token is invalid, used or revoked (invalid_refresh_token)")]
    InvalidRefreshToken,
    /// `bad_redirect_uri`: not the one the authorize step used.
    #[error("oauth.v2.access: the redirect_uri does not match (bad_redirect_uri)")]
    BadRedirectUri,
    /// Another failure of `oauth.v2.access` (another code, a 5xx, a 429, not JSON…).
    #[error(transparent)]
    Api(std::sync::Arc<ApiCallError>),
    /// The request could not be built (e.g. an empty client id).
    #[error("oauth.v2.access request: {0}")]
    Build(String),
}

impl OAuthError {
    /// The short machine-readable reason (for a failure page or a metric).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::AccessDenied => "access_denied",
            Self::Authorize(_) => "authorize_error",
            Self::MissingCode => "missing_code",
            Self::MissingState => "missing_state",
            Self::StateNoBrowser => "state_no_browser",
            Self::StateForged => "state_forged",
            Self::StateExpired => "state_expired",
            Self::StateReused => "state_reused",
            Self::TooManyPendingStates => "too_many_pending_states",
            Self::BadNonce => "bad_nonce",
            Self::InvalidCode => "invalid_code",
            Self::InvalidClientId => "invalid_client_id",
            Self::BadClientSecret => "bad_client_secret",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::BadRedirectUri => "bad_redirect_uri",
            Self::Api(_) => "api_error",
            Self::Build(_) => "build_error",
        }
    }
}

/// What Slack's authorize page sent back to the redirect URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The temporary code to exchange.
    pub code: String,
    /// The state to check.
    pub state: String,
}

/// Reads the redirect's query string (without `?`): `error=access_denied` (or another error)
/// first, then `code` and `state`.
pub fn parse_redirect(query: &str) -> Result<Redirect, OAuthError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| OAuthError::MissingCode)?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    match get("error").as_deref() {
        Some("access_denied") => return Err(OAuthError::AccessDenied),
        Some(other) => return Err(OAuthError::Authorize(other.chars().take(64).collect())),
        None => {}
    }
    let state = get("state").ok_or(OAuthError::MissingState)?;
    let code = get("code").ok_or(OAuthError::MissingCode)?;
    Ok(Redirect { code, state })
}

/// An app's OAuth settings, and the requests they give.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: ClientSecret,
    /// Bot scopes to ask for.
    pub scopes: Vec<String>,
    /// User scopes to ask for.
    pub user_scopes: Vec<String>,
    /// The redirect URI (must be one of the app's; `None`: the app's only one).
    pub redirect_uri: Option<String>,
    /// The Web API base; the authorize page is at its origin.
    pub api_base: ApiBase,
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

impl OAuthClient {
    /// The authorize page's URL: the API base's origin + `/oauth/v2/authorize`
    /// (`https://slack.com/api/` gives `https://slack.com/oauth/v2/authorize`).
    pub fn authorize_page(&self) -> String {
        format!("{}/oauth/v2/authorize", origin(self.api_base.as_str()))
    }

    /// Where `/slack/install` sends the browser: the authorize page with `client_id`, `scope`,
    /// `user_scope`, `redirect_uri` (if set) and `state`.
    pub fn authorize_url(&self, state: &str) -> String {
        let mut query: Vec<(&str, String)> = vec![
            ("client_id", self.client_id.clone()),
            ("scope", self.scopes.join(",")),
            ("user_scope", self.user_scopes.join(",")),
        ];
        if let Some(uri) = &self.redirect_uri {
            query.push(("redirect_uri", uri.clone()));
        }
        query.push(("state", state.to_owned()));
        // Strings only: encoding cannot fail.
        let query = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!("{}?{query}", self.authorize_page())
    }

    fn access_request(&self, form: &[(&str, &str)]) -> Result<Request<Vec<u8>>, OAuthError> {
        if self.client_id.is_empty() || self.client_secret.0.is_empty() {
            return Err(OAuthError::Build("the client id and secret must not be empty".into()));
        }
        let basic = b64::standard(format!("{}:{}", self.client_id, self.client_secret.0).as_bytes());
        let mut auth = HeaderValue::try_from(format!("Basic {basic}"))
            .map_err(|_| OAuthError::Build("the client id is not a header value".into()))?;
        auth.set_sensitive(true);
        let body = serde_urlencoded::to_string(form).map_err(|e| OAuthError::Build(e.to_string()))?;
        Request::builder()
            .method(Method::POST)
            .uri(self.api_base.method_url(ACCESS_METHOD))
            .header(AUTHORIZATION, auth)
            .header(UA, USER_AGENT)
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.into_bytes())
            .map_err(|_| OAuthError::Build("the API base gives no valid URI".into()))
    }

    /// `oauth.v2.access` for the redirect's `code` (with the same `redirect_uri` as the
    /// authorize step, when one is set).
    pub fn code_request(&self, code: &str) -> Result<Request<Vec<u8>>, OAuthError> {
        let mut form = vec![("code", code)];
        if let Some(uri) = &self.redirect_uri {
            form.push(("redirect_uri", uri));
        }
        self.access_request(&form)
    }

    /// `oauth.v2.access` with `grant_type=refresh_token` for a rotating token.
    pub fn refresh_request(&self, refresh_token: &Token) -> Result<Request<Vec<u8>>, OAuthError> {
        self.access_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ])
    }
}

/// Reads an `oauth.v2.access` answer (code exchange or refresh).
pub fn parse_access_response<B: AsRef<[u8]>>(response: &Response<B>) -> Result<OAuthV2Access, OAuthError> {
    let answer = parse_web_response(ACCESS_METHOD, response).map_err(map_web_error)?;
    answer.parse().map_err(|e| OAuthError::Api(std::sync::Arc::new(e)))
}

fn map_web_error(e: ApiCallError) -> OAuthError {
    match e.api_error().map(|a| a.as_str()) {
        Some("invalid_code") => OAuthError::InvalidCode,
        Some("invalid_client_id") => OAuthError::InvalidClientId,
        Some("bad_client_secret") => OAuthError::BadClientSecret,
        Some("invalid_refresh_token") => OAuthError::InvalidRefreshToken,
        Some("bad_redirect_uri") => OAuthError::BadRedirectUri,
        _ => OAuthError::Api(std::sync::Arc::new(e)),
    }
}
