//! Writing on the loop's side: a frame then a flush, and closing a socket (a close frame, best
//! effort and bounded in time, then the socket dropped).

use super::Writer;
use fastwebsockets::{Frame, WebSocketError};
use std::future::Future;
use std::pin::Pin;

/// Writes a frame and flushes (TLS buffers until flushed).
pub(crate) async fn write_and_flush(w: &mut Writer, frame: Frame<'_>) -> Result<(), WebSocketError> {
    w.write_frame(frame).await?;
    w.flush().await
}

/// A boxed future, for the close tasks.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Writes a close frame (best effort, bounded by `limit`) and drops the socket.
pub(crate) fn close_socket(mut w: Box<Writer>, code: u16, limit: std::time::Duration) -> BoxFuture {
    Box::pin(async move {
        let _ = tokio::time::timeout(limit, write_and_flush(&mut w, Frame::close(code, b""))).await;
    })
}
