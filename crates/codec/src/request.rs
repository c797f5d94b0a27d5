use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT as UA};
use http::{Method, Request, Uri};
use slack_rtm_types::{ConnectOptions, Token};
use std::fmt;

/// The default Web API base.
pub const DEFAULT_API_BASE: &str = "https://slack.com/api/";

/// The `User-Agent` sent with every call: the crate and its version.
pub const USER_AGENT: &str = concat!("slack-rtm/", env!("CARGO_PKG_VERSION"), " (slack-rtm-codec)");

/// A Web API base URL such as `https://slack.com/api/`, checked once.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiBase {
    /// Always ends with `/`.
    base: String,
    secure: bool,
}

impl ApiBase {
    /// Parses a base URL. `https://` is required unless `allow_insecure` is set, which also
    /// permits `http://` (for a local emulator). A missing trailing `/` is added.
    pub fn parse(url: &str, allow_insecure: bool) -> Result<Self, BuildError> {
        let uri: Uri =
            url.parse().map_err(|_| BuildError::InvalidApiBase { reason: "not a valid absolute URL" })?;
        let secure = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if allow_insecure => false,
            Some("http") => return Err(BuildError::InsecureApiBase),
            _ => {
                return Err(BuildError::InvalidApiBase {
                    reason: "the scheme must be https (or http with the insecure option)",
                });
            }
        };
        if uri.host().is_none() {
            return Err(BuildError::InvalidApiBase { reason: "the URL has no host" });
        }
        if uri.query().is_some() {
            return Err(BuildError::InvalidApiBase { reason: "the URL must not have a query" });
        }
        if matches!(uri.path(), "" | "/") {
            // Every method lives under a path (Slack's `/api/`): a bare host answers 404s.
            let suggestion = format!("{}/api/", url.trim_end_matches('/'));
            return Err(BuildError::ApiBaseWithoutPath { suggestion });
        }
        let mut base = url.to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        Ok(Self { base, secure })
    }

    /// The base, ending with `/`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Whether the base is `https://`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The URL of a Web API method under this base.
    pub fn method_url(&self, method: &str) -> String {
        format!("{}{}", self.base, method)
    }
}

impl Default for ApiBase {
    fn default() -> Self {
        Self { base: DEFAULT_API_BASE.to_owned(), secure: true }
    }
}

impl fmt::Debug for ApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiBase({:?})", self.base)
    }
}

impl fmt::Display for ApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

/// How to send `rtm.connect`: `GET` (Slack's preferred) with the arguments in the query string,
/// or `POST` with a form body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpMethod {
    /// `GET` with a query string.
    #[default]
    Get,
    /// `POST` with an `application/x-www-form-urlencoded` body (no charset).
    Post,
}

/// A request that could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The API base URL is unusable.
    #[error("invalid API base URL: {reason}")]
    InvalidApiBase {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An `http://` API base without the explicit insecure option.
    #[error(
        "refusing a plain http:// API base: allow it explicitly with the insecure option \
         (allow_insecure), only for a local emulator"
    )]
    InsecureApiBase,
    /// An API base with no path, such as `http://127.0.0.1:8080`: the methods live under
    /// `/api/`.
    #[error("the API URL has no path: did you mean {suggestion}?")]
    ApiBaseWithoutPath {
        /// The URL with `/api/` added.
        suggestion: String,
    },
    /// The token is empty or not a valid header value.
    #[error("the token is empty or contains characters not allowed in an HTTP header")]
    InvalidToken,
}

/// Everything needed to call `rtm.connect` and judge its answer, except the token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectConfig {
    /// Where the Web API lives.
    pub api_base: ApiBase,
    /// `batch_presence_aware` and `presence_sub`, sent on every call.
    pub options: ConnectOptions,
    /// `GET` or `POST`.
    pub method: HttpMethod,
    /// Allow a `ws://` socket URL (only when the API base itself is `http://`: a secure API
    /// base never accepts a downgrade).
    pub allow_insecure: bool,
}

impl ConnectConfig {
    /// A config for another API base (e.g. a local emulator). `http://` needs `allow_insecure`,
    /// which then also allows a `ws://` socket URL from that server.
    pub fn with_api_base(api_base: &str, allow_insecure: bool) -> Result<Self, BuildError> {
        Ok(Self { api_base: ApiBase::parse(api_base, allow_insecure)?, allow_insecure, ..Self::default() })
    }

    /// The form-encoded arguments (never the token).
    pub fn form_args(&self) -> String {
        format!(
            "batch_presence_aware={}&presence_sub={}",
            self.options.batch_presence_aware, self.options.presence_sub
        )
    }

    /// Builds the `rtm.connect` request. The token goes only in `Authorization: Bearer`, marked
    /// sensitive so `http`'s `Debug` hides it.
    pub fn build_request(&self, token: &Token) -> Result<Request<Vec<u8>>, BuildError> {
        let url = self.api_base.method_url("rtm.connect");
        let builder = api_request(token.expose_secret())?;
        let built = match self.method {
            HttpMethod::Get => {
                builder.method(Method::GET).uri(format!("{url}?{}", self.form_args())).body(Vec::new())
            }
            HttpMethod::Post => builder
                .method(Method::POST)
                .uri(url)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(self.form_args().into_bytes()),
        };
        built.map_err(|_| BuildError::InvalidApiBase { reason: "the method URL is not a valid URI" })
    }
}

/// A Web API request builder with the token in `Authorization: Bearer` (marked sensitive, so
/// `http`'s `Debug` hides it), the `User-Agent` and `Accept: application/json`.
pub(crate) fn api_request(secret: &str) -> Result<http::request::Builder, BuildError> {
    if secret.is_empty() {
        return Err(BuildError::InvalidToken);
    }
    let mut auth = HeaderValue::try_from(format!("Bearer {secret}")).map_err(|_| BuildError::InvalidToken)?;
    auth.set_sensitive(true);
    Ok(Request::builder()
        .header(AUTHORIZATION, auth)
        .header(UA, USER_AGENT)
        .header(ACCEPT, "application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "xoxb-111-222-SeCrEtToKeN";

    fn all_text(req: &Request<Vec<u8>>) -> Vec<(String, String)> {
        let mut out = vec![("uri".into(), req.uri().to_string())];
        out.push(("body".into(), String::from_utf8_lossy(req.body()).into_owned()));
        for (k, v) in req.headers() {
            out.push((k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()));
        }
        out
    }

    #[test]
    fn get_puts_args_in_query_and_token_only_in_authorization() {
        let cfg = ConnectConfig {
            options: ConnectOptions { batch_presence_aware: true, presence_sub: false },
            ..ConnectConfig::default()
        };
        let req = cfg.build_request(&Token::new(SECRET)).unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri().scheme_str(), Some("https"));
        assert_eq!(req.uri().host(), Some("slack.com"));
        assert_eq!(req.uri().path(), "/api/rtm.connect");
        assert_eq!(req.uri().query(), Some("batch_presence_aware=true&presence_sub=false"));
        assert!(req.body().is_empty());
        assert!(req.headers().get(CONTENT_TYPE).is_none());
        assert_eq!(req.headers()[AUTHORIZATION], format!("Bearer {SECRET}").as_str());
        assert!(req.headers()[AUTHORIZATION].is_sensitive());
        assert!(req.headers()[UA].to_str().unwrap().contains(env!("CARGO_PKG_VERSION")));
        for (place, text) in all_text(&req) {
            if place != "authorization" {
                assert!(!text.contains("SeCrEt"), "token leaked into {place}");
            }
        }
        assert!(!format!("{req:?}").contains("SeCrEt"), "token visible in Debug");
    }

    #[test]
    fn post_uses_form_body_without_charset() {
        let cfg = ConnectConfig { method: HttpMethod::Post, ..ConnectConfig::default() };
        let req = cfg.build_request(&Token::new(SECRET)).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri().query(), None);
        assert_eq!(req.headers()[CONTENT_TYPE], "application/x-www-form-urlencoded");
        assert_eq!(req.body(), b"batch_presence_aware=false&presence_sub=true");
        for (place, text) in all_text(&req) {
            if place != "authorization" {
                assert!(!text.contains("SeCrEt"), "token leaked into {place}");
            }
        }
    }

    #[test]
    fn api_base_rules() {
        assert!(matches!(ApiBase::parse("http://127.0.0.1:1/api", false), Err(BuildError::InsecureApiBase)));
        let b = ApiBase::parse("http://127.0.0.1:1/api", true).unwrap();
        assert_eq!(b.as_str(), "http://127.0.0.1:1/api/");
        assert!(!b.is_secure());
        assert!(ApiBase::parse("ftp://x/", true).is_err());
        assert!(ApiBase::parse("not a url", true).is_err());
        assert!(ApiBase::parse("https://x/api/?a=1", true).is_err());
        for bare in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
            let e = ApiBase::parse(bare, true).unwrap_err();
            assert_eq!(e.to_string(), "the API URL has no path: did you mean http://127.0.0.1:8080/api/?");
        }
        let cfg = ConnectConfig::with_api_base("http://127.0.0.1:9/api/", true).unwrap();
        let req = cfg.build_request(&Token::new("xoxb-1")).unwrap();
        assert_eq!(
            req.uri().to_string(),
            "http://127.0.0.1:9/api/rtm.connect?batch_presence_aware=false&presence_sub=true"
        );
    }

    #[test]
    fn bad_tokens_are_refused_without_echoing_them() {
        let cfg = ConnectConfig::default();
        assert_eq!(cfg.build_request(&Token::new("")).unwrap_err(), BuildError::InvalidToken);
        let err = cfg.build_request(&Token::new("xoxb-bad\u{7}SeCrEt")).unwrap_err();
        assert_eq!(err, BuildError::InvalidToken);
        assert!(!err.to_string().contains("SeCrEt"));
    }
}
