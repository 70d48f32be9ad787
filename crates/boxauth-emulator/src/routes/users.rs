//! `GET /2.0/users/me`: who the bearer token acts as, or `As-User` where Box allows it, with
//! Box's `fields` rule: without it the standard fields; with it the mini representation (`type`,
//! `id`, `name`, `login`) plus the fields asked for, unknown names ignored.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::{Role, User, World};
use crate::state::AppState;

/// Box's answer to a missing, invalid, expired or revoked token: 401, an empty body, and the reason
/// in `WWW-Authenticate`.
fn invalid_token() -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            r#"Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid.""#,
        ),
    );
    response
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        json!({ "type": "error", "status": status.as_u16(), "code": code, "message": message });
    (status, axum::Json(body)).into_response()
}

fn invalid_as_user() -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        "Invalid value for 'As-User' header",
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// `GET /2.0/webhooks`: the app's webhooks (none: the emulator keeps none). Box requires the
/// `manage_webhook` scope; a token without it gets `403 insufficient_scope` with RFC 6750's
/// challenge, the way a token issued before the scope was added in the Developer Console does.
pub(crate) async fn webhooks(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return invalid_token();
    };
    let Some(record) = state.bearer(token, state.now()) else {
        return invalid_token();
    };
    if !record.grantee.scopes.iter().any(|s| s == "manage_webhook") {
        let mut response = api_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The request requires higher privileges than provided by the access token.",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"Bearer realm="Service", error="insufficient_scope", error_description="The request requires higher privileges than provided by the access token.""#,
            ),
        );
        return response;
    }
    axum::Json(json!({"entries": [], "limit": 100, "next_marker": null})).into_response()
}

/// The query of `/2.0/users/me`.
#[derive(serde::Deserialize)]
pub(crate) struct UserQuery {
    fields: Option<String>,
}

pub(crate) async fn me(
    State(state): State<Arc<AppState>>,
    query: Result<Query<UserQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    // A query that does not parse asks for no fields, as Box ignores what it does not know.
    let fields = query.ok().and_then(|Query(query)| query.fields);
    let Some(token) = bearer(&headers) else {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="Service""#),
        );
        return response;
    };
    let now = state.now();
    let Some(record) = state.bearer(token, now) else {
        return invalid_token();
    };
    if record.restricted_to.as_ref().is_some_and(|r| !r.is_empty()) {
        // A token downscoped to items cannot read the user's profile.
        return api_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The request requires higher privileges than provided by the access token.",
        );
    }
    let Some(caller) = state.user(&record.grantee.user_id) else {
        return invalid_token();
    };
    let user = match headers.get("as-user").map(|v| v.to_str()) {
        None => caller,
        Some(Err(_)) => return invalid_as_user(),
        Some(Ok(target_id)) => {
            let app = state
                .client(&record.grantee.client_id)
                .map(|c| state.app(c));
            // A downscoped token holds only the scopes it was narrowed to: acting as another user
            // is never one of them, whoever the caller is.
            let allowed = record.restricted_to.is_none()
                && match caller.role {
                    Role::Admin | Role::Coadmin => true,
                    Role::ServiceAccount => app.is_some_and(|a| a.as_user),
                    _ => false,
                };
            if !allowed {
                return api_error(
                    StatusCode::FORBIDDEN,
                    "access_denied_insufficient_permissions",
                    "Access denied - insufficient permission",
                );
            }
            match state.user(target_id.trim()) {
                Some(target) if target.enterprise_id == caller.enterprise_id => target,
                _ => return invalid_as_user(),
            }
        }
    };
    axum::Json(user_json(user, &state.world, fields.as_deref())).into_response()
}

/// The standard fields of a user (what Box returns without `fields`).
const STANDARD: &[&str] = &[
    "type",
    "id",
    "name",
    "login",
    "created_at",
    "modified_at",
    "language",
    "timezone",
    "space_amount",
    "space_used",
    "max_upload_size",
    "status",
    "job_title",
    "phone",
    "address",
    "avatar_url",
    "notification_email",
];

/// The mini representation, always returned with `fields`.
const MINI: &[&str] = &["type", "id", "name", "login"];

/// `user` as Box's `User--Full`, reduced to what `fields` asks for.
fn user_json(user: &User, world: &World, fields: Option<&str>) -> serde_json::Value {
    let full = full_user(user, world);
    let serde_json::Value::Object(mut all) = full else {
        return full;
    };
    let wanted: Vec<&str> = match fields {
        None => STANDARD.to_vec(),
        Some(list) => MINI
            .iter()
            .copied()
            .chain(list.split(',').map(str::trim).filter(|f| !f.is_empty()))
            .collect(),
    };
    let mut shown = serde_json::Map::new();
    for name in wanted {
        if let Some(value) = all.remove(name) {
            shown.insert(name.to_owned(), value);
        }
    }
    serde_json::Value::Object(shown)
}

/// Every field of Box's `User--Full`. Values the world does not hold are Box's defaults for a new
/// account (inferred).
fn full_user(user: &User, world: &World) -> serde_json::Value {
    let enterprise = world
        .enterprises
        .iter()
        .find(|e| e.id == user.enterprise_id)
        .map(|e| json!({"type": "enterprise", "id": e.id, "name": e.name}));
    let role = match user.role {
        Role::Admin => "admin",
        Role::Coadmin => "coadmin",
        _ => "user",
    };
    let platform_only = matches!(user.role, Role::AppUser | Role::ServiceAccount);
    json!({
        "type": "user",
        "id": user.id,
        "name": user.name,
        "login": user.login,
        "created_at": "2024-01-02T03:04:05-08:00",
        "modified_at": "2024-01-02T03:04:05-08:00",
        "language": "en",
        "timezone": "America/Los_Angeles",
        "space_amount": 999_999_999_999_999_i64,
        "space_used": 0,
        "max_upload_size": 53_687_091_200_i64,
        "status": "active",
        "job_title": "",
        "phone": "",
        "address": "",
        "avatar_url": format!("https://app.box.com/api/avatar/large/{}", user.id),
        "notification_email": serde_json::Value::Null,
        "role": role,
        "tracking_codes": [],
        "can_see_managed_users": !platform_only,
        "is_sync_enabled": !platform_only,
        "is_external_collab_restricted": false,
        "is_exempt_from_device_limits": false,
        "is_exempt_from_login_verification": false,
        "enterprise": enterprise,
        "my_tags": [],
        "hostname": "https://app.box.com/",
        "is_platform_access_only": platform_only,
        "external_app_user_id": serde_json::Value::Null,
    })
}
