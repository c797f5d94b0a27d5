//! [`HttpServer`]: a hyper 1 server for one [`SlackReceiver`] at one path.

use super::drain::Drain;
use super::receiver::{InboundHandler, ReceiverBody, SlackReceiver};
use super::{PageHandler, response};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running HTTP mode server: HTTP/1.1 and HTTP/2 (h2c, chosen per connection), one
/// receiver at one path (404 elsewhere). Stop it with [`HttpServer::shutdown`].
#[derive(Debug)]
pub struct HttpServer {
    local_addr: SocketAddr,
    path: String,
    stop: watch::Sender<Option<Duration>>,
    task: JoinHandle<bool>,
}

impl HttpServer {
    /// Binds `addr` (port 0: a free port, see [`HttpServer::local_addr`]) and serves
    /// `receiver` at `path` (e.g. `/slack/events`).
    pub async fn bind<H: InboundHandler>(
        addr: SocketAddr,
        path: impl Into<String>,
        receiver: SlackReceiver<H>,
    ) -> io::Result<HttpServer> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self::serve(listener, path, receiver))
    }

    /// Serves `receiver` at `path` on a listener already bound.
    pub fn serve<H: InboundHandler>(
        listener: TcpListener,
        path: impl Into<String>,
        receiver: SlackReceiver<H>,
    ) -> HttpServer {
        Self::serve_with_pages(listener, path, receiver, None)
    }

    /// [`HttpServer::serve`], with `pages` answering `GET` and `HEAD` requests to other paths
    /// (e.g. an OAuth install flow's pages); what it does not answer is a 404.
    pub fn serve_with_pages<H: InboundHandler>(
        listener: TcpListener,
        path: impl Into<String>,
        receiver: SlackReceiver<H>,
        pages: Option<Arc<dyn PageHandler>>,
    ) -> HttpServer {
        let local_addr = listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let mut path: String = path.into();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        let (stop, stopped) = watch::channel(None);
        let task = tokio::spawn(accept_loop(listener, path.clone(), receiver, pages, stopped));
        HttpServer { local_addr, path, stop, task }
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The Request URL it serves, e.g. `http://127.0.0.1:3000/slack/events`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.local_addr, self.path)
    }

    /// Stops accepting connections, lets the requests in flight finish (their answers are
    /// sent) for up to `grace`, then closes every connection. `true` when everything finished
    /// within `grace`.
    pub async fn shutdown(self, grace: Duration) -> bool {
        let _ = self.stop.send(Some(grace));
        self.task.await.unwrap_or(false)
    }
}

async fn accept_loop<H: InboundHandler>(
    listener: TcpListener,
    path: String,
    receiver: SlackReceiver<H>,
    pages: Option<Arc<dyn PageHandler>>,
    mut stopped: watch::Receiver<Option<Duration>>,
) -> bool {
    let drain = Drain::default();
    let builder = auto::Builder::new(TokioExecutor::new());
    let path: Arc<str> = path.into();
    let grace = loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, go on.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break stopped.borrow().unwrap_or_default(),
        };
        let _ = stream.set_nodelay(true);
        let (receiver, path, pages) = (receiver.clone(), path.clone(), pages.clone());
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let (receiver, path, pages) = (receiver.clone(), path.clone(), pages.clone());
            async move {
                if req.uri().path() != &*path {
                    let page = match (&pages, req.method()) {
                        (Some(pages), &Method::GET | &Method::HEAD) => pages.page(req.into_parts().0).await,
                        _ => None,
                    };
                    let page = page.unwrap_or_else(|| response(StatusCode::NOT_FOUND, None, Bytes::new()));
                    return Ok::<Response<ReceiverBody>, Infallible>(page.map(Full::new));
                }
                Ok(receiver.answer(req).await.map(Full::new))
            }
        });
        let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
        let conn = drain.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "connection closed with an error: {e}");
            }
        });
    };
    drop(listener);
    tokio::time::timeout(grace, drain.shutdown()).await.is_ok()
}
