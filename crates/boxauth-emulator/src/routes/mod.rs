//! The HTTP surface: Box's paths, and what every answer carries.

pub(crate) mod authorize;
pub(crate) mod consent_tokens;
mod cors;
mod revoke;
mod token;
mod users;

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::grants::{Params, multipart};

/// How a token or revoke request's form is encoded, from its `Content-Type`: urlencoded (what
/// Box documents and its SDKs send, and the default) or `multipart/form-data` (which Box takes
/// too). Only a multipart type costs anything to read.
pub(crate) enum FormEncoding {
    UrlEncoded,
    Multipart(String),
}

impl<S: Send + Sync> FromRequestParts<S> for FormEncoding {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(multipart::boundary)
            .map_or(Self::UrlEncoded, Self::Multipart))
    }
}

impl FormEncoding {
    /// The body's parameters.
    pub(crate) fn params<'a>(&self, body: &'a [u8]) -> Params<'a> {
        match self {
            Self::UrlEncoded => Params::parse(body),
            Self::Multipart(boundary) => Params::parse_multipart(body, boundary),
        }
    }
}

pub(crate) use cors::{Origin, decorate as cors_headers};

pub(crate) fn router(live: Arc<crate::control::Live>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/oauth2/token", post(token::token).options(cors::preflight))
        // Clients have been seen adding a trailing slash; Box answers it the same.
        .route(
            "/oauth2/token/",
            post(token::token).options(cors::preflight),
        )
        .route(
            "/oauth2/revoke",
            post(revoke::revoke).options(cors::preflight),
        )
        .route("/2.0/users/me", get(users::me))
        .route("/2.0/webhooks", get(users::webhooks))
        .route(
            "/api/oauth2/authorize",
            get(authorize::show).post(authorize::decide),
        )
        .merge(crate::control::http::router())
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(max_body_bytes))
        .with_state(crate::control::RouterState(live))
}

async fn not_found() -> Response {
    let body = json!({"type": "error", "status": 404, "code": "not_found", "message": "Not Found"});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}
