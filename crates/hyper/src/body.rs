//! The request body the client sends: a whole buffer (Web API calls) or a
//! [`StreamingBody`] polled chunk by chunk (uploads), one type so both share the pool.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use slack_rtm_codec::{BoxError, LengthMismatch, StreamingBody};
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) enum ReqBody {
    Full(Option<Bytes>),
    Stream { body: StreamingBody, remaining: u64 },
}

impl ReqBody {
    pub fn full(bytes: Vec<u8>) -> Self {
        ReqBody::Full(Some(Bytes::from(bytes)).filter(|b| !b.is_empty()))
    }

    pub fn stream(body: StreamingBody) -> Self {
        let remaining = body.length();
        ReqBody::Stream { body, remaining }
    }
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            ReqBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ReqBody::Stream { body, remaining } => match body.poll_chunk(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(chunk))) => {
                    let len = chunk.len() as u64;
                    if len > *remaining {
                        let declared = body.length();
                        let produced = declared - *remaining + len;
                        return Poll::Ready(Some(Err(Box::new(LengthMismatch { declared, produced }))));
                    }
                    *remaining -= len;
                    Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
                }
                Poll::Ready(None) if *remaining > 0 => {
                    let declared = body.length();
                    let produced = declared - *remaining;
                    *remaining = 0;
                    Poll::Ready(Some(Err(Box::new(LengthMismatch { declared, produced }))))
                }
                Poll::Ready(None) => Poll::Ready(None),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ReqBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReqBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ReqBody::Full(None) => SizeHint::with_exact(0),
            ReqBody::Stream { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}
