//! Typed errors. None of them ever holds the token, a header or proxy credentials: they are
//! built only from the target's host and port, the proxy's host and port, and the errors of
//! the I/O, TLS and HTTP layers (which never see header values in their messages).

use crate::connector::{BoxError, ConnectorError};
use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

/// Which deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Opening a new connection: TCP, proxy tunnel and TLS handshake.
    Connect,
    /// The whole request: connection, sending, response headers and the whole body.
    Request,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connecting",
            TimeoutKind::Request => "the request",
        })
    }
}

/// Why a request through [`crate::HyperTransport`] failed.
///
/// `host` fields are the target's `host:port`. Messages never contain the token, any header or
/// proxy credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A plain `http://` URL while [`crate::HyperTransportBuilder::allow_http`] is off. Refused
    /// before any I/O.
    #[error(
        "refusing a plain http:// request to {host}: https is required (allow_http(true) permits \
         http, e.g. for a local emulator)"
    )]
    InsecureScheme {
        /// The target.
        host: String,
    },
    /// The request's URL is not an absolute `https://` (or allowed `http://`) URL with a host.
    #[error("invalid request URL: {reason}")]
    InvalidUrl {
        /// What is wrong.
        reason: &'static str,
    },
    /// The TCP connection (or the name resolution) failed.
    #[error("cannot connect to {host}: {}", chain(source.as_ref()))]
    Connect {
        /// The target.
        host: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// The TLS handshake failed (e.g. an untrusted certificate).
    #[error("TLS handshake with {host} failed: {source}")]
    Tls {
        /// The target.
        host: String,
        /// The rustls error.
        #[source]
        source: rustls::Error,
    },
    /// The HTTP proxy answered `CONNECT` with an error status (e.g. 403, or 407 when the
    /// credentials in the proxy URL are missing or rejected).
    #[error("proxy {proxy} refused the tunnel to {host} with HTTP status {status}{}", refusal_hint(*status))]
    ProxyRefused {
        /// The proxy's `host:port` (never its credentials).
        proxy: String,
        /// The target.
        host: String,
        /// The HTTP status of the proxy's answer.
        status: u16,
    },
    /// The proxy could not be reached, broke the exchange, or (SOCKS5) refused the tunnel.
    #[error("proxy {proxy} failed to reach {host}: {reason}")]
    Proxy {
        /// The proxy's `host:port` (never its credentials).
        proxy: String,
        /// The target.
        host: String,
        /// What went wrong.
        reason: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// A deadline passed.
    #[error("{kind} to {host} timed out after {after:?}")]
    Timeout {
        /// The target.
        host: String,
        /// Which deadline.
        kind: TimeoutKind,
        /// The deadline.
        after: Duration,
    },
    /// The response body is larger than the configured cap (the rest was not read).
    #[error("the response body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The connection failed while sending the request or reading the response.
    #[error("I/O error with {host}: {}", chain(source.as_ref()))]
    Io {
        /// The target.
        host: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// The server's answer is not valid HTTP.
    #[error("HTTP protocol error with {host}: {}", chain(source.as_ref()))]
    Protocol {
        /// The target.
        host: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl TransportError {
    /// How far the request got: refused before any I/O
    /// ([`Reach::Refused`](slack_rtm_codec::Reach::Refused)), failed before it could leave (connect,
    /// TLS, proxy, connect timeout: [`Reach::NotSent`](slack_rtm_codec::Reach::NotSent)), or after
    /// it may have been sent ([`Reach::MaybeSent`](slack_rtm_codec::Reach::MaybeSent)). What the Web
    /// API client's retry rules use to decide whether a write may be sent again.
    pub fn reach(&self) -> slack_rtm_codec::Reach {
        use slack_rtm_codec::Reach;
        match self {
            TransportError::InsecureScheme { .. } | TransportError::InvalidUrl { .. } => Reach::Refused,
            TransportError::Connect { .. }
            | TransportError::Tls { .. }
            | TransportError::Proxy { .. }
            | TransportError::ProxyRefused { .. }
            | TransportError::Timeout { kind: TimeoutKind::Connect, .. } => Reach::NotSent,
            _ => Reach::MaybeSent,
        }
    }
}

impl TransportError {
    /// Whether this is a [`TransportError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransportError::Timeout { .. })
    }
}

/// An [`io::Error`] carrying the [`TransportError`] (`get_ref()` / `into_inner()` give it back,
/// and its message is the error's), with a kind matching it: `TimedOut`, `ConnectionRefused`
/// for a proxy's refusal, `InvalidInput` for a bad target, the underlying kind for a failed TCP
/// connection, `Other` otherwise. For callers that speak `io::Result`, such as a WebSocket
/// dialer using [`crate::HyperTransport::dial`].
impl From<TransportError> for io::Error {
    fn from(err: TransportError) -> io::Error {
        let kind = match &err {
            TransportError::Timeout { .. } => io::ErrorKind::TimedOut,
            TransportError::ProxyRefused { .. } => io::ErrorKind::ConnectionRefused,
            TransportError::InvalidUrl { .. } | TransportError::InsecureScheme { .. } => {
                io::ErrorKind::InvalidInput
            }
            TransportError::Connect { source, .. } => walk(source.as_ref())
                .find_map(|e| e.downcast_ref::<io::Error>())
                .map_or(io::ErrorKind::Other, io::Error::kind),
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}

fn refusal_hint(status: u16) -> &'static str {
    match status {
        407 => " (proxy authentication required: the proxy URL's credentials are missing or were rejected)",
        403 => " (forbidden by the proxy)",
        _ => "",
    }
}

/// Why [`crate::HyperTransportBuilder::build`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportBuildError {
    /// The proxy URL (explicit or from the environment) is unusable. The reason never repeats
    /// the URL, which may hold a password.
    #[error("invalid proxy setting: {reason}")]
    Proxy {
        /// What is wrong.
        reason: String,
    },
    /// No rustls crypto provider: neither the `aws-lc-rs` nor the `ring` feature is enabled, no
    /// process-wide default is installed, and no [`rustls::ClientConfig`] was given.
    #[error(
        "no TLS crypto provider: enable the `aws-lc-rs` or `ring` feature, install a process \
         default, or pass a rustls ClientConfig"
    )]
    NoCryptoProvider,
    /// No root certificates: neither `webpki-roots` nor `native-roots` is enabled and no
    /// [`rustls::ClientConfig`] was given.
    #[error(
        "no root certificates: enable the `webpki-roots` or `native-roots` feature, or pass a \
         rustls ClientConfig"
    )]
    NoRootCertificates,
    /// The platform's root certificates could not be loaded (`native-roots`).
    #[error("cannot load the platform's root certificates: {0}")]
    NativeRoots(#[source] io::Error),
    /// The default TLS configuration could not be built.
    #[error("cannot build the TLS configuration: {0}")]
    Tls(#[source] rustls::Error),
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    InvalidSetting(&'static str),
}

/// Walks an error chain, looking inside `io::Error` wrappers (whose `source()` skips the
/// wrapped error itself).
pub(crate) fn walk<'a>(
    first: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(first);
    let mut steps = 0;
    std::iter::from_fn(move || {
        let current = next?;
        steps += 1;
        next = if steps > 32 {
            None
        } else if let Some(ConnectorError::Other(inner)) = current.downcast_ref::<ConnectorError>() {
            // `transparent` forwards `source()` to the inner error's source, skipping it.
            Some(inner.as_ref() as &(dyn StdError + 'static))
        } else if let Some(io) = current.downcast_ref::<io::Error>() {
            match io.get_ref() {
                Some(inner) => Some(inner as &(dyn StdError + 'static)),
                None => None,
            }
        } else {
            current.source()
        };
        Some(current)
    })
}

/// The messages of an error chain joined by `: `, skipping wrapper layers whose message says
/// nothing (hyper-util's "client error (Connect)") and repeated messages.
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for e in walk(err) {
        if e.is::<hyper_util::client::legacy::Error>()
            || matches!(e.downcast_ref::<ConnectorError>(), Some(ConnectorError::Other(_)))
        {
            continue;
        }
        let msg = e.to_string();
        if msg.is_empty() || msg == last || last.ends_with(&msg) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&msg);
        last = msg;
    }
    if out.is_empty() { "unknown error".to_owned() } else { out }
}

/// Maps an error of hyper-util's client to a [`TransportError`].
pub(crate) fn classify(err: hyper_util::client::legacy::Error, host: &str) -> TransportError {
    if err.is_connect() {
        return classify_connect(Box::new(err), host);
    }
    if let Some(tls) = walk(&err).find_map(|e| e.downcast_ref::<rustls::Error>()) {
        return TransportError::Tls { host: host.to_owned(), source: tls.clone() };
    }
    classify_exchange(Box::new(err), host.to_owned())
}

/// Maps a failure to open a connection (the client's, or [`crate::HyperTransport::dial`]'s) to a
/// [`TransportError`], from the first [`ConnectorError`] or rustls error in its chain.
pub(crate) fn classify_connect(err: BoxError, host: &str) -> TransportError {
    let host = host.to_owned();
    enum Found {
        Timeout(Duration),
        Invalid(&'static str),
        Refused(String, u16),
        Proxy(String, String),
        Tls(rustls::Error),
    }
    let found = walk(err.as_ref()).find_map(|e| match e.downcast_ref::<ConnectorError>() {
        Some(ConnectorError::Timeout(after)) => Some(Found::Timeout(*after)),
        Some(ConnectorError::InvalidTarget(reason)) => Some(Found::Invalid(reason)),
        Some(ConnectorError::ProxyRefused { proxy, status }) => Some(Found::Refused(proxy.clone(), *status)),
        Some(ConnectorError::Proxy { proxy, reason, source }) => Some(Found::Proxy(
            proxy.clone(),
            // What went wrong, then why (e.g. "cannot connect to the proxy: connection refused").
            match source {
                Some(source) => format!("{reason}: {}", chain(source.as_ref())),
                None => reason.clone(),
            },
        )),
        _ => e.downcast_ref::<rustls::Error>().map(|tls| Found::Tls(tls.clone())),
    });
    match found {
        Some(Found::Timeout(after)) => TransportError::Timeout { host, kind: TimeoutKind::Connect, after },
        Some(Found::Invalid(reason)) => TransportError::InvalidUrl { reason },
        Some(Found::Refused(proxy, status)) => TransportError::ProxyRefused { proxy, host, status },
        Some(Found::Proxy(proxy, reason)) => TransportError::Proxy { proxy, host, reason, source: Some(err) },
        Some(Found::Tls(source)) => TransportError::Tls { host, source },
        None => TransportError::Connect { host, source: err },
    }
}

/// Maps an error while sending or receiving (not connecting).
pub(crate) fn classify_exchange(err: BoxError, host: String) -> TransportError {
    let protocol = walk(err.as_ref())
        .find_map(|e| e.downcast_ref::<hyper::Error>())
        .is_some_and(|h| h.is_parse() || h.is_parse_status() || h.is_user());
    if protocol {
        TransportError::Protocol { host, source: err }
    } else {
        TransportError::Io { host, source: err }
    }
}
