//! The HTTP surface: Box's paths, and what every answer carries.

pub(crate) mod authorize;
mod revoke;
mod token;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
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
        .with_state(state)
}

async fn not_found() -> Response {
    let body = json!({"type": "error", "status": 404, "code": "not_found", "message": "Not Found"});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}
