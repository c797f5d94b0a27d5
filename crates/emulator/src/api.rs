//! The HTTP side: accept loop, routing, `rtm.connect`, `auth.test`, the socket upgrade.

use crate::faults::Rejection;
use crate::record::ConnectCall;
use crate::workspace::{TokenFlavor, random_u64};
use crate::{Shared, socket};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::json;
use slack_rtm_types::{ApiError, ConnectOptions, UserId};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Largest request body read.
const MAX_BODY: usize = 64 * 1024;
/// Longest accepted argument name.
pub const MAX_ARG_NAME_LEN: usize = 100;
/// Time allowed for a TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const REQ_ID: &str = "x-slack-req-id";

pub(crate) async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            res = listener.accept() => match res {
                Ok((tcp, _peer)) => {
                    let _ = tcp.set_nodelay(true);
                    let s = shared.clone();
                    shared.spawn(async move {
                        match s.tls.as_ref().map(|t| t.acceptor.clone()) {
                            Some(acceptor) => {
                                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                                    Ok(Ok(tls)) => serve(s, tls).await,
                                    Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                                    Err(_) => tracing::debug!("TLS handshake timed out"),
                                }
                            }
                            None => serve(s, tcp).await,
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
}

async fn serve<I>(shared: Arc<Shared>, io: I)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http2 = shared.config.http2;
    let svc = service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(handle(shared, req).await) }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if !http2 {
        builder = builder.http1_only();
    }
    builder.http1().timer(TokioTimer::new()).half_close(true);
    if let Err(e) = builder.serve_connection_with_upgrades(TokioIo::new(io), svc).await {
        tracing::debug!(error = %e, "HTTP connection ended with an error");
    }
}

/// A response body: complete, or cut short on purpose (a fault).
pub(crate) enum RespBody {
    Full(Option<Bytes>),
    /// Claims `claimed` bytes, sends `first`, then fails (the connection is cut) after a short
    /// pause that lets hyper flush what was sent.
    Truncated {
        first: Option<Bytes>,
        claimed: u64,
        cut: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

/// The error that cuts a truncated body.
#[derive(Debug, thiserror::Error)]
#[error("response body cut short on purpose")]
pub(crate) struct CutShort;

impl hyper::body::Body for RespBody {
    type Data = Bytes;
    type Error = CutShort;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, CutShort>>> {
        match self.get_mut() {
            RespBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            RespBody::Truncated { first, cut, .. } => {
                if let Some(b) = first.take() {
                    *cut = Some(Box::pin(tokio::time::sleep(Duration::from_millis(50))));
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                match cut.as_mut() {
                    Some(sleep) => sleep.as_mut().poll(cx).map(|()| Some(Err(CutShort))),
                    None => Poll::Ready(Some(Err(CutShort))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, RespBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RespBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            RespBody::Full(None) => SizeHint::with_exact(0),
            RespBody::Truncated { claimed, .. } => SizeHint::with_exact(*claimed),
        }
    }
}

fn req_id() -> HeaderValue {
    // 16 hex digits: always a valid header value.
    HeaderValue::from_str(&format!("{:016x}", random_u64())).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

fn respond(status: StatusCode, content_type: &'static str, body: RespBody) -> Response<RespBody> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut().insert(REQ_ID, req_id());
    resp
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<RespBody> {
    respond(status, "application/json; charset=utf-8", RespBody::Full(Some(Bytes::from(value.to_string()))))
}

fn api_error(code: &str) -> Response<RespBody> {
    json_response(StatusCode::OK, &json!({"ok": false, "error": code}))
}

/// Whether a query string has a `token` parameter (read as rtm.connect reads its arguments).
fn query_has_token(query: &str) -> bool {
    match parse_urlencoded(query.as_bytes(), false) {
        Some(args) => args.iter().any(|(k, _)| k == "token"),
        None => query.split('&').any(|p| p.split_once('=').map_or(p, |(k, _)| k) == "token"),
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<RespBody> {
    let path = req.uri().path().to_owned();
    // rtm.connect and auth.test record their own calls; every other request (the socket
    // upgrade, unknown methods) is checked here, so no path escapes the token-in-URL count.
    if !matches!(path.as_str(), "/api/rtm.connect" | "/api/auth.test")
        && req.uri().query().is_some_and(query_has_token)
    {
        shared.lock().tokens_in_urls += 1;
    }
    if let Some(ticket) = path.strip_prefix("/websocket/") {
        let ticket = ticket.to_owned();
        return upgrade(&shared, req, &ticket);
    }
    match path.as_str() {
        "/api/rtm.connect" => rtm_connect(&shared, req).await,
        "/api/auth.test" => auth_test(&shared, req).await,
        p if p.starts_with("/api/") => {
            if req.method() != Method::GET && req.method() != Method::POST {
                return json_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    &json!({"ok": false, "error": "method_not_allowed"}),
                );
            }
            api_error("unknown_method")
        }
        _ => json_response(StatusCode::NOT_FOUND, &json!({"ok": false, "error": "not_found"})),
    }
}

fn upgrade(shared: &Arc<Shared>, mut req: Request<Incoming>, ticket: &str) -> Response<RespBody> {
    if !fastwebsockets::upgrade::is_upgrade_request(&req) {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"ok": false, "error": "not_a_websocket_upgrade"}),
        );
    }
    let (resp, fut) = match fastwebsockets::upgrade::upgrade(&mut req) {
        Ok(x) => x,
        Err(e) => {
            tracing::debug!(error = %e, "bad WebSocket upgrade");
            return json_response(StatusCode::BAD_REQUEST, &json!({"ok": false, "error": "bad_upgrade"}));
        }
    };
    let admitted = shared.take_ticket(ticket);
    let s = shared.clone();
    shared.spawn(async move {
        let ws = match fut.await {
            Ok(ws) => ws,
            Err(e) => {
                tracing::debug!(error = %e, "WebSocket upgrade did not complete");
                return;
            }
        };
        let io = ws.into_inner();
        match admitted {
            Some(admission) => socket::run_connection(s, io, admission).await,
            None => socket::reject_expired(io).await,
        }
    });
    let (mut parts, _) = resp.into_parts();
    parts.headers.insert(REQ_ID, req_id());
    Response::from_parts(parts, RespBody::Full(None))
}

/// The arguments and auth of a Web API call, after validation.
struct Call {
    args: Vec<(String, String)>,
    warnings: Vec<&'static str>,
    token: Option<String>,
    token_in_url: bool,
    bearer: bool,
}

enum BodyRead {
    Complete(Bytes),
    Truncated,
    TooLarge,
}

async fn read_body(body: Incoming, timeout: Duration) -> BodyRead {
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Ok(Ok(collected)) => BodyRead::Complete(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => BodyRead::TooLarge,
        Ok(Err(_)) | Err(_) => BodyRead::Truncated,
    }
}

struct ContentType {
    mime: String,
    charset: Option<String>,
    boundary: Option<String>,
}

fn parse_content_type(value: &str) -> ContentType {
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let (mut charset, mut boundary) = (None, None);
    for p in parts {
        let Some((k, v)) = p.split_once('=') else { continue };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "charset" => charset = Some(v),
            "boundary" => boundary = Some(v),
            _ => {}
        }
    }
    ContentType { mime, charset, boundary }
}

/// Percent-decodes a form component (`+` is a space). `None` on a bad escape.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                let hi = b.get(i + 1).copied().and_then(hex)?;
                let lo = b.get(i + 2).copied().and_then(hex)?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

fn decode_text(bytes: Vec<u8>, latin1: bool) -> Option<String> {
    if latin1 { Some(bytes.iter().map(|&b| b as char).collect()) } else { String::from_utf8(bytes).ok() }
}

/// Parses `a=1&b=2`. `None` when it is not valid form data.
fn parse_urlencoded(body: &[u8], latin1: bool) -> Option<Vec<(String, String)>> {
    let text = if latin1 {
        body.iter().map(|&b| b as char).collect()
    } else {
        String::from_utf8(body.to_vec()).ok()?
    };
    let mut args = Vec::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode_text(percent_decode(k)?, latin1)?;
        let v = decode_text(percent_decode(v)?, latin1)?;
        args.push((k, v));
    }
    Some(args)
}

/// Parses a `multipart/form-data` body. `None` when it is malformed.
fn parse_multipart(body: &[u8], boundary: &str, latin1: bool) -> Option<Vec<(String, String)>> {
    if boundary.is_empty() || boundary.len() > 200 {
        return None;
    }
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
        hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
    };
    let mut pos = find(body, d, 0)? + d.len();
    let mut args = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Some(args);
        }
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            return None;
        }
        pos += 2;
        let headers_end = find(body, b"\r\n\r\n", pos)?;
        let headers = std::str::from_utf8(&body[pos..headers_end]).ok()?;
        let name = headers.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            v.split(';').find_map(|p| {
                let (pk, pv) = p.split_once('=')?;
                (pk.trim() == "name").then(|| pv.trim().trim_matches('"').to_owned())
            })
        })?;
        let content_start = headers_end + 4;
        let mut end_delim = Vec::with_capacity(d.len() + 2);
        end_delim.extend_from_slice(b"\r\n");
        end_delim.extend_from_slice(d);
        let next = find(body, &end_delim, content_start)?;
        let value = decode_text(body[content_start..next].to_vec(), latin1)?;
        args.push((name, value));
        pos = next + end_delim.len();
    }
}

/// Reads and validates a Web API call. `strict`: apply every `rtm.connect` rule; otherwise
/// (auth.test) only find the token.
async fn read_call(shared: &Shared, req: Request<Incoming>, strict: bool) -> Result<Call, &'static str> {
    let (parts, body) = req.into_parts();
    let mut call =
        Call { args: Vec::new(), warnings: Vec::new(), token: None, token_in_url: false, bearer: false };
    if let Some(q) = parts.uri.query() {
        let q_args = parse_urlencoded(q.as_bytes(), false).unwrap_or_else(|| {
            // A bad escape in the URL: keep what can be read.
            q.split('&')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        });
        call.args.extend(q_args);
        call.token_in_url = call.args.iter().any(|(k, _)| k == "token");
    }
    if parts.method == Method::POST {
        let body = match read_body(body, shared.config.body_timeout).await {
            BodyRead::Complete(b) => b,
            BodyRead::Truncated => return Err("request_timeout"),
            BodyRead::TooLarge => return Err("invalid_form_data"),
        };
        match parts.headers.get(CONTENT_TYPE) {
            None if !body.is_empty() && strict => return Err("missing_post_type"),
            None => {}
            Some(value) => {
                let ct = match value.to_str() {
                    Ok(v) => parse_content_type(v),
                    Err(_) if strict => return Err("invalid_post_type"),
                    Err(_) => parse_content_type(""),
                };
                let form =
                    matches!(ct.mime.as_str(), "application/x-www-form-urlencoded" | "multipart/form-data");
                let plain = ct.mime == "text/plain";
                if strict && !form && !plain {
                    return Err("invalid_post_type");
                }
                let mut latin1 = false;
                if let Some(cs) = &ct.charset {
                    let cs = cs.to_ascii_lowercase();
                    latin1 = cs == "iso-8859-1";
                    if strict && cs != "utf-8" && !latin1 {
                        return Err("invalid_charset");
                    }
                    if form {
                        call.warnings.push("superfluous_charset");
                    }
                } else if plain {
                    call.warnings.push("missing_charset");
                }
                if !strict && !form && !plain {
                    // auth.test with e.g. a JSON body: ignore the body.
                } else if !body.is_empty() {
                    let parsed = if ct.mime == "multipart/form-data" {
                        parse_multipart(&body, ct.boundary.as_deref().unwrap_or(""), latin1)
                    } else {
                        parse_urlencoded(&body, latin1)
                    };
                    match parsed {
                        Some(a) => call.args.extend(a),
                        None if strict => return Err("invalid_form_data"),
                        None => {}
                    }
                }
            }
        }
    }
    if strict {
        for (name, _) in &call.args {
            if name.contains('[') || name.contains(']') {
                return Err("invalid_array_arg");
            }
            if name.is_empty()
                || name.len() > MAX_ARG_NAME_LEN
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err("invalid_arg_name");
            }
        }
    }
    if let Some(auth) = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let auth = auth.trim();
        if let (Some(scheme), Some(rest)) = (auth.get(..7), auth.get(7..))
            && scheme.eq_ignore_ascii_case("bearer ")
        {
            let t = rest.trim();
            if !t.is_empty() {
                call.token = Some(t.to_owned());
                call.bearer = true;
            }
        }
    }
    if call.token.is_none() {
        // The body's token wins over the query's (it comes last in `args`).
        call.token = call.args.iter().rev().find(|(k, _)| k == "token").map(|(_, v)| v.clone());
    }
    Ok(call)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" | "" => Some(false),
        _ => None,
    }
}

fn with_warnings(mut body: serde_json::Value, warnings: &[&'static str]) -> serde_json::Value {
    if !warnings.is_empty() {
        body["warning"] = json!(warnings.join(","));
        let messages: Vec<String> = warnings
            .iter()
            .map(|w| match *w {
                "missing_charset" => {
                    "[WARN] A Content-Type of text/plain should declare a charset".to_owned()
                }
                "superfluous_charset" => {
                    "[WARN] A form body's Content-Type does not take a charset".to_owned()
                }
                other => format!("[WARN] {other}"),
            })
            .collect();
        body["response_metadata"] = json!({"warnings": warnings, "messages": messages});
    }
    body
}

fn redacted_args(args: &[(String, String)]) -> Vec<(String, String)> {
    args.iter()
        .map(
            |(k, v)| if k == "token" { (k.clone(), "<redacted>".to_owned()) } else { (k.clone(), v.clone()) },
        )
        .collect()
}

fn rejection_response(rejection: &Rejection, shared: &Shared) -> (Response<RespBody>, Option<String>) {
    match rejection {
        Rejection::Api(e) => (api_error(e.as_str()), Some(e.as_str().to_owned())),
        Rejection::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (json_response(status, &json!({"ok": false, "error": "fatal_error"})), Some("fatal_error".into()))
        }
        Rejection::Html(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_GATEWAY);
            let page = format!(
                "<!DOCTYPE html>\n<html><head><title>{0}</title></head>\n<body><h1>{0} {1}</h1></body></html>\n",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            );
            (respond(status, "text/html; charset=utf-8", RespBody::Full(Some(Bytes::from(page)))), None)
        }
        Rejection::Truncated => {
            let full = Bytes::from(
                json!({"ok": true, "self": {"id": "U0EMU00000", "name": "truncated"},
                       "team": {"id": "T0EMU00000", "name": "t", "domain": "t"},
                       "url": shared.socket_url("truncated")})
                .to_string(),
            );
            let first = full.slice(..full.len() / 2);
            let body = RespBody::Truncated { first: Some(first), claimed: full.len() as u64, cut: None };
            (respond(StatusCode::OK, "application/json; charset=utf-8", body), None)
        }
        Rejection::RateLimited { retry_after } => {
            (rate_limited(ceil_secs(*retry_after)), Some("ratelimited".into()))
        }
        Rejection::ExpiredUrl => (api_error("fatal_error"), Some("fatal_error".into())), // replaced by the caller
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn rate_limited(secs: u64) -> Response<RespBody> {
    let mut resp =
        json_response(StatusCode::TOO_MANY_REQUESTS, &json!({"ok": false, "error": "ratelimited"}));
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    resp
}

/// `Some(retry_after_secs)` when this call is over the rate limit; otherwise counts it.
fn check_rate_limit(shared: &Shared) -> Option<u64> {
    let limit = shared.config.connect_rate_limit?;
    let now = Instant::now();
    let mut st = shared.lock();
    while st.rate_window.front().is_some_and(|t| now.duration_since(*t) >= limit.window) {
        st.rate_window.pop_front();
    }
    if st.rate_window.len() >= limit.max_calls as usize {
        let oldest = *st.rate_window.front()?;
        let wait = (oldest + limit.window).saturating_duration_since(now);
        return Some(ceil_secs(wait).max(1));
    }
    st.rate_window.push_back(now);
    None
}

enum Auth {
    Ok { user: UserId, flavor: TokenFlavor },
    Err(&'static str),
}

fn authenticate(shared: &Shared, token: Option<&str>) -> Auth {
    let Some(token) = token.filter(|t| !t.is_empty()) else { return Auth::Err("not_authed") };
    let st = shared.lock();
    match st.ws.tokens.get(token) {
        None => Auth::Err("invalid_auth"),
        Some(t) if !t.active => Auth::Err("account_inactive"),
        Some(t) => Auth::Ok { user: t.user.clone(), flavor: t.flavor },
    }
}

async fn rtm_connect(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<RespBody> {
    let at = Instant::now();
    let method = req.method().clone();
    let mut record = ConnectCall {
        at,
        method: method.to_string(),
        args: Vec::new(),
        token_in_url: req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.split('=').next() == Some("token"))),
        bearer: false,
        status: 200,
        error: None,
        warnings: Vec::new(),
        user: None,
    };
    let resp = rtm_connect_inner(shared, req, method, &mut record).await;
    record.status = resp.status().as_u16();
    let mut st = shared.lock();
    if record.token_in_url {
        st.tokens_in_urls += 1;
    }
    st.calls.push(record);
    drop(st);
    shared.notify();
    resp
}

async fn rtm_connect_inner(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    method: Method,
    record: &mut ConnectCall,
) -> Response<RespBody> {
    if method != Method::GET && method != Method::POST {
        record.error = Some("method_not_allowed".into());
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"ok": false, "error": "method_not_allowed"}),
        );
    }
    let rejection = shared.lock().rejections.pop_front();
    let mut expired_url = false;
    if let Some(rejection) = rejection {
        if rejection == Rejection::ExpiredUrl {
            expired_url = true;
        } else {
            let (resp, error) = rejection_response(&rejection, shared);
            record.error = error;
            return resp;
        }
    }
    if let Some(secs) = check_rate_limit(shared) {
        record.error = Some("ratelimited".into());
        return rate_limited(secs);
    }
    let call = match read_call(shared, req, true).await {
        Ok(call) => call,
        Err(code) => {
            record.error = Some(code.into());
            return api_error(code);
        }
    };
    record.args = redacted_args(&call.args);
    record.bearer = call.bearer;
    record.token_in_url |= call.token_in_url;
    record.warnings = call.warnings.iter().map(|w| (*w).to_owned()).collect();
    let user = match authenticate(shared, call.token.as_deref()) {
        Auth::Err(code) => {
            record.error = Some(code.into());
            return json_response(
                StatusCode::OK,
                &with_warnings(json!({"ok": false, "error": code}), &call.warnings),
            );
        }
        Auth::Ok { flavor: TokenFlavor::Granular, .. } => {
            let code = ApiError::NotAllowedTokenType.as_str();
            record.error = Some(code.into());
            return json_response(
                StatusCode::OK,
                &with_warnings(json!({"ok": false, "error": code}), &call.warnings),
            );
        }
        Auth::Ok { user, .. } => user,
    };
    let mut options = ConnectOptions::default();
    for (k, v) in &call.args {
        match k.as_str() {
            "batch_presence_aware" => options.batch_presence_aware = parse_bool(v).unwrap_or(true),
            "presence_sub" => options.presence_sub = parse_bool(v).unwrap_or(true),
            _ => {}
        }
    }
    let lifetime = if expired_url { Duration::ZERO } else { shared.config.url_lifetime };
    let ticket = shared.issue_ticket(user.clone(), options, lifetime);
    let (name, team) = {
        let st = shared.lock();
        (st.ws.user(&user).map(|u| u.name.clone()).unwrap_or_default(), st.ws.team.clone())
    };
    record.user = Some(user.clone());
    let body = json!({
        "ok": true,
        "url": shared.socket_url(&ticket),
        "team": team,
        "self": {"id": user.as_str(), "name": name},
    });
    let mut resp = json_response(StatusCode::OK, &with_warnings(body, &call.warnings));
    let scopes = if user_is_bot(shared, &user) { "bot" } else { "client" };
    resp.headers_mut().insert("x-oauth-scopes", HeaderValue::from_static(scopes));
    resp
}

fn user_is_bot(shared: &Shared, user: &UserId) -> bool {
    shared.lock().ws.user(user).is_some_and(|u| u.bot_id.is_some())
}

async fn auth_test(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<RespBody> {
    let call = read_call(shared, req, false).await;
    let mut st = shared.lock();
    st.auth_tests += 1;
    if let Ok(c) = &call
        && c.token_in_url
    {
        st.tokens_in_urls += 1;
    }
    drop(st);
    shared.notify();
    let call = match call {
        Ok(c) => c,
        Err(code) => return api_error(code),
    };
    let user = match authenticate(shared, call.token.as_deref()) {
        Auth::Err(code) => return api_error(code),
        Auth::Ok { user, .. } => user,
    };
    let st = shared.lock();
    let team = &st.ws.team;
    let Some(u) = st.ws.user(&user) else { return api_error("invalid_auth") };
    let mut body = json!({
        "ok": true,
        "url": format!("https://{}.slack.com/", team.domain),
        "team": team.name,
        "user": u.name,
        "team_id": team.id,
        "user_id": u.id,
        "is_enterprise_install": false,
    });
    if let Some(bot) = &u.bot_id {
        body["bot_id"] = json!(bot);
    }
    if let Some(e) = &team.enterprise_id {
        body["enterprise_id"] = json!(e);
    }
    drop(st);
    json_response(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parsing() {
        let ct = parse_content_type("Multipart/Form-Data; boundary=\"abc\"; charset=UTF-8");
        assert_eq!(ct.mime, "multipart/form-data");
        assert_eq!(ct.boundary.as_deref(), Some("abc"));
        assert_eq!(ct.charset.as_deref(), Some("UTF-8"));
    }

    #[test]
    fn urlencoded_parsing() {
        assert_eq!(
            parse_urlencoded(b"a=1&b=x+y%21&&c", false).unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "x y!".into()), ("c".into(), "".into())]
        );
        assert!(parse_urlencoded(b"a=%zz", false).is_none());
        assert!(parse_urlencoded(b"a=%e9", false).is_none());
        assert_eq!(parse_urlencoded(b"a=%e9", true).unwrap(), vec![("a".into(), "é".into())]);
    }

    #[test]
    fn multipart_parsing() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nxoxb-1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"presence_sub\"\r\n\r\nfalse\r\n--XyZ--\r\n";
        assert_eq!(
            parse_multipart(body, "XyZ", false).unwrap(),
            vec![("token".into(), "xoxb-1".into()), ("presence_sub".into(), "false".into())]
        );
        assert!(parse_multipart(b"garbage", "XyZ", false).is_none());
        assert!(parse_multipart(body, "", false).is_none());
        assert!(
            parse_multipart(
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end",
                "XyZ",
                false
            )
            .is_none()
        );
    }
}
