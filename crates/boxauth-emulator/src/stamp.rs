//! What every answer carries: a `Date` from the emulator's clock (clients correct their clock skew
//! from it, as with Box) and a `box-request-id`; and, when the request log is on, its record. A
//! plain tower service, the outermost of each connection's (so the server limits' 408 and 413 and
//! the injected faults are stamped and logged too): no boxing, and the date text is formatted
//! once a second.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, Response, header};
use tower::Service;

use crate::clock::Clock;
use crate::errors::ErrorRow;
use crate::request_log::{Detail, Exchange, shown};
use crate::state::AppState;

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
    pub(crate) state: Arc<AppState>,
}

/// A request the log will record when its answer is ready.
pub struct Pending {
    at: String,
    method: String,
    path: String,
    started: Instant,
}

impl Pending {
    fn of<B>(request: &Request<B>, clock: &Clock) -> Self {
        let uri = request.uri();
        let path = match uri.query() {
            Some(query) => boxauth::internal::mask::url(&format!("{}?{query}", uri.path())),
            None => uri.path().to_owned(),
        };
        Self {
            at: httpdate::fmt_http_date(clock.now()),
            method: request.method().as_str().to_owned(),
            path: shown(&path),
            started: Instant::now(),
        }
    }

    fn finish(self, response: &Response<Body>) -> Exchange {
        let detail = response
            .extensions()
            .get::<Detail>()
            .cloned()
            .unwrap_or_default();
        let refusal = response.extensions().get::<ErrorRow>();
        Exchange {
            at: self.at,
            method: self.method,
            path: self.path,
            grant_type: detail.grant_type,
            client_id: detail.client_id,
            user_id: detail.user_id,
            status: response.status().as_u16(),
            error: refusal.map(|r| r.error.to_owned()),
            error_description: refusal.map(|r| r.description.to_owned()),
            duration_ms: self.started.elapsed().as_secs_f64() * 1000.0,
            request_id: response
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer, stamped (and logged) when it is ready.
    pub struct StampFuture<F> {
        #[pin]
        inner: F,
        state: Arc<AppState>,
        pending: Option<Pending>,
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
                stamp(&mut response, &this.state.clock);
                if let Some(pending) = this.pending.take() {
                    this.state.log.record(pending.finish(&response));
                }
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
        // The control API's own requests are not logged: the log is the client's traffic.
        let pending = (self.state.log.enabled()
            && !crate::control::is_control(request.uri().path()))
        .then(|| Pending::of(&request, &self.state.clock));
        StampFuture {
            inner: self.inner.call(request),
            state: self.state.clone(),
            pending,
        }
    }
}
