//! [`WebhookLayer`] (feature `webhook-layer`): a tower layer that checks Box's signature on every
//! request before the service behind it (an axum handler) sees it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use tower_layer::Layer;
use tower_service::Service;

use super::{WebhookVerdict, WebhookVerifier};
use crate::time::{SharedTimeSource, TimeSource};

/// The largest delivery read (Box's are a few KiB).
const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// A `tower::Layer` that reads each request's body (up to a limit), checks Box's webhook
/// signature with a [`WebhookVerifier`], and answers `403 Forbidden` (a body that names the
/// reason, nothing secret) without calling the inner service when the check fails; `413` for a
/// body over the limit. A delivery that passes reaches the inner service with its body as it
/// was and the [`WebhookVerdict`] in its extensions.
///
/// ```no_run
/// # #[cfg(feature = "webhook-layer")]
/// # fn app() -> axum::Router {
/// use axum::routing::post;
/// use boxauth::{WebhookLayer, WebhookVerifier};
///
/// let verifier = WebhookVerifier::new("primary-key").secondary("secondary-key");
/// axum::Router::new()
///     .route("/box/webhook", post(|body: String| async move { /* trusted */ let _ = body; }))
///     .layer(WebhookLayer::new(verifier))
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct WebhookLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    verifier: WebhookVerifier,
    clock: SharedTimeSource,
    max_body: usize,
}

impl WebhookLayer {
    /// Checks deliveries with `verifier`, on the system clock, reading at most 1 MiB.
    pub fn new(verifier: WebhookVerifier) -> Self {
        Self {
            shared: Arc::new(Shared {
                verifier,
                clock: crate::time::system(),
                max_body: DEFAULT_MAX_BODY,
            }),
        }
    }

    /// Decides ages on `clock` (a test's, say).
    pub fn time_source(self, clock: impl TimeSource + 'static) -> Self {
        self.rebuild(|shared| shared.clock = Arc::new(clock))
    }

    /// Reads at most `bytes` of a body (larger ones get `413`).
    pub fn max_body(self, bytes: usize) -> Self {
        self.rebuild(|shared| shared.max_body = bytes)
    }

    fn rebuild(self, change: impl FnOnce(&mut Shared)) -> Self {
        let mut shared = Shared {
            verifier: self.shared.verifier.clone(),
            clock: self.shared.clock.clone(),
            max_body: self.shared.max_body,
        };
        change(&mut shared);
        Self {
            shared: Arc::new(shared),
        }
    }
}

impl<S> Layer<S> for WebhookLayer {
    type Service = WebhookService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WebhookService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`WebhookLayer`] wraps around `S`.
#[derive(Debug, Clone)]
pub struct WebhookService<S> {
    inner: S,
    shared: Arc<Shared>,
}

fn answer<R: From<Bytes>>(status: http::StatusCode, text: String) -> http::Response<R> {
    let mut response = http::Response::new(R::from(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

impl<S, B, R> Service<http::Request<B>> for WebhookService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + From<Bytes> + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R: From<Bytes> + Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The service that was polled ready takes this request; its clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let bytes = match Limited::new(body, shared.max_body).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    return Ok(answer(
                        http::StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "webhook delivery refused: the body could not be read within {} bytes",
                            shared.max_body
                        ),
                    ));
                }
            };
            let headers = parts
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes()));
            let verdict = shared.verifier.verify(headers, &bytes, shared.clock.now());
            if !verdict.is_valid() {
                tracing::warn!(reason = %verdict.reason(), "a webhook delivery was refused");
                return Ok(answer(
                    http::StatusCode::FORBIDDEN,
                    format!("webhook delivery refused: {}", verdict.reason()),
                ));
            }
            parts.extensions.insert::<WebhookVerdict>(verdict);
            inner
                .call(http::Request::from_parts(parts, B::from(bytes)))
                .await
        })
    }
}
