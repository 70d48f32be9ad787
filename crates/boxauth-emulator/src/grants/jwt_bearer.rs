//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`: a JWT signed with a key registered for
//! the app. Checked in this order, each with Box's own error: the JWT's form; `alg` (RS256, RS384,
//! RS512 only); `kid` (a registered key; without one, every key of the app is tried); the
//! signature; `iss`; `aud`; `box_sub_type` and `sub` (a string naming an enterprise or user);
//! `exp` (not passed, allowing a small leeway for clock skew; at most 60 s after the issue time,
//! with no leeway); `nbf`; `jti` (16–128 characters, never seen before, remembered until `exp`).
//!
//! Without `kid`, trying each key is inferred, not documented: Box's generated Node/TypeScript
//! SDKs sign with the header `{"alg":"RS256"}` alone (box-node-sdk 10.12, seen on the wire by
//! `scripts/node/official_sdk_against_emulator.mjs`), and get tokens from Box every day (their
//! CI runs against it).

use std::sync::Arc;

use super::{Params, SubjectRefusal, TokenReply, resolve_subject};
use crate::errors::BoxError;
use crate::jwt::Jwt;
use crate::state::{AppState, Client};
use crate::store::Millis;

/// The only audience Box accepts.
pub(crate) const AUDIENCE: &str = "https://api.box.com/oauth2/token";

pub(crate) fn grant(
    state: &AppState,
    client: &Client,
    params: &Params,
    now_ms: Millis,
    user: &mut Option<Arc<str>>,
) -> Result<TokenReply, BoxError> {
    let app = state.app(client);
    let assertion = params.get("assertion").ok_or(BoxError::InvalidGrantType)?;
    let jwt = Jwt::parse(assertion).ok_or(BoxError::MalformedAssertion)?;
    // RFC 7515 §4.1.11: extensions named in `crit` must be understood, and Box defines none.
    if jwt.header.contains_key("crit") {
        return Err(BoxError::MalformedAssertion);
    }
    if app.keys.is_empty() {
        return Err(BoxError::NoPublicKeys);
    }
    let algorithm = jwt.rs_algorithm().ok_or(BoxError::SignatureInvalid)?;
    let verified = match jwt.header.get("kid") {
        None => app
            .keys
            .iter()
            .any(|key| jwt.verify(algorithm, &key.public_der)),
        Some(kid) => {
            let kid = kid.as_str().ok_or(BoxError::KidInvalid)?;
            let key = app
                .keys
                .iter()
                .find(|k| k.id == kid)
                .ok_or(BoxError::KidInvalid)?;
            jwt.verify(algorithm, &key.public_der)
        }
    };
    if !verified {
        return Err(BoxError::SignatureInvalid);
    }
    if jwt.string("iss") != Some(&*client.id) {
        return Err(BoxError::IssClaim);
    }
    if jwt.string("aud") != Some(AUDIENCE) {
        return Err(BoxError::AudClaim);
    }
    let subject_type = match jwt.string("box_sub_type") {
        Some(kind @ ("enterprise" | "user")) => kind,
        _ => return Err(BoxError::SubClaim),
    };
    // `sub` must be a JSON string: an integer is refused, as at Box.
    let subject_id = jwt.string("sub").ok_or(BoxError::SubClaim)?;
    let now = now_ms.div_euclid(1000);
    let leeway = i64::try_from(state.lifetimes.jwt_leeway.as_secs()).unwrap_or(0);
    let max_ahead = i64::try_from(state.lifetimes.jwt_max_exp.as_secs()).unwrap_or(60);
    let exp = jwt.seconds("exp").ok_or(BoxError::ExpPassed)?;
    if exp <= now - leeway {
        return Err(BoxError::ExpPassed);
    }
    // The issue time is the moment Box receives the assertion, whatever `iat` claims: a client
    // clock running ahead cannot buy a longer-lived assertion. Box's rule is "at most 60 seconds
    // beyond the issue time": the leeway is for an `exp` just passed, not for this maximum.
    if exp > now + max_ahead {
        return Err(BoxError::ExpTooFar);
    }
    if jwt.seconds("nbf").is_some_and(|nbf| nbf > now + leeway) {
        return Err(BoxError::NbfClaim);
    }
    let jti = jwt.string("jti").ok_or(BoxError::JtiClaim)?;
    if !(16..=128).contains(&jti.chars().count()) {
        return Err(BoxError::JtiClaim);
    }
    if !app.authorized {
        return Err(BoxError::AppNotAuthorized);
    }
    let user_id =
        resolve_subject(state, client, app, subject_type, subject_id).map_err(|refusal| {
            match refusal {
                SubjectRefusal::Unknown | SubjectRefusal::AccessLevel => BoxError::SubClaim,
                SubjectRefusal::UserTokensDisabled => BoxError::UserTokenNotAllowed,
            }
        })?;
    let grantee = state.server_grantee(client, user_id);
    if state.log.enabled() {
        *user = Some(grantee.user_id.clone());
    }
    let mut store = state.store();
    // Remembered until the later of exp and now + leeway, so a replay inside the leeway is caught.
    let remember_until = (exp + leeway).saturating_mul(1000).max(now_ms);
    if !store.remember_jti(client.id.clone(), jti, remember_until, now_ms) {
        return Err(BoxError::JtiClaim);
    }
    let token = store.issue_access(grantee, now_ms, state.ttls);
    drop(store);
    Ok(TokenReply::new(token, state.ttls.access / 1000))
}
