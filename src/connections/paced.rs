//! The slow-POST guard: a request body must keep arriving at a minimum rate.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;

/// A request body gets the header timeout, plus one second per this many bytes received
/// (Apache's `mod_reqtimeout` default rate): uploads on slow links pass, trickles do not.
const MIN_BODY_BYTES_PER_SEC: u64 = 500;

/// A request body that fails once it falls behind `MIN_BODY_BYTES_PER_SEC` (after a grace
/// of the header timeout); the handler then answers an error and hyper closes the connection.
pub(super) struct Paced {
    body: Incoming,
    started: tokio::time::Instant,
    grace: Duration,
    received: u64,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl Paced {
    pub(super) fn new(body: Incoming, grace: Duration) -> Self {
        let started = tokio::time::Instant::now();
        Self {
            body,
            started,
            grace,
            received: 0,
            deadline: Box::pin(tokio::time::sleep_until(started + grace)),
        }
    }
}

impl hyper::body::Body for Paced {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match hyper::body::Body::poll_frame(Pin::new(&mut this.body), cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let allowed =
                        this.grace + Duration::from_secs(this.received / MIN_BODY_BYTES_PER_SEC);
                    this.deadline.as_mut().reset(this.started + allowed);
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(other) => return Poll::Ready(other.map(|r| r.map_err(Into::into))),
            Poll::Pending => {}
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err("request body arrived too slowly".into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        hyper::body::Body::is_end_stream(&self.body)
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::Body::size_hint(&self.body)
    }
}
