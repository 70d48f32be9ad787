//! `grant_type=client_credentials` (CCG): `box_subject_type` and `box_subject_id` checked against
//! the app's access level and settings. No refresh token.

use std::sync::Arc;

use super::{Params, SubjectRefusal, TokenReply, resolve_subject};
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
    let app = state.app(client);
    let subject_type = match params.get("box_subject_type") {
        Some(kind @ ("enterprise" | "user")) => kind,
        _ => return Err(BoxError::SubjectTypeUnauthorized),
    };
    let subject_id = params
        .get("box_subject_id")
        .ok_or(BoxError::GrantCredentialsInvalid)?;
    if !app.authorized {
        return Err(BoxError::AppNotAuthorized);
    }
    let user_id =
        resolve_subject(state, client, app, subject_type, subject_id).map_err(|refusal| {
            match refusal {
                SubjectRefusal::Unknown
                | SubjectRefusal::UserTokensDisabled
                | SubjectRefusal::AccessLevel => BoxError::GrantCredentialsInvalid,
            }
        })?;
    let grantee = state.server_grantee(client, user_id);
    if state.log.enabled() {
        *user = Some(grantee.user_id.clone());
    }
    let token = state.store().issue_access(grantee, now, state.ttls);
    Ok(TokenReply::new(token, state.ttls.access / 1000))
}
