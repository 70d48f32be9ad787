//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`: downscoping and annotator tokens.
//! The subject token must be live and hold every requested scope (401 otherwise, per Box's spec);
//! `resource` or `box_shared_link`, not both; the answer carries `restricted_to` and
//! `issued_token_type`, and no refresh token. No client credentials are needed, as in Box's samples.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Params, TokenReply, seconds_left};
use crate::config::{Item, ItemKind};
use crate::errors::BoxError;
use crate::jwt::Jwt;
use crate::state::AppState;
use crate::store::{Millis, Restriction};

const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";

/// Scopes a token can be downscoped to (Box's "Scopes for downscoping", plus `item_read` from the spec).
const DOWNSCOPE_SCOPES: &[&str] = &[
    "annotation_edit",
    "annotation_view_all",
    "annotation_view_self",
    "base_explorer",
    "base_picker",
    "base_preview",
    "base_sidebar",
    "base_upload",
    "item_delete",
    "item_download",
    "item_preview",
    "item_rename",
    "item_share",
    "item_upload",
    "item_read",
];
/// Of those, the ones a read-only app holds.
const READ_ONLY_SCOPES: &[&str] = &[
    "annotation_view_all",
    "annotation_view_self",
    "base_explorer",
    "base_picker",
    "base_preview",
    "base_sidebar",
    "item_download",
    "item_preview",
    "item_read",
];
/// Standard application scopes that can be kept through a downscope.
const STANDARD_SCOPES: &[&str] = &[
    "ai.readwrite",
    "manage_managed_users",
    "manage_app_users",
    "manage_data_retention",
    "manage_enterprise_properties",
    "manage_groups",
    "manage_webhook",
    "sign_requests.readwrite",
];

/// Whether a token with `held` scopes (application scopes, or a downscoped token's own) holds `wanted`.
fn holds(held: &[String], downscoped: bool, wanted: &str) -> bool {
    let has = |s: &str| held.iter().any(|h| h == s);
    if downscoped {
        return has(wanted);
    }
    if STANDARD_SCOPES.contains(&wanted) {
        return has(wanted) || (wanted == "manage_managed_users" && has("manage_users"));
    }
    DOWNSCOPE_SCOPES.contains(&wanted)
        && (has("root_readwrite") || (has("root_readonly") && READ_ONLY_SCOPES.contains(&wanted)))
}

pub(crate) fn grant(
    state: &AppState,
    params: &Params,
    now: Millis,
    user: &mut Option<Arc<str>>,
) -> Result<TokenReply, BoxError> {
    let subject_token = params
        .get("subject_token")
        .ok_or(BoxError::InvalidGrantType)?;
    match params.get("subject_token_type") {
        Some(ACCESS_TOKEN_TYPE) => {}
        Some(_) => return Err(BoxError::SubjectTokenTypeInvalid),
        None => return Err(BoxError::InvalidGrantType),
    }
    let scope = params.get("scope").ok_or(BoxError::InvalidGrantType)?;
    let resource = params.get("resource");
    let shared_link = params.get("box_shared_link");
    if resource.is_some() && shared_link.is_some() {
        return Err(BoxError::ResourceAndSharedLink);
    }
    let subject = state
        .bearer(subject_token, now)
        .ok_or(BoxError::SubjectTokenInvalid)?;
    if state.log.enabled() {
        *user = Some(subject.grantee.user_id.clone());
    }
    let downscoped = subject.restricted_to.is_some();
    let wanted: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
    if wanted.is_empty()
        || !wanted
            .iter()
            .all(|w| holds(&subject.grantee.scopes, downscoped, w))
    {
        return Err(BoxError::ScopeNotHeld);
    }
    if let Some(actor) = params.get("actor_token") {
        check_actor(
            state,
            actor,
            params.get("actor_token_type"),
            &subject.grantee.client_id,
            now,
        )?;
    }
    let item = match (resource, shared_link) {
        (Some(url), _) => Some(resource_item(state, url, &subject.grantee.user_id)?),
        (None, Some(link)) => Some(
            state
                .item_by_shared_link(link)
                .ok_or(BoxError::TargetResourceInvalid)?,
        ),
        (None, None) => None,
    };
    // A downscoped token can be narrowed further, never widened: a new item must be one it is
    // bound to, and without one the new token keeps the subject's items.
    let bound: Vec<usize> = subject
        .restricted_to
        .iter()
        .flat_map(|r| r.iter().map(|r| r.item))
        .fold(Vec::new(), |mut items, item| {
            if !items.contains(&item) {
                items.push(item);
            }
            items
        });
    let items: Vec<usize> = match item {
        Some((index, _)) if bound.is_empty() || bound.contains(&index) => vec![index],
        Some(_) => return Err(BoxError::TargetResourceInvalid),
        None => bound,
    };
    let restrictions: Vec<Restriction> = items
        .iter()
        .flat_map(|&item| {
            wanted.iter().map(move |scope| Restriction {
                scope: scope.clone(),
                item,
            })
        })
        .collect();
    let restricted_to = restrictions
        .iter()
        .map(|r| restriction_json(state, r))
        .collect();
    let issued = state.store().issue_downscoped(
        subject_token,
        &subject,
        Arc::from(wanted),
        Arc::from(restrictions),
        now,
        state.ttls,
    );
    let (token, expires_at) = issued.ok_or(BoxError::SubjectTokenInvalid)?;
    let mut reply = TokenReply::new(token, seconds_left(expires_at, now));
    reply.restricted_to = restricted_to;
    reply.issued_token_type = Some(ACCESS_TOKEN_TYPE);
    Ok(reply)
}

/// `https://api.box.com/2.0/files/123` or `…/folders/123` (any host, so the emulator's own URL
/// works too), visible to `user_id`.
fn resource_item<'s>(
    state: &'s AppState,
    url: &str,
    user_id: &str,
) -> Result<(usize, &'s Item), BoxError> {
    let parsed = url::Url::parse(url).map_err(|_| BoxError::TargetResourceInvalid)?;
    let segments: Vec<&str> = parsed
        .path_segments()
        .map(|s| s.collect())
        .unwrap_or_default();
    let (kind, id) = match segments.as_slice() {
        [.., "2.0", "files", id] => (ItemKind::File, *id),
        [.., "2.0", "folders", id] => (ItemKind::Folder, *id),
        _ => return Err(BoxError::TargetResourceInvalid),
    };
    let (index, item) = state
        .item(kind, id)
        .ok_or(BoxError::TargetResourceInvalid)?;
    let owner_enterprise = state.user(&item.owner_id).map(|u| u.enterprise_id.as_str());
    let visible = item.owner_id == user_id
        || item.collaborators.iter().any(|c| c == user_id)
        || state.user(user_id).is_some_and(|u| {
            u.role.is_admin() && Some(u.enterprise_id.as_str()) == owner_enterprise
        });
    if visible {
        Ok((index, item))
    } else {
        Err(BoxError::TargetResourceInvalid)
    }
}

/// The annotator's `actor_token`: a JWT (Box's Node SDK signs it with `alg: none`) naming an
/// external user of the subject token's app.
fn check_actor(
    state: &AppState,
    actor: &str,
    kind: Option<&str>,
    client_id: &str,
    now_ms: i64,
) -> Result<(), BoxError> {
    if kind != Some(ID_TOKEN_TYPE) {
        return Err(BoxError::ActorTokenInvalid);
    }
    let jwt = Jwt::parse(actor).ok_or(BoxError::ActorTokenInvalid)?;
    let now = now_ms.div_euclid(1000);
    let leeway = i64::try_from(state.lifetimes.jwt_leeway.as_secs()).unwrap_or(0);
    let fresh = jwt
        .seconds("exp")
        .is_some_and(|exp| exp > now - leeway && exp <= now + 60 + leeway);
    let jti_ok = jwt
        .string("jti")
        .is_some_and(|j| (16..=128).contains(&j.chars().count()));
    let ok = jwt.string("iss") == Some(client_id)
        && jwt.string("box_sub_type") == Some("external")
        && jwt.string("sub").is_some()
        && jwt.string("aud") == Some(super::jwt_bearer::AUDIENCE)
        && fresh
        && jti_ok;
    if ok {
        Ok(())
    } else {
        Err(BoxError::ActorTokenInvalid)
    }
}

/// One `restricted_to` entry: the scope and the item's mini representation.
fn restriction_json(state: &AppState, restriction: &Restriction) -> Value {
    let item = &state.world.items[restriction.item];
    let object = match item.kind {
        ItemKind::Folder => json!({
            "type": "folder", "id": item.id, "sequence_id": "1", "etag": "1", "name": item.name,
        }),
        ItemKind::File => json!({
            "type": "file", "id": item.id, "sequence_id": "1", "etag": "1", "name": item.name,
            "sha1": item.sha1,
            "file_version": { "type": "file_version", "id": format!("{}1", item.id), "sha1": item.sha1 },
        }),
    };
    json!({ "scope": restriction.scope, "object": object })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_write_apps_hold_every_downscope_scope_and_read_only_apps_the_read_ones() {
        let rw = vec!["root_readwrite".to_owned()];
        let ro = vec!["root_readonly".to_owned()];
        assert!(DOWNSCOPE_SCOPES.iter().all(|s| holds(&rw, false, s)));
        assert!(holds(&ro, false, "item_preview") && !holds(&ro, false, "item_upload"));
        assert!(!holds(&rw, false, "manage_webhook"));
        assert!(
            !holds(&rw, false, "root_readwrite"),
            "an app scope is not a downscope scope"
        );
        let narrowed = vec!["item_preview".to_owned()];
        assert!(holds(&narrowed, true, "item_preview") && !holds(&narrowed, true, "item_download"));
    }
}
