//! `POST /oauth2/token`: client authentication, then the grant named by `grant_type`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::config::Grant;
use crate::errors::{BoxError, no_store};
use crate::grants::{self, Params, TokenReply};
use crate::request_log::Detail;
use crate::routes::{FormEncoding, Origin, cors_headers};
use crate::stamp::http_date;
use crate::state::AppState;
use crate::store::Millis;

pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    origin: Origin,
    encoding: FormEncoding,
    body: Bytes,
) -> Response {
    // One clock reading per request: the grant's time and the answer's `Date`.
    let now = state.now();
    let params = encoding.params(&body);
    // Whom the request concerned, for the log (found only when the log is on).
    let mut user = None;
    let outcome = params
        .get("grant_type")
        .and_then(Grant::parse)
        .ok_or(BoxError::InvalidGrantType)
        .and_then(|grant| {
            state.stats.request(grant);
            let reply = dispatch(&state, grant, &params, now, &mut user)?;
            state.stats.issued(grant);
            Ok(reply)
        });
    let mut response = match outcome {
        Ok(reply) => json(&reply),
        Err(error) => {
            tracing::debug!(
                error = error.row().error,
                description = error.row().description,
                "token request refused"
            );
            error.into_response()
        }
    };
    if let Some(date) = u64::try_from(now.div_euclid(1000)).ok().and_then(http_date) {
        response.headers_mut().insert(header::DATE, date);
    }
    cors_headers(&state, &origin, &mut response);
    if state.log.enabled() {
        response
            .extensions_mut()
            .insert(Detail::of(&params).about(user));
    }
    response
}

/// Answers the grant; `user` gets whom it concerned when the request log is on.
fn dispatch(
    state: &AppState,
    grant: Grant,
    params: &Params,
    now: Millis,
    user: &mut Option<Arc<str>>,
) -> Result<TokenReply, BoxError> {
    // Box's samples send no client credentials for a token exchange: the subject token is the proof.
    if grant == Grant::TokenExchange {
        return grants::token_exchange::grant(state, params, now, user);
    }
    let client = state.authenticate(params.get("client_id"), params.get("client_secret"))?;
    if !state.app(client).grants.contains(&grant) {
        return Err(BoxError::GrantTypeUnauthorized);
    }
    match grant {
        Grant::AuthorizationCode => {
            grants::authorization_code::grant(state, client, params, now, user)
        }
        Grant::RefreshToken => grants::refresh_token::grant(state, client, params, now, user),
        Grant::ClientCredentials => {
            grants::client_credentials::grant(state, client, params, now, user)
        }
        Grant::JwtBearer => grants::jwt_bearer::grant(state, client, params, now, user),
        Grant::TokenExchange => grants::token_exchange::grant(state, params, now, user),
    }
}

fn json(reply: &TokenReply) -> Response {
    let body = reply.to_json();
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    no_store(&mut response);
    response
}
