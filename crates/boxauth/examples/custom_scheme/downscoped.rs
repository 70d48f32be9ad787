//! A [`TokenSource`] of your own: a downscoped token (one file, preview only, say, for a browser
//! widget) kept fresh from a parent auth. The source only says how to get one; `CachedAuth`
//! caches it, refreshes it before it expires, refreshes it once however many tasks ask, backs off
//! while Box fails, and keeps it in the storage you choose.

use std::sync::Arc;

use boxauth::{
    Authentication, BoxFuture, FetchContext, RequestAccessTokenArgs, StoredToken, TokenSource,
};

/// A token limited to `scopes` on one `resource`, exchanged from the parent's current token.
#[derive(Debug)]
pub struct DownscopedToken {
    parent: Arc<dyn Authentication>,
    scopes: String,
    resource: String,
}

impl DownscopedToken {
    /// Tokens limited to `scopes` (e.g. `item_preview`) on `resource` (an API URL such as
    /// `https://api.box.com/2.0/files/123`), from `parent`'s token.
    pub fn new(parent: Arc<dyn Authentication>, scopes: &[&str], resource: &str) -> Self {
        Self {
            parent,
            scopes: scopes.join(" "),
            resource: resource.to_owned(),
        }
    }
}

impl TokenSource for DownscopedToken {
    fn fetch<'a>(
        &'a self,
        context: FetchContext<'a>,
    ) -> BoxFuture<'a, boxauth::Result<StoredToken>> {
        Box::pin(async move {
            let parent = self.parent.retrieve_token().await?;
            let exchange = RequestAccessTokenArgs::token_exchange(
                parent.access_token.clone(),
                self.scopes.clone(),
            )
            .resource(self.resource.clone());
            // The session the user configured: its URLs, retries and headers.
            let answer = context
                .authorization_manager()
                .request_access_token(exchange)
                .await?;
            StoredToken::from_access_token(answer, context.now())
        })
    }
}
