//! `POST /oauth2/revoke`: `client_id`, `client_secret`, `token` (access or refresh). The whole pair
//! dies, with any token downscoped from it. An unknown token gets 200, as RFC 7009 says.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::routes::{FormEncoding, Origin, cors_headers};
use crate::state::AppState;

pub(crate) async fn revoke(
    State(state): State<Arc<AppState>>,
    origin: Origin,
    encoding: FormEncoding,
    body: Bytes,
) -> Response {
    let mut response = answer(&state, &encoding, &body);
    cors_headers(&state, &origin, &mut response);
    response
}

fn answer(state: &AppState, encoding: &FormEncoding, body: &[u8]) -> Response {
    let params = encoding.params(body);
    let mut user = None;
    let mut response = revoked(state, &params, &mut user);
    if state.log.enabled() {
        response
            .extensions_mut()
            .insert(crate::request_log::Detail::of(&params).about(user));
    }
    response
}

/// Revokes the token; `user` gets whose it was when the request log is on.
fn revoked(
    state: &AppState,
    params: &crate::grants::Params,
    user: &mut Option<Arc<str>>,
) -> Response {
    let client = match state.authenticate(params.get("client_id"), params.get("client_secret")) {
        Ok(client) => client,
        Err(error) => return error.into_response(),
    };
    if let Some(token) = params.get("token") {
        let mut store = state.store();
        if state.log.enabled() {
            *user = store.token_user(token);
        }
        if store.revoke(token, &client.id) {
            drop(store);
            state.stats.revocations.fetch_add(1, Ordering::Relaxed);
        }
    }
    StatusCode::OK.into_response()
}
