//! `POST /oauth2/token`: client authentication, then the grant named by `grant_type`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::config::Grant;
use crate::errors::{BoxError, no_store};
use crate::grants::{self, Params, TokenReply};
use crate::state::AppState;

pub(crate) async fn token(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let params = Params::parse(&body);
    let outcome = params
        .get("grant_type")
        .and_then(Grant::parse)
        .ok_or(BoxError::InvalidGrantType)
        .and_then(|grant| {
            state.stats.request(grant);
            let reply = dispatch(&state, grant, &params)?;
            state.stats.issued(grant);
            Ok(reply)
        });
    match outcome {
        Ok(reply) => json(&reply),
        Err(error) => {
            tracing::debug!(
                error = error.row().error,
                description = error.row().description,
                "token request refused"
            );
            error.into_response()
        }
    }
}

fn dispatch(state: &AppState, grant: Grant, params: &Params) -> Result<TokenReply, BoxError> {
    // Box's samples send no client credentials for a token exchange: the subject token is the proof.
    if grant == Grant::TokenExchange {
        return grants::token_exchange::grant(state, params);
    }
    let client = state.authenticate(params.get("client_id"), params.get("client_secret"))?;
    if !state.app(client).grants.contains(&grant) {
        return Err(BoxError::GrantTypeUnauthorized);
    }
    match grant {
        Grant::AuthorizationCode => grants::authorization_code::grant(state, client, params),
        Grant::RefreshToken => grants::refresh_token::grant(state, client, params),
        Grant::ClientCredentials => grants::client_credentials::grant(state, client, params),
        Grant::JwtBearer => grants::jwt_bearer::grant(state, client, params),
        Grant::TokenExchange => grants::token_exchange::grant(state, params),
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
