//! The futures the object-safe async traits of this crate return.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::Result;
use crate::token::StoredToken;

/// A boxed, `Send` future: what the object-safe async traits of this crate return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What [`retrieve_token`](crate::Authentication::retrieve_token) returns: a token that is ready
/// at once when it is cached (no allocation, no lock), or the boxed work of getting one.
#[must_use = "a future does nothing unless awaited"]
pub struct TokenFuture<'a>(State<'a>);

enum State<'a> {
    Ready(Option<Result<Arc<StoredToken>>>),
    Boxed(BoxFuture<'a, Result<Arc<StoredToken>>>),
}

impl<'a> TokenFuture<'a> {
    /// A future that is ready with `outcome`.
    pub fn ready(outcome: Result<Arc<StoredToken>>) -> Self {
        Self(State::Ready(Some(outcome)))
    }

    /// A future that runs `work`.
    pub fn boxed(work: impl Future<Output = Result<Arc<StoredToken>>> + Send + 'a) -> Self {
        Self(State::Boxed(Box::pin(work)))
    }
}

impl<'a> From<BoxFuture<'a, Result<Arc<StoredToken>>>> for TokenFuture<'a> {
    fn from(work: BoxFuture<'a, Result<Arc<StoredToken>>>) -> Self {
        Self(State::Boxed(work))
    }
}

impl Future for TokenFuture<'_> {
    type Output = Result<Arc<StoredToken>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            State::Ready(outcome) => Poll::Ready(
                outcome
                    .take()
                    .expect("TokenFuture polled after it completed"),
            ),
            State::Boxed(work) => work.as_mut().poll(cx),
        }
    }
}

impl fmt::Debug for TokenFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.0 {
            State::Ready(_) => "ready",
            State::Boxed(_) => "pending",
        };
        f.debug_tuple("TokenFuture").field(&state).finish()
    }
}
