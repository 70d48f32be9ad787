//! What every answer carries: a `Date` from the emulator's clock (clients correct their clock skew
//! from it, as with Box) and a `box-request-id`. A plain tower service around the router: no
//! boxing, and the date text is formatted once a second.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, Response, header};
use tower::Service;

use crate::clock::Clock;

static REQUEST_ID: HeaderName = HeaderName::from_static("box-request-id");

thread_local! {
    static DATE: RefCell<(u64, Option<HeaderValue>)> = const { RefCell::new((u64::MAX, None)) };
}

/// The HTTP date of `clock`'s current second.
fn date(clock: &Clock) -> Option<HeaderValue> {
    let now = clock.now();
    http_date(now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// The HTTP date of a Unix second (formatted once a second per thread).
pub(crate) fn http_date(second: u64) -> Option<HeaderValue> {
    DATE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != second || cache.1.is_none() {
            let text = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(second));
            *cache = (second, HeaderValue::from_str(&text).ok());
        }
        cache.1.clone()
    })
}

fn stamp(response: &mut Response<Body>, clock: &Clock) {
    let headers = response.headers_mut();
    // A handler that read the clock already dated its answer with that reading.
    if !headers.contains_key(header::DATE)
        && let Some(date) = date(clock)
    {
        headers.insert(header::DATE, date);
    }
    let mut id = [0u8; 16];
    crate::tokens::hex_into(&crate::tokens::random_bytes::<8>(), &mut id);
    if let Ok(id) = HeaderValue::from_bytes(&id) {
        headers.insert(REQUEST_ID.clone(), id);
    }
}

/// The router with every answer stamped.
#[derive(Clone)]
pub(crate) struct Stamped<S> {
    pub(crate) inner: S,
    pub(crate) clock: Clock,
}

pin_project_lite::pin_project! {
    /// The inner answer, stamped when it is ready.
    pub struct StampFuture<F> {
        #[pin]
        inner: F,
        clock: Clock,
    }
}

impl<F, E> Future for StampFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Ready(Ok(mut response)) => {
                stamp(&mut response, this.clock);
                Poll::Ready(Ok(response))
            }
            other => other,
        }
    }
}

impl<S, B> Service<Request<B>> for Stamped<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = StampFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        StampFuture {
            inner: self.inner.call(request),
            clock: self.clock.clone(),
        }
    }
}
