//! The proxy decision: whether a connection to `host:port` goes direct, through an HTTP
//! `CONNECT` proxy or through a SOCKS5 proxy.
//!
//! One [`Proxies`] value serves both the transport's HTTP requests and
//! [`crate::HyperTransport::dial`] (the WebSocket's byte stream), so both paths always take the
//! same route. Parsing proxy URLs (with their credentials) and matching `NO_PROXY` is
//! hyper-util's [`Matcher`]; this module only chooses the matcher's inputs (an explicit URL or
//! the environment), refuses the proxy URLs it cannot use, and turns a match into a [`Route`].

use crate::connector::ConnectorError;
use crate::error::TransportBuildError;
use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::Matcher;
use std::fmt;

/// Default port of an `http://` proxy URL without one.
const HTTP_PROXY_PORT: u16 = 80;
/// Default port of a `socks5://` / `socks5h://` proxy URL without one.
const SOCKS_PROXY_PORT: u16 = 1080;

/// The proxy settings of a transport: none, or a hyper-util [`Matcher`].
#[derive(Default)]
pub(crate) struct Proxies {
    matcher: Option<Matcher>,
}

/// How to reach one target.
pub(crate) enum Route {
    /// A direct TCP connection.
    Direct,
    /// A TCP connection to an HTTP proxy, turned into a tunnel with `CONNECT`.
    Http {
        /// The proxy, as the `http://host:port/` URI its TCP connection is opened with.
        proxy: Uri,
        /// `Proxy-Authorization: Basic …` (marked sensitive), from the proxy URL's credentials.
        auth: Option<HeaderValue>,
    },
    /// A TCP connection to a SOCKS5 proxy, turned into a tunnel with its `CONNECT` command.
    Socks {
        /// The proxy, as the `http://host:port/` URI its TCP connection is opened with.
        proxy: Uri,
        /// User name and password for the SOCKS5 user/password method.
        auth: Option<(String, String)>,
        /// `socks5h://`: the proxy resolves the target's name. `socks5://`: we resolve it.
        remote_dns: bool,
    },
}

impl Proxies {
    /// One proxy for every target except the hosts of the `NO_PROXY`-style `no_proxy` list.
    pub(crate) fn explicit(url: &str, no_proxy: Option<&str>) -> Result<Self, TransportBuildError> {
        let url = url.trim();
        check_url(url).map_err(|reason| TransportBuildError::Proxy { reason })?;
        let matcher = Matcher::builder().all(url).no(no_proxy.unwrap_or_default()).build();
        Ok(Self { matcher: Some(matcher) })
    }

    /// From environment variables looked up with `var` (see
    /// [`crate::HyperTransportBuilder::proxy_from_env`] for the rules). `no_proxy`, if given,
    /// replaces `NO_PROXY`. Blank variables count as unset.
    pub(crate) fn from_env_with(
        var: impl Fn(&str) -> Option<String>,
        no_proxy: Option<&str>,
    ) -> Result<Self, TransportBuildError> {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|name| {
                var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).map(|v| (*name, v))
            })
        };
        let all = first(&["all_proxy", "ALL_PROXY"]);
        let https = first(&["https_proxy", "HTTPS_PROXY"]);
        // Lower case only, as curl does: a CGI server sets `HTTP_PROXY` from a request header.
        let http = first(&["http_proxy"]);
        if all.is_none() && https.is_none() && http.is_none() {
            return Ok(Self::default());
        }
        for (name, value) in [&all, &https, &http].into_iter().flatten() {
            check_url(value)
                .map_err(|reason| TransportBuildError::Proxy { reason: format!("{name}: {reason}") })?;
        }
        let no = match no_proxy {
            Some(list) => Some(list.to_owned()),
            None => first(&["no_proxy", "NO_PROXY"]).map(|(_, v)| v),
        };
        let mut builder = Matcher::builder().no(no.unwrap_or_default());
        if let Some((_, v)) = all {
            builder = builder.all(v);
        }
        if let Some((_, v)) = https {
            builder = builder.https(v);
        }
        if let Some((_, v)) = http {
            builder = builder.http(v);
        }
        Ok(Self { matcher: Some(builder.build()) })
    }

    /// The route to `target` (an `https://` or `http://` URI from [`target_uri`]).
    pub(crate) fn route(&self, target: &Uri) -> Result<Route, ConnectorError> {
        let Some(matcher) = &self.matcher else { return Ok(Route::Direct) };
        let Some(intercept) = matcher.intercept(target) else { return Ok(Route::Direct) };
        let uri = intercept.uri();
        let proxy_host = uri.host().unwrap_or_default();
        let unusable = |reason: &str| ConnectorError::Proxy {
            proxy: format!("{proxy_host}:{}", uri.port_u16().unwrap_or(0)),
            reason: reason.to_owned(),
            source: None,
        };
        let socks = match uri.scheme_str() {
            Some("http") => false,
            Some("socks5") | Some("socks5h") => true,
            // Refused when the transport was built; kept as an error rather than a panic.
            _ => return Err(unusable("unsupported proxy scheme")),
        };
        let default_port = if socks { SOCKS_PROXY_PORT } else { HTTP_PROXY_PORT };
        let proxy = format!("http://{proxy_host}:{}/", uri.port_u16().unwrap_or(default_port))
            .parse::<Uri>()
            .map_err(|_| unusable("the proxy address is not a valid URI"))?;
        Ok(if socks {
            Route::Socks {
                auth: intercept.raw_auth().map(|(user, pass)| (user.to_owned(), pass.to_owned())),
                remote_dns: uri.scheme_str() == Some("socks5h"),
                proxy,
            }
        } else {
            Route::Http { auth: intercept.basic_auth().cloned(), proxy }
        })
    }
}

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The matcher's Debug shows the proxies' addresses and the exclusions, never credentials.
        match &self.matcher {
            None => f.write_str("no proxy"),
            Some(matcher) => matcher.fmt(f),
        }
    }
}

/// `scheme://host:port/`, bracketing a bare IPv6 literal.
pub(crate) fn target_uri(scheme: &str, host: &str, port: u16) -> Result<Uri, ConnectorError> {
    let invalid = || ConnectorError::InvalidTarget("the target host is not a valid host name or address");
    if host.is_empty() {
        return Err(invalid());
    }
    let bare = match host.strip_prefix('[') {
        Some(rest) => rest.strip_suffix(']').ok_or_else(invalid)?,
        None => host,
    };
    let uri = if bare.contains(':') {
        // Only an IPv6 address may hold colons.
        bare.parse::<std::net::Ipv6Addr>().map_err(|_| invalid())?;
        format!("{scheme}://[{bare}]:{port}/")
    } else {
        format!("{scheme}://{host}:{port}/")
    };
    let uri = uri.parse::<Uri>().map_err(|_| invalid())?;
    // A "host" like `a/b` or `u@h` parses into something else: only an exact round trip counts.
    match uri.host() {
        Some(h) if h.trim_start_matches('[').trim_end_matches(']') == bare => Ok(uri),
        _ => Err(invalid()),
    }
}

/// Whether hyper-util's matcher understands `url` as a proxy we can use. The reason never
/// repeats the URL, which may hold a password.
fn check_url(url: &str) -> Result<(), String> {
    let probe = Matcher::builder().all(url).build();
    let intercept = probe
        .intercept(&Uri::from_static("https://probe.invalid/"))
        .ok_or("the proxy URL is not a valid URL with a host")?;
    match intercept.uri().scheme_str() {
        Some("http") | Some("socks5") | Some("socks5h") => {}
        Some(other) => {
            return Err(format!(
                "unsupported proxy scheme `{other}` (supported: http:// proxies, which tunnel with \
                 CONNECT, and socks5:// or socks5h://)"
            ));
        }
        None => return Err("the proxy URL has no scheme".to_owned()),
    }
    if intercept.uri().host().is_none_or(str::is_empty) {
        return Err("the proxy URL has no host".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |k| map.get(k).cloned()
    }

    /// `None` for direct, else `(kind, proxy authority)`.
    fn route(p: &Proxies, https: bool, host: &str, port: u16) -> Option<(&'static str, String)> {
        let target = target_uri(if https { "https" } else { "http" }, host, port).unwrap();
        match p.route(&target).unwrap() {
            Route::Direct => None,
            Route::Http { proxy, .. } => Some(("http", proxy.authority().unwrap().to_string())),
            Route::Socks { proxy, remote_dns, .. } => {
                Some((if remote_dns { "socks5h" } else { "socks5" }, proxy.authority().unwrap().to_string()))
            }
        }
    }

    #[test]
    fn explicit_urls_and_default_ports() {
        let p = Proxies::explicit("http://proxy.corp:3128", None).unwrap();
        assert_eq!(route(&p, true, "slack.com", 443), Some(("http", "proxy.corp:3128".into())));
        assert_eq!(route(&p, false, "slack.com", 80), Some(("http", "proxy.corp:3128".into())));
        let p = Proxies::explicit(" proxy.corp\n", None).unwrap();
        assert_eq!(route(&p, true, "slack.com", 443), Some(("http", "proxy.corp:80".into())));
        let p = Proxies::explicit("socks5h://s:9050", None).unwrap();
        assert_eq!(route(&p, true, "slack.com", 443), Some(("socks5h", "s:9050".into())));
        let p = Proxies::explicit("socks5://s", None).unwrap();
        assert_eq!(route(&p, true, "slack.com", 443), Some(("socks5", "s:1080".into())));
        let p = Proxies::explicit("http://[::1]:3128", None).unwrap();
        assert_eq!(route(&p, true, "slack.com", 443), Some(("http", "[::1]:3128".into())));
        for bad in ["https://h:443", "socks4://h:1", "ftp://h", "http://", ""] {
            assert!(
                matches!(Proxies::explicit(bad, None), Err(TransportBuildError::Proxy { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn credentials_become_auth_and_are_never_shown() {
        let p = Proxies::explicit("http://al%40ice:p%3As3CRET@proxy:3128", None).unwrap();
        match p.route(&Uri::from_static("https://slack.com:443/")).unwrap() {
            // base64("al@ice:p:s3CRET")
            Route::Http { auth, .. } => {
                let auth = auth.unwrap();
                assert_eq!(auth.to_str().unwrap(), "Basic YWxAaWNlOnA6czNDUkVU");
                assert!(auth.is_sensitive());
            }
            _ => panic!("expected an HTTP proxy"),
        }
        let shown = format!("{p:?}");
        assert!(!shown.contains("s3CRET") && !shown.contains("ice") && !shown.contains("YWx"), "{shown}");
        let p = Proxies::explicit("socks5h://bob:s3CRET@proxy:1080", None).unwrap();
        match p.route(&Uri::from_static("https://slack.com:443/")).unwrap() {
            Route::Socks { auth, .. } => assert_eq!(auth, Some(("bob".into(), "s3CRET".into()))),
            _ => panic!("expected a SOCKS proxy"),
        }
        assert!(!format!("{p:?}").contains("s3CRET"));
        let err = Proxies::explicit("https://u:s3CRET@proxy:1", None).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("s3CRET"));
    }

    #[test]
    fn env_precedence() {
        let p = Proxies::from_env_with(
            env(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "http://lower:2")]),
            None,
        )
        .unwrap();
        assert_eq!(route(&p, true, "slack.com", 443), Some(("http", "lower:2".into())));
        assert_eq!(route(&p, false, "slack.com", 80), None, "HTTPS_PROXY is not for http:// targets");

        let p = Proxies::from_env_with(env(&[("ALL_PROXY", "socks5h://all:3")]), None).unwrap();
        assert_eq!(route(&p, true, "slack.com", 443), Some(("socks5h", "all:3".into())));
        assert_eq!(route(&p, false, "slack.com", 80), Some(("socks5h", "all:3".into())));

        let p =
            Proxies::from_env_with(env(&[("ALL_PROXY", "all:3"), ("https_proxy", " s:4 ")]), None).unwrap();
        assert_eq!(route(&p, true, "slack.com", 443), Some(("http", "s:4".into())));
        assert_eq!(route(&p, false, "slack.com", 80), Some(("http", "all:3".into())));

        let p = Proxies::from_env_with(env(&[("HTTP_PROXY", "http://cgi:4"), ("https_proxy", "  ")]), None)
            .unwrap();
        assert!(p.matcher.is_none(), "upper-case HTTP_PROXY and blank values are ignored: {p:?}");
        assert!(Proxies::from_env_with(env(&[]), None).unwrap().matcher.is_none());

        let err = Proxies::from_env_with(env(&[("HTTPS_PROXY", "socks4://u:s3CRET@x:1")]), None).unwrap_err();
        let shown = format!("{err}");
        assert!(shown.contains("HTTPS_PROXY") && !shown.contains("s3CRET"), "{shown}");
    }

    #[test]
    fn no_proxy_from_env_or_explicit() {
        let p =
            Proxies::from_env_with(env(&[("HTTPS_PROXY", "s:6"), ("NO_PROXY", "a.com, 10.0.0.0/8")]), None)
                .unwrap();
        assert_eq!(route(&p, true, "a.com", 443), None);
        assert_eq!(route(&p, true, "api.a.com", 443), None);
        assert_eq!(route(&p, true, "10.1.2.3", 443), None);
        assert!(route(&p, true, "slack.com", 443).is_some());
        assert!(route(&p, true, "bada.com", 443).is_some());

        // An explicit exclusion list replaces NO_PROXY.
        let p = Proxies::from_env_with(
            env(&[("HTTPS_PROXY", "s:6"), ("no_proxy", "slack.com")]),
            Some("other.com"),
        )
        .unwrap();
        assert!(route(&p, true, "slack.com", 443).is_some());
        assert_eq!(route(&p, true, "other.com", 443), None);

        let p = Proxies::explicit("http://p:1", Some("localhost, 127.0.0.1, ::1")).unwrap();
        assert_eq!(route(&p, true, "localhost", 443), None);
        assert_eq!(route(&p, false, "127.0.0.1", 9), None);
        assert_eq!(route(&p, true, "::1", 9), None);
        assert_eq!(route(&p, true, "[::1]", 9), None);
        assert!(route(&p, true, "slack.com", 443).is_some());
        assert!(route(&Proxies::default(), true, "slack.com", 443).is_none());
        assert_eq!(route(&Proxies::explicit("http://p:1", Some("*")).unwrap(), true, "x.y", 1), None);
    }

    #[test]
    fn bad_targets_are_errors_not_panics() {
        for host in ["", "a/b", "u@h", "a b", "[::1", "h:1", "a?b", "a#b", "\r\n"] {
            assert!(
                matches!(target_uri("https", host, 443), Err(ConnectorError::InvalidTarget(_))),
                "{host:?}"
            );
        }
        assert_eq!(target_uri("https", "::1", 8).unwrap().to_string(), "https://[::1]:8/");
        assert_eq!(target_uri("https", "[::1]", 8).unwrap().to_string(), "https://[::1]:8/");
    }
}
