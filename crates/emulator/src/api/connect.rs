//! `rtm.connect` and `auth.test`: scripted rejections, the rate limit, authentication.

use super::form::{Call, parse_bool, read_call, redacted_args, with_warnings};
use super::{RespBody, api_error, json_response, respond};
use crate::faults::Rejection;
use crate::record::ConnectCall;
use crate::workspace::TokenFlavor;
use crate::{RateLimit, Shared};
use bytes::Bytes;
use http::header::HeaderValue;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;
use slack_rtm_types::{ApiError, ConnectOptions, UserId};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) fn rejection_response(
    rejection: &Rejection,
    shared: &Shared,
) -> (Response<RespBody>, Option<String>) {
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

pub(crate) fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

pub(crate) fn rate_limited(secs: u64) -> Response<RespBody> {
    let mut resp =
        json_response(StatusCode::TOO_MANY_REQUESTS, &json!({"ok": false, "error": "ratelimited"}));
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    resp
}

/// `Some(retry_after_secs)` when this `rtm.connect` call is over the rate limit; otherwise
/// counts it.
pub(crate) fn check_rate_limit(shared: &Shared) -> Option<u64> {
    let limit = shared.config.connect_rate_limit?;
    over_limit(&mut shared.lock().rate_window, limit, Instant::now())
}

/// A sliding-window limit: `Some(retry_after_secs)` when a call at `now` is over `limit`;
/// otherwise the call is counted.
pub(crate) fn over_limit(window: &mut VecDeque<Instant>, limit: RateLimit, now: Instant) -> Option<u64> {
    while window.front().is_some_and(|t| now.duration_since(*t) >= limit.window) {
        window.pop_front();
    }
    if window.len() >= limit.max_calls as usize {
        let oldest = *window.front()?;
        let wait = (oldest + limit.window).saturating_duration_since(now);
        return Some(ceil_secs(wait).max(1));
    }
    window.push_back(now);
    None
}

/// Reads a connect-style call (`rtm.connect`, `apps.connections.open`) into its `record`: the
/// arguments (redacted), how the token came and the charset warnings. `Err` is the answer when
/// the body cannot be read.
pub(crate) async fn read_recorded(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    record: &mut ConnectCall,
) -> Result<Call, Response<RespBody>> {
    let call = match read_call(shared, req, true).await {
        Ok(call) => call,
        Err(code) => {
            record.error = Some(code.into());
            return Err(api_error(code));
        }
    };
    record.args = redacted_args(&call.args);
    record.bearer = call.bearer;
    record.token_in_url |= call.token_in_url;
    record.warnings = call.warnings.iter().map(|w| (*w).to_owned()).collect();
    Ok(call)
}

pub(crate) enum Auth {
    Ok { user: UserId, flavor: TokenFlavor },
    Err(&'static str),
}

/// Checks the token of a call of `method` (tokens `oauth.v2.access` issued first:
/// `token_expired`, `token_revoked`), and records its use ([`crate::TokenUse`]).
pub(crate) fn authenticate(shared: &Shared, method: &str, token: Option<&str>) -> Auth {
    let Some(token) = token.filter(|t| !t.is_empty()) else { return Auth::Err("not_authed") };
    let mut st = shared.lock();
    let auth = crate::oauth::check_token(&st, token).unwrap_or_else(|| match st.ws.tokens.get(token) {
        None => Auth::Err("invalid_auth"),
        Some(t) if !t.active => Auth::Err("account_inactive"),
        Some(t) => Auth::Ok { user: t.user.clone(), flavor: t.flavor },
    });
    crate::oauth::record_use(&mut st, method, token, &auth);
    auth
}

pub(crate) async fn rtm_connect(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<RespBody> {
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

pub(crate) async fn rtm_connect_inner(
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
    let call = match read_recorded(shared, req, record).await {
        Ok(call) => call,
        Err(resp) => return resp,
    };
    let user = match authenticate(shared, "rtm.connect", call.token.as_deref()) {
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

pub(crate) fn user_is_bot(shared: &Shared, user: &UserId) -> bool {
    shared.lock().ws.user(user).is_some_and(|u| u.bot_id.is_some())
}

pub(crate) async fn auth_test(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<RespBody> {
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
    let user = match authenticate(shared, "auth.test", call.token.as_deref()) {
        Auth::Err(code) => return api_error(code),
        Auth::Ok { user, .. } => user,
    };
    let st = shared.lock();
    // The token's workspace (or org, for an org-wide install).
    let team = crate::oauth::team_view(&st, call.token.as_deref().unwrap_or(""), &user);
    let Some(u) = st.ws.user(&user) else { return api_error("invalid_auth") };
    let mut body = json!({
        "ok": true,
        "url": format!("https://{}.slack.com/", team.domain),
        "team": team.name,
        "user": u.name,
        "team_id": team.id,
        "user_id": u.id,
        "is_enterprise_install": team.org_install,
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
