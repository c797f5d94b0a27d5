//! `HttpServer::serve_with_pages`: other paths' `GET`/`HEAD` go to the page handler; anything
//! it does not answer, and every other method there, is a 404; the receiver's path is
//! unchanged.

use bytes::Bytes;
use http::Response;
use slack_rtm_hyper::server::{
    HttpServer, Inbound, InboundHandler, PageHandler, SigningSecret, SlackReceiver, Verifier,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Nothing;
impl InboundHandler for Nothing {
    async fn handle(&self, _: Inbound) -> Response<Bytes> {
        Response::new(Bytes::new())
    }
}

struct Hello;
impl PageHandler for Hello {
    fn page(
        &self,
        head: http::request::Parts,
    ) -> Pin<Box<dyn Future<Output = Option<Response<Bytes>>> + Send + '_>> {
        Box::pin(async move {
            (head.uri.path() == "/hello")
                .then(|| Response::new(Bytes::from(format!("hello {}", head.uri.query().unwrap_or("")))))
        })
    }
}

async fn request(addr: std::net::SocketAddr, method: &str, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head =
        format!("{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn pages_answer_get_on_their_paths_and_everything_else_is_a_404() {
    let verifier = Verifier::new(SigningSecret::new("a-signing-secret-1234")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let pages: Arc<dyn PageHandler> = Arc::new(Hello);
    let server = HttpServer::serve_with_pages(
        listener,
        "/slack/events",
        SlackReceiver::new(verifier, Nothing),
        Some(pages),
    );
    let addr = server.local_addr();
    let got = request(addr, "GET", "/hello?x=1").await;
    assert!(got.starts_with("HTTP/1.1 200") && got.ends_with("hello x=1"), "{got}");
    assert!(request(addr, "GET", "/other").await.starts_with("HTTP/1.1 404"));
    assert!(
        request(addr, "POST", "/hello").await.starts_with("HTTP/1.1 404"),
        "pages take GET and HEAD only"
    );
    let unsigned = request(addr, "POST", "/slack/events").await;
    assert!(unsigned.starts_with("HTTP/1.1 401"), "the receiver's path is still verified: {unsigned}");
    assert!(server.shutdown(std::time::Duration::from_secs(1)).await);
}
