//! `apps.connections.open`: scripted rejections, the rate limit, the app-level token, a
//! single-use socket URL.

use super::connect::rate_limited;
use super::connect::{over_limit, read_recorded, rejection_response};
use super::{RespBody, api_error, json_response};
use crate::Shared;
use crate::faults::Rejection;
use crate::record::ConnectCall;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

pub(crate) async fn apps_connections_open(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
) -> Response<RespBody> {
    let method = req.method().clone();
    let mut record = ConnectCall {
        at: Instant::now(),
        method: method.to_string(),
        args: Vec::new(),
        token_in_url: false,
        bearer: false,
        status: 200,
        error: None,
        warnings: Vec::new(),
        user: None,
    };
    let resp = open_inner(shared, req, method, &mut record).await;
    record.status = resp.status().as_u16();
    shared.sm_with(|sm, _| sm.open_calls.push(record.clone()));
    if record.token_in_url {
        shared.lock().tokens_in_urls += 1;
    }
    resp
}

async fn open_inner(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    method: Method,
    record: &mut ConnectCall,
) -> Response<RespBody> {
    if method != Method::POST {
        // Slack takes this method only as a POST.
        record.error = Some("method_not_allowed".into());
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"ok": false, "error": "method_not_allowed"}),
        );
    }
    if let Some(rejection) = shared.sm_with(|sm, _| sm.rejections.pop_front()) {
        let (resp, error) = match rejection {
            // An expired URL makes no sense here: answer with one that is already used up.
            Rejection::ExpiredUrl => {
                let url = shared.sm_issue_ticket();
                let ticket = url.split("ticket=").nth(1).and_then(|t| t.split('&').next()).unwrap_or("");
                shared.sm_take_ticket(ticket);
                (json_response(StatusCode::OK, &json!({"ok": true, "url": url})), None)
            }
            other => rejection_response(&other, shared),
        };
        record.error = error;
        return resp;
    }
    let limited = shared
        .config
        .connect_rate_limit
        .and_then(|limit| over_limit(&mut shared.lock().sm.rate_window, limit, Instant::now()));
    if let Some(secs) = limited {
        record.error = Some("ratelimited".into());
        return rate_limited(secs);
    }
    let call = match read_recorded(shared, req, record).await {
        Ok(call) => call,
        Err(resp) => return resp,
    };
    // Only the Authorization header counts: a token in the body or the URL is not accepted.
    let token = if call.bearer { call.token.as_deref() } else { None };
    let code = match token {
        None => Some("not_authed"),
        Some(t) => {
            let st = shared.lock();
            match st.sm.app_tokens.get(t) {
                Some(a) if a.revoked => Some("token_revoked"),
                Some(a) if !a.active => Some("account_inactive"),
                Some(a) if !a.connections_write => Some("missing_scope"),
                Some(_) => None,
                // A bot or user token of this workspace: the wrong kind of token.
                None if st.ws.tokens.contains_key(t) => Some("not_allowed_token_type"),
                None => Some("invalid_auth"),
            }
        }
    };
    if let Some(code) = code {
        record.error = Some(code.into());
        if code == "missing_scope" {
            // As Slack does: the scope the method needs, and the token's.
            let body = json!({"ok": false, "error": code, "needed": "connections:write", "provided": ""});
            return json_response(StatusCode::OK, &body);
        }
        return api_error(code);
    }
    let url = shared.sm_issue_ticket();
    json_response(StatusCode::OK, &json!({"ok": true, "url": url}))
}
