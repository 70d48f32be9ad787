//! `/__emulator/…`: the controls over HTTP, for tests in any language. Answered to loopback
//! peers only, unless the emulator allows remote control (a container's published port, say);
//! every path is under [`CONTROL_PREFIX`], which Box never uses. Bodies are JSON objects within
//! the server's body limit; a bad one gets `400` with a message saying what was wrong.
//!
//! | request | does |
//! |---|---|
//! | `GET health` | `{"status": "ok", "base_url", "oauth2_url"}` |
//! | `GET stats` | requests and tokens by grant, reuses, replays, revocations, faults injected, store sizes |
//! | `GET requests` | the request log, oldest first, secrets masked |
//! | `GET clock` | `{"now": unix seconds, "offset_ms"}` |
//! | `POST clock/advance` `{"seconds": 3601}` | moves the clock forward |
//! | `POST clock/offset` `{"seconds": -120}` | sets the offset from the system time |
//! | `POST faults/script` `{"faults": ["503", "429:2", "drop"]}` | the next requests get these, in order |
//! | `POST faults/rate` `{"rate": 0.2, "faults": ["503"]}` | a share of requests gets one of these |
//! | `POST faults/clear` | no more faults |
//! | `POST reset` | codes, tokens, clock, faults, counters and log cleared; the world kept |
//! | `GET world` | the world and the default app's credentials (`emulator.json`) |
//! | `GET box-config` | the default app's JWT config in Box's format (`box_config.json`) |
//! | `POST users`, `POST apps`, `POST items` | world edits ([`super::edits`]) |
//! | `POST users/{id}/revoke-tokens` | revokes everything issued to act as the user |
//! | `POST apps/{client_id}/app-tokens/{slot}/rotate` | a new App Token in `primary` or `secondary`: `{"token"}` |
//! | `POST apps/{client_id}/app-tokens/{slot}/revoke` | the App Token in that slot stops working |
//! | `POST apps/{client_id}/scopes` `{"scopes": [...]}` | the app's scopes from now on (tokens already issued keep theirs) |
//! | `POST webhooks/send` `{"url", "primary_key", "secondary_key", "trigger", "body"}` | a signed webhook delivery POSTed to `url`: `{"status", "answer", "delivery_id", "timestamp"}` (502 when it could not be delivered) |

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CONTROL_PREFIX, Live, RouterState, edits};
use crate::config::{AppTokenSlot, ConfigError, Grant};
use crate::faults::Fault;

/// The most faults one script may queue (the queue is refused past it, not truncated).
pub const MAX_SCRIPTED_FAULTS: usize = 1000;

/// The connection's peer, put on each request by the server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

/// A control request from a peer allowed to make one.
struct Allowed;

impl FromRequestParts<RouterState> for Allowed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, router: &RouterState) -> Result<Self, Response> {
        let live = &router.0;
        let peer = parts.extensions.get::<Peer>().map(|p| p.0);
        let local = peer.is_some_and(|p| p.ip().to_canonical().is_loopback());
        if local || live.config.allow_remote_control {
            return Ok(Self);
        }
        tracing::warn!(?peer, "control request from a remote peer refused");
        Err(problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the emulator's control API answers loopback peers only; allow remote control when \
             starting it (EmulatorConfig::allow_remote_control) to use it from elsewhere"
                .into(),
        ))
    }
}

fn problem(status: StatusCode, code: &str, message: String) -> Response {
    let body =
        json!({"type": "error", "status": status.as_u16(), "code": code, "message": message});
    (status, axum::Json(body)).into_response()
}

/// A control request that cannot be carried out as sent: `400` with what was wrong.
struct BadRequest(String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        problem(StatusCode::BAD_REQUEST, "bad_request", self.0)
    }
}

fn bad_request(message: impl std::fmt::Display) -> BadRequest {
    BadRequest(message.to_string())
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, BadRequest> {
    serde_json::from_slice(bytes).map_err(|e| bad_request(format!("the body is not usable: {e}")))
}

fn edited(result: Result<Value, ConfigError>) -> Result<Response, BadRequest> {
    // The message and its causes on one line: the caller sent the body, and learns what in it
    // was wrong.
    let value = result.map_err(|error| {
        let mut message = error.to_string();
        let mut cause = std::error::Error::source(&error);
        while let Some(inner) = cause {
            message.push_str(&format!(": {inner}"));
            cause = inner.source();
        }
        bad_request(message)
    })?;
    Ok((StatusCode::CREATED, axum::Json(value)).into_response())
}

pub(crate) fn router() -> Router<RouterState> {
    let path = |tail: &str| format!("{CONTROL_PREFIX}{tail}");
    Router::new()
        .route(&path("health"), get(health))
        .route(&path("stats"), get(stats))
        .route(&path("requests"), get(requests))
        .route(&path("clock"), get(clock))
        .route(&path("clock/advance"), post(advance))
        .route(&path("clock/offset"), post(offset))
        .route(&path("faults/script"), post(script))
        .route(&path("faults/rate"), post(rate))
        .route(&path("faults/clear"), post(clear))
        .route(&path("reset"), post(reset))
        .route(&path("world"), get(world))
        .route(&path("box-config"), get(box_config))
        .route(&path("users"), post(add_user))
        .route(&path("apps"), post(add_app))
        .route(&path("items"), post(add_item))
        .route(&path("users/{id}/revoke-tokens"), post(revoke_user_tokens))
        .route(
            &path("apps/{client_id}/app-tokens/{slot}/{action}"),
            post(app_token),
        )
        .route(&path("webhooks/send"), post(send_webhook))
        .route(&path("apps/{client_id}/scopes"), post(app_scopes))
}

async fn health(_: Allowed, State(live): State<Arc<Live>>) -> Response {
    axum::Json(json!({"status": "ok", "base_url": live.base_url, "oauth2_url": live.oauth2_url()}))
        .into_response()
}

async fn stats(_: Allowed, State(live): State<Arc<Live>>) -> Response {
    let state = live.state();
    let stats = state.stats.snapshot();
    let by_grant = |count: &dyn Fn(Grant) -> u64| -> Value {
        Grant::ALL
            .iter()
            .map(|&g| (g.wire().to_owned(), Value::from(count(g))))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let sizes = state.store_sizes();
    axum::Json(json!({
        "requests": by_grant(&|g| stats.requests(g)),
        "issued": by_grant(&|g| stats.issued(g)),
        "total_requests": stats.total_requests(),
        "refresh_token_reuses": stats.refresh_token_reuses,
        "code_replays": stats.code_replays,
        "revocations": stats.revocations,
        "faults_injected": live.faults.injected(),
        "faults_scripted": live.faults.scripted(),
        "store": {
            "codes": sizes.codes,
            "access_tokens": sizes.access_tokens,
            "refresh_tokens": sizes.refresh_tokens,
            "families": sizes.families,
            "jtis": sizes.jtis,
        },
    }))
    .into_response()
}

async fn requests(_: Allowed, State(live): State<Arc<Live>>) -> Response {
    axum::Json(live.state().log.recent()).into_response()
}

async fn clock(_: Allowed, State(live): State<Arc<Live>>) -> Response {
    let clock = &live.state().clock;
    axum::Json(json!({"now": clock.unix_seconds(), "offset_ms": clock.offset_millis()}))
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Seconds {
    seconds: f64,
}

/// Ten years: the longest lifetime the emulator takes.
const MAX_CLOCK_SECONDS: f64 = 10.0 * 365.0 * 24.0 * 3600.0;

async fn advance(
    _: Allowed,
    State(live): State<Arc<Live>>,
    bytes: Bytes,
) -> Result<Response, BadRequest> {
    let Seconds { seconds } = body(&bytes)?;
    if !(0.0..=MAX_CLOCK_SECONDS).contains(&seconds) {
        return Err(bad_request(format!(
            "seconds must be between 0 and {MAX_CLOCK_SECONDS} (it is {seconds})"
        )));
    }
    live.state().clock.advance(Duration::from_secs_f64(seconds));
    Ok(clock(Allowed, State(live)).await)
}

async fn offset(
    _: Allowed,
    State(live): State<Arc<Live>>,
    bytes: Bytes,
) -> Result<Response, BadRequest> {
    let Seconds { seconds } = body(&bytes)?;
    if !(-MAX_CLOCK_SECONDS..=MAX_CLOCK_SECONDS).contains(&seconds) || seconds.fract() != 0.0 {
        return Err(bad_request(format!(
            "seconds must be a whole number between -{MAX_CLOCK_SECONDS} and {MAX_CLOCK_SECONDS} \
             (it is {seconds})"
        )));
    }
    live.state().clock.set_offset_seconds(seconds as i64);
    Ok(clock(Allowed, State(live)).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultList {
    faults: Vec<String>,
    #[serde(default)]
    rate: Option<f64>,
}

fn parse_faults(names: &[String]) -> Result<Vec<Fault>, BadRequest> {
    if names.len() > MAX_SCRIPTED_FAULTS {
        return Err(bad_request(format!(
            "at most {MAX_SCRIPTED_FAULTS} faults at once (got {})",
            names.len()
        )));
    }
    names
        .iter()
        .map(|name| name.parse::<Fault>().map_err(bad_request))
        .collect()
}

async fn script(
    _: Allowed,
    State(live): State<Arc<Live>>,
    bytes: Bytes,
) -> Result<Response, BadRequest> {
    let list: FaultList = body(&bytes)?;
    if list.rate.is_some() {
        return Err(bad_request(
            "a script takes no rate: POST faults/rate for one",
        ));
    }
    let faults = parse_faults(&list.faults)?;
    let waiting = live.faults.scripted();
    if waiting + faults.len() > MAX_SCRIPTED_FAULTS {
        return Err(bad_request(format!(
            "{waiting} faults are already scripted; at most {MAX_SCRIPTED_FAULTS} may wait \
             (POST faults/clear first)"
        )));
    }
    live.faults.script(faults);
    Ok(axum::Json(json!({"scripted": live.faults.scripted()})).into_response())
}

async fn rate(
    _: Allowed,
    State(live): State<Arc<Live>>,
    bytes: Bytes,
) -> Result<Response, BadRequest> {
    let list: FaultList = body(&bytes)?;
    let rate = list
        .rate
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| bad_request("rate must be given, between 0 and 1"))?;
    let faults = parse_faults(&list.faults)?;
    live.faults.set_rate(rate, faults);
    Ok(axum::Json(json!({"rate": rate})).into_response())
}

async fn clear(_: Allowed, State(live): State<Arc<Live>>) -> Response {
    live.faults.clear();
    axum::Json(json!({"scripted": 0, "rate": 0.0})).into_response()
}

async fn reset(_: Allowed, State(live): State<Arc<Live>>) -> Response {
    live.reset();
    axum::Json(json!({"reset": true})).into_response()
}

async fn world(_: Allowed, State(live): State<Arc<Live>>) -> Response {
    axum::Json(live.emulator_json()).into_response()
}

async fn box_config(_: Allowed, State(live): State<Arc<Live>>) -> Response {
    match live.box_config_json() {
        Ok(config) => axum::Json(config).into_response(),
        Err(e) => problem(StatusCode::CONFLICT, "no_private_key", e.to_string()),
    }
}

async fn add_user(
    _: Allowed,
    State(live): State<Arc<Live>>,
    bytes: Bytes,
) -> Result<Response, BadRequest> {
    edited(edits::add_user(&live, &bytes))
}

async fn add_app(
    _: Allowed,
    State(live): State<Arc<Live>>,
    bytes: Bytes,
) -> Result<Response, BadRequest> {
    edited(edits::add_app(&live, &bytes))
}

async fn add_item(
    _: Allowed,
    State(live): State<Arc<Live>>,
    bytes: Bytes,
) -> Result<Response, BadRequest> {
    edited(edits::add_item(&live, &bytes))
}

async fn revoke_user_tokens(
    _: Allowed,
    State(live): State<Arc<Live>>,
    Path(id): Path<String>,
) -> Response {
    match live.revoke_user_tokens(&id) {
        Ok(revoked) => axum::Json(json!({"revoked": revoked})).into_response(),
        Err(e) => problem(StatusCode::NOT_FOUND, "not_found", e.to_string()),
    }
}

async fn app_token(
    _: Allowed,
    State(live): State<Arc<Live>>,
    Path((client_id, slot, action)): Path<(String, String, String)>,
) -> Result<Response, BadRequest> {
    let slot = AppTokenSlot::parse(&slot).ok_or_else(|| {
        bad_request(format!(
            "{slot:?} is not an App Token: primary or secondary"
        ))
    })?;
    let token = match action.as_str() {
        "rotate" => Some(crate::tokens::random_key("", 32).to_string()),
        "revoke" => None,
        other => {
            return Err(bad_request(format!(
                "{other:?} is not an App Token action: rotate or revoke"
            )));
        }
    };
    if let Some(missing) = no_such_app(&live, &client_id) {
        return Ok(missing);
    }
    live.set_app_token(&client_id, slot, token.clone())
        .map_err(bad_request)?;
    Ok(axum::Json(json!({"slot": slot.as_str(), "token": token})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Delivery {
    url: String,
    #[serde(default)]
    primary_key: Option<String>,
    #[serde(default)]
    secondary_key: Option<String>,
    #[serde(default)]
    trigger: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

async fn send_webhook(
    _: Allowed,
    State(live): State<Arc<Live>>,
    bytes: Bytes,
) -> Result<Response, BadRequest> {
    let Delivery {
        url,
        primary_key,
        secondary_key,
        trigger,
        body: sent,
    } = body(&bytes)?;
    if primary_key.is_none() && secondary_key.is_none() {
        return Err(bad_request("give primary_key, secondary_key or both"));
    }
    if !url::Url::parse(&url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
        return Err(bad_request(format!(
            "url {url:?} must be an http:// or https:// URL to deliver to"
        )));
    }
    let delivery = crate::webhooks::WebhookDelivery {
        url,
        primary_key,
        secondary_key,
        trigger,
        body: sent,
    };
    match crate::webhooks::send(&live, delivery).await {
        Ok(outcome) => Ok(axum::Json(json!({
            "status": outcome.status,
            "answer": outcome.answer,
            "delivery_id": outcome.delivery_id,
            "timestamp": outcome.timestamp,
        }))
        .into_response()),
        Err(e) => {
            let mut message = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(inner) = cause {
                message.push_str(&format!(": {inner}"));
                cause = inner.source();
            }
            Ok(problem(StatusCode::BAD_GATEWAY, "delivery_failed", message))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scopes {
    scopes: Vec<String>,
}

async fn app_scopes(
    _: Allowed,
    State(live): State<Arc<Live>>,
    Path(client_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, BadRequest> {
    let Scopes { scopes } = body(&bytes)?;
    if let Some(missing) = no_such_app(&live, &client_id) {
        return Ok(missing);
    }
    live.set_app_scopes(&client_id, scopes.clone())
        .map_err(bad_request)?;
    Ok(axum::Json(json!({"client_id": client_id, "scopes": scopes})).into_response())
}

/// The 404 for an app the world does not have, `None` when it has it.
fn no_such_app(live: &Live, client_id: &str) -> Option<Response> {
    live.world()
        .apps
        .iter()
        .all(|a| a.client_id != client_id)
        .then(|| {
            problem(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("there is no app {client_id:?}"),
            )
        })
}
