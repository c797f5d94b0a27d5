//! `GET /oauth/v2/authorize`: Slack's authorize page, approved or denied by script
//! ([`crate::OAuthControl::approve_next`], [`crate::OAuthControl::deny_next`]). A good request
//! ends in a `302` to `redirect_uri` with `code` and `state` (or `error=access_denied`); a
//! bad client id, a missing or malformed `redirect_uri`, no scope at all or an unknown
//! workspace ends on an error page, with no redirect (as Slack does not redirect to a URI it
//! cannot trust).

use super::{AuthorizeVisit, Code, Decision, InstallKey};
use crate::api::form::parse_urlencoded;
use crate::api::{RespBody, respond};
use crate::{Shared, State};
use bytes::Bytes;
use http::header::{HeaderValue, LOCATION};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use slack_rtm_types::{EnterpriseId, TeamId};
use std::time::Instant;

/// An error page (no redirect).
fn error_page(status: StatusCode, reason: &str) -> Response<RespBody> {
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>Slack: {reason}</title></head>\n\
         <body><h1>Something went wrong when authorizing this app.</h1>\n\
         <p>Error: <code>{reason}</code></p></body></html>\n"
    );
    respond(status, "text/html; charset=utf-8", RespBody::Full(Some(Bytes::from(page))))
}

/// A `302` to `redirect_uri` with these query parameters added (`state` only when given).
fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Response<RespBody> {
    let params: Vec<&(&str, &str)> = params.iter().filter(|(k, v)| *k != "state" || !v.is_empty()).collect();
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{sep}{query}");
    let mut resp = respond(StatusCode::FOUND, "text/html; charset=utf-8", RespBody::Full(None));
    match HeaderValue::from_str(&location) {
        Ok(v) => {
            resp.headers_mut().insert(LOCATION, v);
            resp
        }
        Err(_) => error_page(StatusCode::BAD_REQUEST, "bad_redirect_uri"),
    }
}

/// The install a decision names: an org (org-wide) or a workspace (the default one included).
fn resolve(st: &State, id: &str) -> Option<InstallKey> {
    if st.oauth.org(id).is_some() {
        Some(InstallKey::Org(EnterpriseId::new(id)))
    } else if st.oauth.team(id).is_some() || st.ws.team.id.as_str() == id {
        Some(InstallKey::Team(TeamId::new(id)))
    } else {
        None
    }
}

/// Serves the authorize page and records the visit.
pub(crate) fn authorize_page(shared: &Shared, req: &Request<Incoming>) -> Response<RespBody> {
    let args = req.uri().query().and_then(|q| parse_urlencoded(q.as_bytes(), false)).unwrap_or_default();
    let arg = |name: &str| args.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut visit = AuthorizeVisit {
        at: Instant::now(),
        scope: arg("scope").unwrap_or_default(),
        user_scope: arg("user_scope").unwrap_or_default(),
        redirect_uri: arg("redirect_uri"),
        state: arg("state").is_some_and(|s| !s.is_empty()),
        approved: None,
        error: None,
    };
    let resp = page(shared, req, &args, &mut visit);
    shared.lock().oauth.visits.push(visit);
    shared.notify();
    resp
}

fn page(
    shared: &Shared,
    req: &Request<Incoming>,
    args: &[(String, String)],
    visit: &mut AuthorizeVisit,
) -> Response<RespBody> {
    if req.method() != Method::GET && req.method() != Method::POST {
        visit.error = Some("method_not_allowed".into());
        return error_page(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
    let mut fail = |status, reason: &str| {
        visit.error = Some(reason.to_owned());
        error_page(status, reason)
    };
    let arg = |name: &str| {
        args.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    };
    let mut st = shared.lock();
    if arg("client_id") != Some(st.oauth.client_id.as_str()) {
        return fail(StatusCode::BAD_REQUEST, "invalid_client_id");
    }
    let Some(redirect_uri) = arg("redirect_uri") else {
        return fail(StatusCode::BAD_REQUEST, "bad_redirect_uri");
    };
    if !(redirect_uri.starts_with("http://") || redirect_uri.starts_with("https://"))
        || HeaderValue::from_str(redirect_uri).is_err()
    {
        return fail(StatusCode::BAD_REQUEST, "bad_redirect_uri");
    }
    let scope = arg("scope").unwrap_or("").to_owned();
    let user_scope = arg("user_scope").unwrap_or("").to_owned();
    if scope.is_empty() && user_scope.is_empty() {
        return fail(StatusCode::BAD_REQUEST, "invalid_scope");
    }
    let state = arg("state").unwrap_or("").to_owned();
    let decision = st.oauth.decisions.pop_front().unwrap_or_else(|| {
        let team = arg("team").filter(|t| resolve(&st, t).is_some());
        Decision::Approve(team.map_or_else(|| st.ws.team.id.as_str().to_owned(), str::to_owned))
    });
    let target = match decision {
        Decision::Deny => {
            drop(st);
            visit.error = Some("access_denied".into());
            tracing::info!("emulator: authorize page denied");
            return redirect(redirect_uri, &[("error", "access_denied"), ("state", &state)]);
        }
        Decision::Approve(id) => id,
    };
    let Some(key) = resolve(&st, &target) else {
        return fail(StatusCode::BAD_REQUEST, "unknown_team");
    };
    let expires = Instant::now() + st.oauth.code_lifetime;
    let code = st.oauth.issue_code(Code {
        key,
        redirect_uri: redirect_uri.to_owned(),
        scope,
        user_scope,
        expires,
        used: false,
    });
    drop(st);
    tracing::info!(install = %target, "emulator: authorize page approved");
    visit.approved = Some(target);
    redirect(redirect_uri, &[("code", &code), ("state", &state)])
}
