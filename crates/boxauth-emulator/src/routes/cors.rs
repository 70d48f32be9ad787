//! CORS for `/oauth2/token` and `/oauth2/revoke`: a browser app may call them from an origin one of
//! the world's apps lists in its "CORS Domains" (`cors_origins`). Box answers CORS for the origins
//! an app allows; the exact headers it sends are inferred (the usual ones: the origin echoed,
//! `POST`, the request headers SDKs send, `Vary: Origin`). A preflight from another origin gets
//! 403 and no CORS header, so the browser refuses the call.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// The `Origin` of a request, if it sent one (a browser's cross-origin call).
pub(crate) struct Origin(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self(parts.headers.get(header::ORIGIN).cloned()))
    }
}

/// The headers a browser may send with a token or revoke request.
const ALLOWED_HEADERS: &str = "authorization, content-type, x-box-ua, as-user";

fn allowed(state: &AppState, origin: &HeaderValue) -> bool {
    origin.to_str().is_ok_and(|o| state.cors_allows(o))
}

/// Adds the CORS headers to `response` when `origin` is allowed.
pub(crate) fn decorate(state: &AppState, origin: &Origin, response: &mut Response) {
    let Some(origin) = &origin.0 else { return };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if allowed(state, origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
}

/// `OPTIONS` on a token or revoke path: the preflight.
pub(crate) async fn preflight(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let origin = headers.get(header::ORIGIN);
    let Some(origin) = origin.filter(|o| allowed(&state, o)) else {
        let body = json!({"type": "error", "status": 403, "code": "forbidden",
            "message": "This origin is not one of the app's CORS domains"});
        let mut response = (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Origin"));
        return response;
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    out.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOWED_HEADERS),
    );
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    out.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}
