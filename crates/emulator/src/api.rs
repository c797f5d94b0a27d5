//! The HTTP side: accept loop, routing, responses, the socket upgrade (the methods are in
//! [`connect`], the request reading in [`form`]).

mod apps;
pub(crate) mod connect;
pub(crate) mod form;

use crate::workspace::random_u64;
use crate::{Shared, socket, socket_mode, wire};
use bytes::Bytes;
use connect::{auth_test, rtm_connect};
use form::parse_urlencoded;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::json;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;

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

pub(crate) fn respond(status: StatusCode, content_type: &'static str, body: RespBody) -> Response<RespBody> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut().insert(REQ_ID, req_id());
    resp
}

pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<RespBody> {
    respond(status, "application/json; charset=utf-8", RespBody::Full(Some(Bytes::from(value.to_string()))))
}

pub(crate) fn api_error(code: &str) -> Response<RespBody> {
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
    if !matches!(path.as_str(), "/api/rtm.connect" | "/api/auth.test" | "/api/apps.connections.open")
        && req.uri().query().is_some_and(query_has_token)
    {
        shared.lock().tokens_in_urls += 1;
    }
    if let Some(ticket) = path.strip_prefix("/websocket/") {
        let ticket = ticket.to_owned();
        return rtm_upgrade(&shared, req, &ticket);
    }
    match path.as_str() {
        "/link/" | "/link" => socket_mode_upgrade(&shared, req),
        "/api/rtm.connect" => rtm_connect(&shared, req).await,
        "/api/apps.connections.open" => apps::apps_connections_open(&shared, req).await,
        "/api/auth.test" => auth_test(&shared, req).await,
        "/api/oauth.v2.access" => crate::oauth::oauth_v2_access(&shared, req).await,
        "/oauth/v2/authorize" => crate::oauth::authorize_page(&shared, &req),
        p if p.starts_with("/upload/v1/") => {
            crate::web::files::receive(&shared, &p["/upload/v1/".len()..], req).await
        }
        p if p.starts_with("/api/") => {
            let method = &p["/api/".len()..];
            if crate::web::serves(method) {
                return crate::web::handle(&shared, method.to_owned(), req).await;
            }
            if req.method() != Method::GET && req.method() != Method::POST {
                return json_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    &json!({"ok": false, "error": "method_not_allowed"}),
                );
            }
            api_error("unknown_method")
        }
        p if crate::web::respond::is_response_path(p) => crate::web::respond::handle(&shared, req).await,
        _ => json_response(StatusCode::NOT_FOUND, &json!({"ok": false, "error": "not_found"})),
    }
}

/// Upgrades to a WebSocket and runs `run` on it.
fn upgrade<F, Fut>(shared: &Arc<Shared>, mut req: Request<Incoming>, run: F) -> Response<RespBody>
where
    F: FnOnce(Arc<Shared>, wire::Io) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
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
    let s = shared.clone();
    shared.spawn(async move {
        match fut.await {
            Ok(ws) => run(s, ws.into_inner()).await,
            Err(e) => tracing::debug!(error = %e, "WebSocket upgrade did not complete"),
        }
    });
    let (mut parts, _) = resp.into_parts();
    parts.headers.insert(REQ_ID, req_id());
    Response::from_parts(parts, RespBody::Full(None))
}

/// The RTM socket at `/websocket/<ticket>`.
fn rtm_upgrade(shared: &Arc<Shared>, req: Request<Incoming>, ticket: &str) -> Response<RespBody> {
    let admitted = shared.take_ticket(ticket);
    upgrade(shared, req, move |s, io| async move {
        match admitted {
            Some(admission) => socket::run_connection(s, io, admission).await,
            None => socket::reject_expired(io).await,
        }
    })
}

/// The Socket Mode socket at `/link/?ticket=…&app_id=…[&debug_reconnects=true]`. A ticket
/// that is unknown, used or expired is refused before the upgrade (HTTP 401).
fn socket_mode_upgrade(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<RespBody> {
    let args = req.uri().query().and_then(|q| parse_urlencoded(q.as_bytes(), false)).unwrap_or_default();
    let arg = |name: &str| args.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if !fastwebsockets::upgrade::is_upgrade_request(&req) {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"ok": false, "error": "not_a_websocket_upgrade"}),
        );
    }
    if !shared.sm_take_ticket(arg("ticket").unwrap_or("")) {
        return json_response(StatusCode::UNAUTHORIZED, &json!({"ok": false, "error": "invalid_ticket"}));
    }
    let debug = arg("debug_reconnects") == Some("true");
    upgrade(shared, req, move |s, io| socket_mode::conn::run_socket(s, io, debug))
}
