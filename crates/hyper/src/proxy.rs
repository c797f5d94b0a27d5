//! HTTP proxy support: the proxy settings (explicit or from the environment), `NO_PROXY`
//! matching, and HTTP `CONNECT` tunnelling.

use crate::error::BuildError;
use http::Uri;
use std::fmt;
use std::net::IpAddr;

/// One proxy server: where it is and, if any, the `Proxy-Authorization` value to send.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ProxyServer {
    /// `host` (IPv6 in brackets) and port, ready for a `host:port` string.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `Basic base64(user:pass)`, never printed.
    pub(crate) authorization: Option<String>,
}

impl ProxyServer {
    /// Parses `http://[user:pass@]host[:port][/]`, or `host[:port]` (http assumed).
    ///
    /// Error messages never repeat the URL (it may hold a password).
    pub(crate) fn parse(url: &str) -> Result<Self, BuildError> {
        let url = url.trim();
        let with_scheme;
        let url = if url.contains("://") {
            url
        } else {
            with_scheme = format!("http://{url}");
            &with_scheme
        };
        let uri: Uri = url
            .parse()
            .map_err(|_| BuildError::Proxy { reason: "the proxy URL is not a valid URL".into() })?;
        match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => {}
            Some(other) => {
                return Err(BuildError::Proxy {
                    reason: format!(
                        "unsupported proxy scheme `{other}` (only http:// proxies, which tunnel \
                         with CONNECT, are supported)"
                    ),
                });
            }
            None => {
                return Err(BuildError::Proxy { reason: "the proxy URL has no scheme".into() });
            }
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(BuildError::Proxy { reason: "the proxy URL must not have a path or a query".into() });
        }
        let authority = uri
            .authority()
            .ok_or_else(|| BuildError::Proxy { reason: "the proxy URL has no host".into() })?;
        let host = authority.host();
        if host.is_empty() {
            return Err(BuildError::Proxy { reason: "the proxy URL has no host".into() });
        }
        let port = authority.port_u16().unwrap_or(80);
        let authorization = match authority.as_str().rsplit_once('@') {
            None => None,
            Some((userinfo, _)) => {
                let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let user = percent_decode(user).ok_or_else(bad_userinfo)?;
                let pass = percent_decode(pass).ok_or_else(bad_userinfo)?;
                let mut plain = user;
                plain.push(b':');
                plain.extend_from_slice(&pass);
                Some(format!("Basic {}", base64(&plain)))
            }
        };
        Ok(Self { host: host.to_ascii_lowercase(), port, authorization })
    }

    /// `host:port`, without credentials: safe to log and to put in errors.
    pub(crate) fn display_addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

fn bad_userinfo() -> BuildError {
    BuildError::Proxy { reason: "the proxy credentials are not valid percent-encoding".into() }
}

impl fmt::Debug for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = if self.authorization.is_some() { "<redacted>@" } else { "" };
        write!(f, "http://{auth}{}:{}", self.host, self.port)
    }
}

/// Hosts that bypass the proxy, parsed from a `NO_PROXY`-style list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NoProxy {
    all: bool,
    entries: Vec<NoProxyEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum NoProxyEntry {
    /// A domain: matches itself and its subdomains. Optional port.
    Domain(String, Option<u16>),
    /// An IP address. Optional port.
    Ip(IpAddr, Option<u16>),
    /// An IP network in CIDR notation.
    Cidr(IpAddr, u8),
}

impl NoProxy {
    /// Parses a comma (or whitespace) separated list: `*`, domains (`example.com`,
    /// `.example.com`, `*.example.com`, each matching the domain and its subdomains), IP
    /// addresses (`127.0.0.1`, `::1`, `[::1]`), CIDR networks (`10.0.0.0/8`), each optionally
    /// with `:port`. Unparsable entries are ignored.
    pub(crate) fn parse(list: &str) -> Self {
        let mut out = Self::default();
        for raw in list.split(|c: char| c == ',' || c.is_whitespace()) {
            let entry = raw.trim();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                out.all = true;
                continue;
            }
            if let Some(e) = parse_entry(entry) {
                out.entries.push(e);
            }
        }
        out
    }

    /// Whether a request to `host:port` must go direct.
    pub(crate) fn matches(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        let host = normalize_host(host);
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|entry| match entry {
            NoProxyEntry::Domain(domain, p) => {
                ip.is_none()
                    && p.is_none_or(|p| p == port)
                    && (host == *domain
                        || (host.len() > domain.len()
                            && host.ends_with(domain.as_str())
                            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'))
            }
            NoProxyEntry::Ip(addr, p) => ip == Some(*addr) && p.is_none_or(|p| p == port),
            NoProxyEntry::Cidr(net, bits) => ip.is_some_and(|ip| in_network(ip, *net, *bits)),
        })
    }
}

fn normalize_host(host: &str) -> String {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn parse_entry(entry: &str) -> Option<NoProxyEntry> {
    let entry = entry.to_ascii_lowercase();
    if let Some((net, bits)) = entry.split_once('/') {
        let net: IpAddr = net.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
        let bits: u8 = bits.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        return (bits <= max).then_some(NoProxyEntry::Cidr(net, bits));
    }
    // A bare IPv6 address (several colons, no brackets).
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(NoProxyEntry::Ip(ip, None));
    }
    // `[v6]` or `[v6]:port`.
    if let Some(rest) = entry.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        let ip: IpAddr = addr.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse().ok()?),
        };
        return Some(NoProxyEntry::Ip(ip, port));
    }
    let (name, port) = match entry.rsplit_once(':') {
        Some((name, p)) => (name, Some(p.parse::<u16>().ok()?)),
        None => (entry.as_str(), None),
    };
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Some(NoProxyEntry::Ip(ip, port));
    }
    let domain = name.trim_start_matches("*.").trim_start_matches('.').trim_end_matches('.');
    if domain.is_empty() || domain.contains('*') {
        return None;
    }
    Some(NoProxyEntry::Domain(domain.to_owned(), port))
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        // An IPv4-mapped IPv6 host against an IPv4 network.
        (IpAddr::V6(ip), IpAddr::V4(_)) => {
            ip.to_ipv4_mapped().is_some_and(|v4| in_network(IpAddr::V4(v4), net, bits))
        }
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    }
}

/// The resolved proxy settings of a transport.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProxySettings {
    /// Proxy for `https://` targets.
    pub(crate) https: Option<ProxyServer>,
    /// Proxy for `http://` targets.
    pub(crate) http: Option<ProxyServer>,
    pub(crate) no_proxy: NoProxy,
}

impl ProxySettings {
    /// One proxy for every target.
    pub(crate) fn explicit(url: &str, no_proxy: Option<&str>) -> Result<Self, BuildError> {
        let server = ProxyServer::parse(url)?;
        Ok(Self {
            https: Some(server.clone()),
            http: Some(server),
            no_proxy: no_proxy.map(NoProxy::parse).unwrap_or_default(),
        })
    }

    /// From environment variables looked up with `var`:
    /// `https://` targets use `https_proxy`, `HTTPS_PROXY`, then `all_proxy`, `ALL_PROXY`;
    /// `http://` targets use `http_proxy` (lower case only, as curl does: an upper-case
    /// `HTTP_PROXY` can be set by a CGI request header), then `all_proxy`, `ALL_PROXY`.
    /// Exclusions come from `no_proxy` / `NO_PROXY` unless `no_proxy` is given. Empty
    /// variables count as unset.
    pub(crate) fn from_env_with(
        var: impl Fn(&str) -> Option<String>,
        no_proxy: Option<&str>,
    ) -> Result<Self, BuildError> {
        let first = |names: &[&str]| names.iter().find_map(|n| var(n).filter(|v| !v.trim().is_empty()));
        let all = first(&["all_proxy", "ALL_PROXY"]);
        let https = first(&["https_proxy", "HTTPS_PROXY"]).or_else(|| all.clone());
        let http = first(&["http_proxy"]).or(all);
        let no_proxy = match no_proxy {
            Some(list) => NoProxy::parse(list),
            None => first(&["no_proxy", "NO_PROXY"]).map(|l| NoProxy::parse(&l)).unwrap_or_default(),
        };
        Ok(Self {
            https: https.as_deref().map(ProxyServer::parse).transpose()?,
            http: http.as_deref().map(ProxyServer::parse).transpose()?,
            no_proxy,
        })
    }

    /// The proxy to use for a target, if any. `host` may be an IPv6 literal in brackets.
    pub(crate) fn proxy_for(&self, https: bool, host: &str, port: u16) -> Option<&ProxyServer> {
        let server = if https { self.https.as_ref() } else { self.http.as_ref() }?;
        if self.no_proxy.matches(host, port) {
            return None;
        }
        Some(server)
    }

    /// Whether any proxy is configured.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.https.is_none() && self.http.is_none()
    }
}

/// Decodes `%XX` escapes; `None` on a malformed escape.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Standard base64 with padding (RFC 4648), for `Proxy-Authorization: Basic`.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
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

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn proxy_url_parsing() {
        let p = ProxyServer::parse("http://proxy.corp:3128").unwrap();
        assert_eq!((p.host.as_str(), p.port, p.authorization.is_none()), ("proxy.corp", 3128, true));
        let p = ProxyServer::parse("proxy.corp").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 80));
        let p = ProxyServer::parse("HTTP://Proxy.Corp:8080/").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 8080));
        let p = ProxyServer::parse("http://[::1]:3128").unwrap();
        assert_eq!(p.display_addr(), "[::1]:3128");
        for bad in ["socks5://h:1080", "https://h:443", "http://h:1/path", "http://", "::::", ""] {
            assert!(ProxyServer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn proxy_credentials_are_decoded_and_never_shown() {
        let p = ProxyServer::parse("http://al%40ice:p%3Ass@proxy:3128").unwrap();
        // base64("al@ice:p:ss")
        assert_eq!(p.authorization.as_deref(), Some("Basic YWxAaWNlOnA6c3M="));
        assert_eq!(p.host, "proxy");
        let shown = format!("{p:?} {}", p.display_addr());
        assert!(!shown.contains("ice") && !shown.contains("YWx"), "{shown}");
        let p = ProxyServer::parse("http://user@proxy:1").unwrap();
        assert_eq!(p.authorization.as_deref(), Some("Basic dXNlcjo="));
        let err = ProxyServer::parse("http://u:S3CRET%zz@proxy:1").unwrap_err();
        assert!(!err.to_string().contains("S3CRET"));
        let err = ProxyServer::parse("socks5://u:S3CRET@proxy:1").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("S3CRET"));
    }

    #[test]
    fn env_precedence() {
        let s = ProxySettings::from_env_with(
            env(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "http://lower:2")]),
            None,
        )
        .unwrap();
        assert_eq!(s.https.unwrap().host, "lower");
        assert!(s.http.is_none(), "HTTPS_PROXY is not used for http:// targets");

        let s = ProxySettings::from_env_with(env(&[("ALL_PROXY", "http://all:3")]), None).unwrap();
        assert_eq!(s.https.as_ref().unwrap().host, "all");
        assert_eq!(s.http.as_ref().unwrap().host, "all");

        let s =
            ProxySettings::from_env_with(env(&[("HTTP_PROXY", "http://cgi:4"), ("https_proxy", "  ")]), None)
                .unwrap();
        assert!(s.is_empty(), "upper-case HTTP_PROXY and blank values are ignored: {s:?}");

        let s = ProxySettings::from_env_with(
            env(&[("http_proxy", "http://h:5"), ("HTTPS_PROXY", "s:6"), ("NO_PROXY", "a.com")]),
            None,
        )
        .unwrap();
        assert_eq!(s.http.as_ref().unwrap().host, "h");
        assert_eq!(s.https.as_ref().unwrap().port, 6);
        assert!(s.proxy_for(true, "a.com", 443).is_none());
        assert!(s.proxy_for(true, "slack.com", 443).is_some());

        // An explicit exclusion list replaces NO_PROXY.
        let s = ProxySettings::from_env_with(
            env(&[("HTTPS_PROXY", "s:6"), ("no_proxy", "slack.com")]),
            Some("other.com"),
        )
        .unwrap();
        assert!(s.proxy_for(true, "slack.com", 443).is_some());
        assert!(s.proxy_for(true, "other.com", 443).is_none());

        assert!(ProxySettings::from_env_with(env(&[("HTTPS_PROXY", "socks5://x:1")]), None).is_err());
        assert!(ProxySettings::from_env_with(env(&[]), None).unwrap().is_empty());
    }

    #[test]
    fn no_proxy_domains_are_suffix_matched_on_label_boundaries() {
        let n = NoProxy::parse("example.com, .corp.net,*.internal ; ,");
        assert!(n.matches("example.com", 443));
        assert!(n.matches("api.example.com", 443));
        assert!(n.matches("API.Example.COM.", 443));
        assert!(!n.matches("badexample.com", 443));
        assert!(!n.matches("example.com.evil", 443));
        assert!(n.matches("corp.net", 443));
        assert!(n.matches("a.b.corp.net", 80));
        assert!(n.matches("x.internal", 443));
        assert!(!n.matches("slack.com", 443));
        // "; " is not a valid entry and must not match everything.
        assert!(!n.matches("a", 1));
    }

    #[test]
    fn no_proxy_star_ports_ips_and_networks() {
        assert!(NoProxy::parse("*").matches("anything.at.all", 1));
        assert!(NoProxy::parse("foo.com, *").matches("slack.com", 443));
        assert!(!NoProxy::parse("").matches("slack.com", 443));
        assert!(!NoProxy::parse("*.").matches("slack.com", 443));

        let n = NoProxy::parse("slack.com:8443,127.0.0.1,[::1],10.0.0.0/8,fd00::/8,192.168.1.1:81");
        assert!(n.matches("slack.com", 8443));
        assert!(!n.matches("slack.com", 443));
        assert!(n.matches("127.0.0.1", 1234));
        assert!(!n.matches("127.0.0.2", 1234));
        assert!(n.matches("[::1]", 443));
        assert!(n.matches("::1", 443));
        assert!(n.matches("10.200.3.4", 443));
        assert!(!n.matches("11.0.0.1", 443));
        assert!(n.matches("[fd12::1]", 443));
        assert!(n.matches("192.168.1.1", 81));
        assert!(!n.matches("192.168.1.1", 80));
        assert!(NoProxy::parse("::1").matches("[::1]", 1));
        assert!(NoProxy::parse("0.0.0.0/0").matches("8.8.8.8", 1));
        assert!(NoProxy::parse("[::ffff:0:0]/96").matches("::ffff:1.2.3.4", 1));
        assert!(NoProxy::parse("1.2.3.0/24").matches("[::ffff:1.2.3.4]", 1));
        // Domain entries never match IP hosts and vice versa; garbage is ignored.
        assert!(!NoProxy::parse("1.2.3.4.example").matches("1.2.3.4", 1));
        assert!(!NoProxy::parse("10.0.0.0/99,[zz],host:notaport").matches("10.0.0.1", 1));
    }

    #[test]
    fn proxy_decision_is_per_host_and_scheme() {
        let s = ProxySettings::explicit("http://p:1", Some("localhost,127.0.0.1")).unwrap();
        assert!(s.proxy_for(true, "slack.com", 443).is_some());
        assert!(s.proxy_for(false, "slack.com", 80).is_some());
        assert!(s.proxy_for(true, "localhost", 443).is_none());
        assert!(s.proxy_for(false, "127.0.0.1", 9).is_none());
        assert!(ProxySettings::default().proxy_for(true, "slack.com", 443).is_none());
    }
}
