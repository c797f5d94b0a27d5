//! What every driver loop shares: the connections' readers, polled by the loop task itself, and
//! a frame write that keeps them polled.

use super::socket::{self, Writer};
use crate::rtm::ConnId;
use fastwebsockets::Frame;
use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

/// The connections' readers, polled by the loop task (see [`Readers::poll`]).
#[derive(Default)]
pub(crate) struct Readers(Vec<(ConnId, socket::BoxFuture)>);

impl Readers {
    pub(crate) fn start(&mut self, conn: ConnId, reader: impl Future<Output = ()> + Send + 'static) {
        self.0.push((conn, Box::pin(reader)));
    }

    /// Drops a connection's reader (its socket is abandoned, so stopping mid-frame is fine).
    pub(crate) fn abort(&mut self, conn: ConnId) {
        self.0.retain(|(c, _)| *c != conn);
    }

    /// Drives every reader; finished ones are removed. Always pending: the readers' results
    /// reach the loop through its socket channel, and their wake-ups wake the loop task.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.retain_mut(|(_, reader)| reader.as_mut().poll(cx).is_pending());
        Poll::Pending
    }
}

/// Writes and flushes one frame within `limit`, polling the readers meanwhile (a peer that only
/// reads once its own writes go through must not stall the write). The error says why.
pub(crate) async fn write_polling(
    readers: &mut Readers,
    w: &mut Writer,
    frame: Frame<'_>,
    limit: Duration,
) -> Result<(), String> {
    io_polling(readers, socket::write_and_flush(w, frame), limit).await
}

/// Runs one write (or flush) within `limit`, polling the readers meanwhile.
pub(crate) async fn io_polling(
    readers: &mut Readers,
    io: impl Future<Output = Result<(), fastwebsockets::WebSocketError>>,
    limit: Duration,
) -> Result<(), String> {
    let result = {
        let mut write = std::pin::pin!(tokio::time::timeout(limit, io));
        std::future::poll_fn(|cx| {
            let _ = readers.poll(cx);
            write.as_mut().poll(cx)
        })
        .await
    };
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("a write took longer than {limit:?}")),
    }
}
