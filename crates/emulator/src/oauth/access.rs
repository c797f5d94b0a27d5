//! `POST /api/oauth.v2.access`: a code exchange or a refresh, as Slack answers them.
//!
//! The app authenticates with `Authorization: Basic` or the `client_id` / `client_secret`
//! form fields (`invalid_client_id`, `bad_client_secret`). A code (`invalid_code` when unknown,
//! used or expired; `bad_redirect_uri` when a given `redirect_uri` is not the authorize
//! page's) gives the bot token, the user token when user scopes were asked, and the incoming
//! webhook when `incoming-webhook` was. `grant_type=refresh_token` consumes a single-use
//! refresh token (`invalid_refresh_token`) and gives a new token and refresh token. Any other
//! `grant_type` is `invalid_grant_type`. Failures scripted with
//! [`crate::Emulator::reject_next_web_calls`] (`"oauth.v2.access"`) are answered before any
//! check and use nothing up.

use super::basic::{Basic, basic_credentials};
use super::{ClientAuth, Code, GrantKind, Install, InstallKey, IssuedTokenKind, OAuthCall};
use crate::api::connect::rejection_response;
use crate::api::form::read_call;
use crate::api::{RespBody, api_error, json_response};
use crate::{Shared, State};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};
use slack_rtm_types::{ChannelId, EnterpriseId, TeamId, UserId};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Answer = Result<Value, &'static str>;

/// Serves `oauth.v2.access`.
pub(crate) async fn oauth_v2_access(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<RespBody> {
    let mut record = OAuthCall {
        at: Instant::now(),
        grant: GrantKind::Code,
        client_auth: ClientAuth::None,
        team_id: None,
        enterprise_id: None,
        token_type: None,
        error: None,
    };
    let resp = serve(shared, req, &mut record).await;
    let mut st = shared.lock();
    st.oauth.calls.push(record);
    drop(st);
    shared.notify();
    resp
}

async fn serve(shared: &Arc<Shared>, req: Request<Incoming>, record: &mut OAuthCall) -> Response<RespBody> {
    if req.method() != Method::GET && req.method() != Method::POST {
        record.error = Some("method_not_allowed".into());
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"ok": false, "error": "method_not_allowed"}),
        );
    }
    let basic = basic_credentials(req.headers());
    let call = match read_call(shared, req, true).await {
        Ok(c) => c,
        Err(code) => {
            record.error = Some(code.into());
            return api_error(code);
        }
    };
    let arg = |name: &str| {
        call.args.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    };
    let (client_id, secret) = match &basic {
        Basic::Credentials(id, secret) => {
            record.client_auth = ClientAuth::Basic;
            (Some(id.as_str()), Some(secret.as_str()))
        }
        Basic::Malformed => (None, None),
        Basic::Absent => {
            let (id, secret) = (arg("client_id"), arg("client_secret"));
            if id.is_some() || secret.is_some() {
                record.client_auth = ClientAuth::Form;
            }
            (id, secret)
        }
    };
    record.grant = match arg("grant_type") {
        None | Some("authorization_code") => GrantKind::Code,
        Some("refresh_token") => GrantKind::RefreshToken,
        Some(other) => GrantKind::Other(other.to_owned()),
    };
    // A scripted failure (`Emulator::reject_next_web_calls("oauth.v2.access", …)`) is answered
    // before any check: the code or refresh token is not used up.
    let rejection = shared.lock().web.rejections.get_mut("oauth.v2.access").and_then(|q| q.pop_front());
    if let Some(rejection) = rejection {
        let (resp, error) = rejection_response(&rejection, shared);
        record.error = Some(error.unwrap_or_else(|| "rejected".into()));
        return resp;
    }
    let answer = {
        let mut st = shared.lock();
        if client_id != Some(st.oauth.client_id.as_str()) {
            Err("invalid_client_id")
        } else if secret != Some(st.oauth.client_secret.as_str()) {
            Err("bad_client_secret")
        } else {
            match &record.grant {
                GrantKind::Code => exchange(shared, &mut st, arg("code"), arg("redirect_uri"), record),
                GrantKind::RefreshToken => refresh(shared, &mut st, arg("refresh_token"), record),
                GrantKind::Other(_) => Err("invalid_grant_type"),
            }
        }
    };
    match answer {
        Ok(mut body) => {
            body["ok"] = json!(true);
            tracing::info!(grant = ?record.grant, team = ?record.team_id, "emulator: oauth.v2.access answered");
            json_response(StatusCode::OK, &body)
        }
        Err(code) => {
            record.error = Some(code.into());
            api_error(code)
        }
    }
}

/// `team` and `enterprise` of an install, as the answer names them, and who it is for.
struct Parties {
    team: Value,
    enterprise: Value,
    org_install: bool,
    bot: UserId,
    installer: UserId,
    general: ChannelId,
}

fn parties(shared: &Shared, st: &State, key: &InstallKey, record: &mut OAuthCall) -> Parties {
    let org_json = |e: &EnterpriseId| {
        let name = st.oauth.org(e.as_str()).map(|o| o.name.clone()).unwrap_or_default();
        json!({"id": e, "name": name})
    };
    let team_parts = |t: &TeamId| match st.oauth.team(t.as_str()) {
        Some(r) => {
            (json!({"id": r.id, "name": r.name}), r.bot.clone(), r.installer.clone(), r.general.clone())
        }
        None => (
            json!({"id": st.ws.team.id, "name": st.ws.team.name}),
            shared.bot.user.clone(),
            shared.second.user.clone(),
            shared.general.clone(),
        ),
    };
    match key {
        InstallKey::Team(t) => {
            let enterprise = st.oauth.enterprise_of_team(t).cloned();
            record.team_id = Some(t.clone());
            record.enterprise_id = enterprise.clone();
            let (team, bot, installer, general) = team_parts(t);
            Parties {
                team,
                enterprise: enterprise.as_ref().map_or(Value::Null, org_json),
                org_install: false,
                bot,
                installer,
                general,
            }
        }
        InstallKey::Org(e) => {
            record.enterprise_id = Some(e.clone());
            let org = st.oauth.org(e.as_str());
            let first = org.and_then(|o| o.teams.first().cloned()).unwrap_or_else(|| st.ws.team.id.clone());
            let (_, _, installer, general) = team_parts(&first);
            Parties {
                team: Value::Null,
                enterprise: org_json(e),
                org_install: true,
                bot: org.map_or_else(|| shared.bot.user.clone(), |o| o.bot.clone()),
                installer,
                general,
            }
        }
    }
}

fn expires_in(lifetime: Duration) -> u64 {
    lifetime.as_secs()
}

fn exchange(
    shared: &Shared,
    st: &mut State,
    code: Option<&str>,
    redirect_uri: Option<&str>,
    record: &mut OAuthCall,
) -> Answer {
    let now = Instant::now();
    let c: Code = match code.and_then(|c| st.oauth.codes.get(c)) {
        Some(c) if !c.used && c.expires > now => c.clone(),
        _ => return Err("invalid_code"),
    };
    if redirect_uri.is_some_and(|r| r != c.redirect_uri) {
        return Err("bad_redirect_uri");
    }
    if let Some(stored) = code.and_then(|code| st.oauth.codes.get_mut(code)) {
        stored.used = true;
    }
    let p = parties(shared, st, &c.key, record);
    let mut body = json!({
        "app_id": st.sm.app_id,
        "team": p.team,
        "enterprise": p.enterprise,
        "is_enterprise_install": p.org_install,
        "authed_user": {"id": p.installer},
    });
    let mut bot = None;
    if !c.scope.is_empty() {
        let (token, refresh) = st.oauth.issue_token(&c.key, IssuedTokenKind::Bot, &p.bot, &c.scope);
        body["access_token"] = json!(token);
        body["token_type"] = json!("bot");
        body["scope"] = json!(c.scope);
        body["bot_user_id"] = json!(p.bot);
        if let Some((r, l)) = refresh {
            body["refresh_token"] = json!(r);
            body["expires_in"] = json!(expires_in(l));
        }
        record.token_type = Some("bot".into());
        bot = Some(p.bot.clone());
    }
    if !c.user_scope.is_empty() {
        let (token, refresh) =
            st.oauth.issue_token(&c.key, IssuedTokenKind::User, &p.installer, &c.user_scope);
        let user = &mut body["authed_user"];
        user["scope"] = json!(c.user_scope);
        user["access_token"] = json!(token);
        user["token_type"] = json!("user");
        if let Some((r, l)) = refresh {
            user["refresh_token"] = json!(r);
            user["expires_in"] = json!(expires_in(l));
        }
        record.token_type.get_or_insert_with(|| "user".into());
    }
    if c.scope.split(',').any(|s| s.trim() == "incoming-webhook") {
        let base = shared.base_url();
        let team = match &c.key {
            InstallKey::Team(t) => t.as_str().to_owned(),
            InstallKey::Org(e) => e.as_str().to_owned(),
        };
        let name = st.ws.channels.iter().find(|ch| ch.id == p.general).map(|ch| ch.name.clone());
        body["incoming_webhook"] = json!({
            "channel": format!("#{}", name.unwrap_or_default()),
            "channel_id": p.general,
            "configuration_url": format!("{base}services/{team}"),
            "url": format!("{base}services/{team}/B{:010}/{}", crate::workspace::random_u64() % 10_000_000_000,
                           crate::workspace::random_alnum(24)),
        });
    }
    st.oauth.installs.insert(c.key.clone(), Install { bot });
    Ok(body)
}

fn refresh(shared: &Shared, st: &mut State, token: Option<&str>, record: &mut OAuthCall) -> Answer {
    let r = match token.and_then(|t| st.oauth.refresh.get_mut(t)) {
        Some(r) if !r.used => {
            r.used = true;
            r.clone()
        }
        _ => return Err("invalid_refresh_token"),
    };
    let p = parties(shared, st, &r.key, record);
    let (access, next) = st.oauth.issue_token(&r.key, r.kind, &r.user, &r.scope);
    let token_type = if r.kind == IssuedTokenKind::Bot { "bot" } else { "user" };
    record.token_type = Some(token_type.into());
    let mut body = json!({
        "app_id": st.sm.app_id,
        "access_token": access,
        "token_type": token_type,
        "scope": r.scope,
        "team": p.team,
        "enterprise": p.enterprise,
        "is_enterprise_install": p.org_install,
    });
    if r.kind == IssuedTokenKind::Bot {
        body["bot_user_id"] = json!(r.user);
    } else {
        body["user_id"] = json!(r.user);
    }
    if let Some((next, l)) = next {
        body["refresh_token"] = json!(next);
        body["expires_in"] = json!(expires_in(l));
    }
    Ok(body)
}
