//! The HTTP surface: Box's paths, and what every answer carries.

pub(crate) mod authorize;
mod revoke;
mod token;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::state::AppState;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/oauth2/token", post(token::token))
        // Clients have been seen adding a trailing slash; Box answers it the same.
        .route("/oauth2/token/", post(token::token))
        .route("/oauth2/revoke", post(revoke::revoke))
        .route("/2.0/users/me", get(users::me))
        .route(
            "/api/oauth2/authorize",
            get(authorize::show).post(authorize::decide),
        )
        .fallback(not_found)
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            stamp,
        ))
        .with_state(state)
}

/// `Date` from the emulator's clock (so clients can correct their skew from it, as at Box) and a
/// `box-request-id` on every answer.
async fn stamp(State(state): State<Arc<AppState>>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(state.clock.now())) {
        headers.insert(axum::http::header::DATE, date);
    }
    let id: String = crate::tokens::random_bytes::<8>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Ok(id) = HeaderValue::from_str(&id) {
        headers.insert("box-request-id", id);
    }
    response
}

async fn not_found() -> Response {
    let body = json!({"type": "error", "status": 404, "code": "not_found", "message": "Not Found"});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}
