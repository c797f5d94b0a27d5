//! Request bodies sent in chunks, for uploads: [`StreamingBody`] and its [`BodySource`].
//!
//! [`HttpTransport::send`](crate::HttpTransport::send) takes the whole body as a `Vec<u8>`,
//! which is right for Web API calls (small JSON or forms) but not for the bytes of a file
//! upload. [`HttpTransport::send_streaming`](crate::HttpTransport::send_streaming) takes a
//! [`StreamingBody`] instead: a declared length and a source polled for one chunk at a time,
//! so a transport that supports it (the built-in hyper one) holds only the chunk in flight.
//! Its default implementation, for transports that do not, gathers the chunks into one
//! `Vec<u8>` and calls `send` — correct, but it buffers the whole body.
//!
//! Runtime-agnostic: a source is polled like a future (`poll_chunk`), so any runtime's
//! reader can be one.

use crate::transport::BoxError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Produces a request body one chunk at a time.
pub trait BodySource: Send {
    /// The next chunk; `Ready(None)` at the end. An error ends the body (the request fails).
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Vec<u8>, BoxError>>>;
}

/// A request body of a known length, produced in chunks by a [`BodySource`].
pub struct StreamingBody {
    length: u64,
    source: Pin<Box<dyn BodySource>>,
}

impl StreamingBody {
    /// A body of exactly `length` bytes from `source` (a source that yields more or fewer
    /// makes the request fail).
    pub fn new(length: u64, source: impl BodySource + 'static) -> Self {
        Self { length, source: Box::pin(source) }
    }

    /// The declared length (sent as `Content-Length`).
    pub fn length(&self) -> u64 {
        self.length
    }

    /// Polls the source for its next chunk.
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Vec<u8>, BoxError>>> {
        self.source.as_mut().poll_chunk(cx)
    }

    /// The whole body in memory (what the default `send_streaming` does); fails if the source
    /// fails or its length differs from the declared one.
    pub async fn collect(mut self) -> Result<Vec<u8>, BoxError> {
        let mut out = Vec::with_capacity(usize::try_from(self.length).unwrap_or(0).min(1 << 20));
        while let Some(chunk) = std::future::poll_fn(|cx| self.poll_chunk(cx)).await {
            out.extend_from_slice(&chunk?);
            if out.len() as u64 > self.length {
                return Err(LengthMismatch { declared: self.length, produced: out.len() as u64 }.into());
            }
        }
        if out.len() as u64 != self.length {
            return Err(LengthMismatch { declared: self.length, produced: out.len() as u64 }.into());
        }
        Ok(out)
    }
}

impl fmt::Debug for StreamingBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingBody").field("length", &self.length).finish_non_exhaustive()
    }
}

/// A streamed body produced more or fewer bytes than it declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the body produced {produced} bytes but declared {declared}")]
pub struct LengthMismatch {
    /// The declared length.
    pub declared: u64,
    /// What the source produced (so far, when over).
    pub produced: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Chunks(Vec<Vec<u8>>);

    impl BodySource for Chunks {
        fn poll_chunk(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Vec<u8>, BoxError>>> {
            Poll::Ready(if self.0.is_empty() { None } else { Some(Ok(self.0.remove(0))) })
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // The sources here are always ready: one poll with a no-op waker finishes.
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("pending"),
        }
    }

    #[test]
    fn collect_checks_the_declared_length() {
        let body = StreamingBody::new(5, Chunks(vec![b"ab".to_vec(), b"cde".to_vec()]));
        assert_eq!(block_on(body.collect()).unwrap(), b"abcde");
        let short = StreamingBody::new(6, Chunks(vec![b"ab".to_vec()]));
        assert!(
            block_on(short.collect()).unwrap_err().to_string().contains("produced 2 bytes but declared 6")
        );
        let long = StreamingBody::new(1, Chunks(vec![b"ab".to_vec()]));
        assert!(block_on(long.collect()).is_err());
    }
}
