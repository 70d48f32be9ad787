//! `grant_type=refresh_token`: 60 days, single use, rotated on every refresh. A spent token
//! presented again is refused and its whole family revoked. The store's lock makes each refresh
//! atomic, so concurrent refreshes of one family are serialised: one wins, the others see a spent
//! token.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Params, TokenReply};
use crate::errors::BoxError;
use crate::state::{AppState, Client};
use crate::store::Millis;

pub(crate) fn grant(
    state: &AppState,
    client: &Client,
    params: &Params,
    now: Millis,
    user: &mut Option<Arc<str>>,
) -> Result<TokenReply, BoxError> {
    let token = params
        .get("refresh_token")
        .ok_or(BoxError::RefreshTokenInvalid)?;
    let mut reused = false;
    let mut store = state.store();
    let outcome = store.refresh(token, &client.id, now, state.ttls, &mut reused);
    if state.log.enabled() {
        *user = store.token_user(token);
    }
    drop(store);
    if reused {
        state
            .stats
            .refresh_token_reuses
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(client_id = %client.id, "a spent refresh token was presented again: its family is revoked");
    }
    let pair = outcome?;
    let mut reply = TokenReply::new(pair.access_token, state.ttls.access / 1000);
    reply.refresh_token = Some(pair.refresh_token);
    Ok(reply)
}
