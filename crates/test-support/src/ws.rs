//! A raw WebSocket client for tests: the client handshake over any byte stream (plain TCP, TLS,
//! a proxy tunnel), with fastwebsockets, so a test can read and write the exact frames.

use bytes::Bytes;
use fastwebsockets::WebSocket;
use http_body_util::Empty;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::future::Future;
use tokio::io::{AsyncRead, AsyncWrite};

/// Runs the futures hyper's handshake hands over on tokio (`tokio::spawn`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SpawnExecutor;

impl<Fut> hyper::rt::Executor<Fut> for SpawnExecutor
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn execute(&self, fut: Fut) {
        tokio::spawn(fut);
    }
}

/// A WebSocket opened by [`handshake`].
pub type ClientSocket = WebSocket<TokioIo<Upgraded>>;

/// The WebSocket client handshake for `url` (its path and query; `Host` from its authority)
/// over `io`: the socket and the server's `101` answer (for its headers).
pub async fn handshake<S>(
    io: S,
    url: &http::Uri,
) -> Result<(ClientSocket, http::Response<hyper::body::Incoming>), fastwebsockets::WebSocketError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let req = http::Request::builder()
        .method("GET")
        .uri(url.path_and_query().map_or("/", |p| p.as_str()))
        .header("Host", url.authority().map_or("127.0.0.1", |a| a.as_str()))
        .header("Upgrade", "websocket")
        .header("Connection", "upgrade")
        .header("Sec-WebSocket-Key", fastwebsockets::handshake::generate_key())
        .header("Sec-WebSocket-Version", "13")
        .body(Empty::<Bytes>::new())
        .expect("a valid upgrade request");
    fastwebsockets::handshake::client(&SpawnExecutor, req, io).await
}
