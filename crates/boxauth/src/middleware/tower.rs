//! [`BoxAuthLayer`]: Box tokens for any tower service of `http::Request<B>` (hyper's client, a
//! tower stack of your own).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

use super::Credentials;
use crate::auth::Authentication;
use crate::error::Result;

/// The error of a [`BoxAuthService`]: the inner service's, or boxauth's (no token).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body that can be copied, so a request answered 401 can be sent once more. Bodies
/// held in memory can; a stream cannot (`None`): its 401 is returned as it is.
pub trait CloneBody: Sized {
    /// A copy of the body, if it can be made.
    fn try_clone_body(&self) -> Option<Self>;
}

macro_rules! cloneable {
    ($($body:ty),*) => {$(
        impl CloneBody for $body {
            fn try_clone_body(&self) -> Option<Self> {
                Some(self.clone())
            }
        }
    )*};
}

cloneable!(
    String,
    Vec<u8>,
    bytes::Bytes,
    http_body_util::Full<bytes::Bytes>,
    http_body_util::Empty<bytes::Bytes>
);

macro_rules! streaming {
    ($($body:ty where $($param:ident),*);*) => {$(
        impl<$($param),*> CloneBody for $body {
            fn try_clone_body(&self) -> Option<Self> {
                None
            }
        }
    )*};
}

streaming!(
    http_body_util::StreamBody<S> where S;
    http_body_util::combinators::BoxBody<D, E> where D, E;
    http_body_util::combinators::UnsyncBoxBody<D, E> where D, E
);

/// A `tower::Layer` that sends every request with a Box token from `auth`, and on a 401
/// invalidates that token and sends the request once more with a fresh one (when its body is a
/// [`CloneBody`] that can be copied).
///
/// ```no_run
/// # fn run(auth: std::sync::Arc<dyn boxauth::Authentication>) {
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use tower_layer::Layer;
///
/// let hyper = Client::builder(TokioExecutor::new())
///     .build_http::<http_body_util::Empty<bytes::Bytes>>();
/// let client = boxauth::BoxAuthLayer::new(auth).layer(hyper);
/// # let _ = client; }
/// ```
#[derive(Debug, Clone)]
pub struct BoxAuthLayer {
    credentials: Credentials,
}

impl BoxAuthLayer {
    /// Tokens from `auth`.
    pub fn new(auth: Arc<dyn Authentication>) -> Self {
        Self {
            credentials: Credentials::new(auth),
        }
    }

    /// Also sends `As-User: <user_id>` (for admins and service accounts allowed to act as users).
    pub fn with_as_user(self, user_id: &str) -> Result<Self> {
        Ok(Self {
            credentials: self.credentials.with_as_user(user_id)?,
        })
    }
}

impl<S> Layer<S> for BoxAuthLayer {
    type Service = BoxAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BoxAuthService {
            inner,
            credentials: self.credentials.clone(),
        }
    }
}

/// The service [`BoxAuthLayer`] wraps around `S`.
#[derive(Debug, Clone)]
pub struct BoxAuthService<S> {
    inner: S,
    credentials: Credentials,
}

/// A copy of `request` (method, URI, version, headers, extensions, body), if its body copies.
fn copy<B: CloneBody>(request: &http::Request<B>) -> Option<http::Request<B>> {
    let mut copy = http::Request::new(request.body().try_clone_body()?);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

impl<S, B, R> Service<http::Request<B>> for BoxAuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: CloneBody + Send + 'static,
    R: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The service that was polled ready takes this request; its clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let credentials = self.credentials.clone();
        Box::pin(async move {
            if Credentials::chosen_by_caller(request.headers()) {
                return inner.call(request).await.map_err(Into::into);
            }
            let token = credentials.auth.retrieve_token().await?;
            let again = copy(&request);
            credentials.apply(request.headers_mut(), &token)?;
            let response = inner.call(request).await.map_err(Into::into)?;
            if !super::retry_with_a_new_token(
                &*credentials.auth,
                &token,
                response.status().as_u16(),
                response.headers(),
            ) {
                return Ok(response);
            }
            let Some(mut again) = again else {
                tracing::debug!("401 on a request whose body cannot be copied: not sent again");
                return Ok(response);
            };
            tracing::debug!("401: sending the request once more with a new token");
            let fresh = credentials.auth.retrieve_token().await?;
            credentials.apply(again.headers_mut(), &fresh)?;
            std::future::poll_fn(|cx| inner.poll_ready(cx))
                .await
                .map_err(Into::into)?;
            inner.call(again).await.map_err(Into::into)
        })
    }
}
