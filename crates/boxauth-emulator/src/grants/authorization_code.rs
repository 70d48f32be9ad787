//! `grant_type=authorization_code`: a code from the consent page, 30 s, single use, bound to the
//! client. A replayed code is refused and every token issued from it is revoked.

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
    let code = params.get("code").ok_or(BoxError::InvalidGrantType)?;
    let mut replayed = false;
    let mut store = state.store();
    let verifier = params.get("code_verifier");
    let outcome = store.redeem_code(code, &client.id, verifier, now, state.ttls, &mut replayed);
    if state.log.enabled() {
        *user = store.code_user(code);
    }
    drop(store);
    if replayed {
        state.stats.code_replays.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(client_id = %client.id, "an authorization code was presented twice: its tokens are revoked");
    }
    let pair = outcome?;
    let mut reply = TokenReply::new(pair.access_token, state.ttls.access / 1000);
    reply.refresh_token = Some(pair.refresh_token);
    Ok(reply)
}
