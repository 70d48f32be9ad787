//! Every `AccessToken` shape in the reference parses, including values boxauth does not know.

use boxauth::{
    AccessToken, AccessTokenIssuedTokenType, AccessTokenTokenType, Resource, ResourceScopeScope,
};

fn parse(json: &str) -> AccessToken {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

#[test]
fn oauth2_token_with_refresh_token() {
    let token = parse(
        r#"{"access_token":"c3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQ",
            "expires_in":3600,"restricted_to":[],"token_type":"bearer",
            "refresh_token":"c3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQ",
            "issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}"#,
    );
    assert_eq!(token.expires_in, Some(3600));
    assert_eq!(token.token_type, Some(AccessTokenTokenType::Bearer));
    assert!(token.refresh_token.is_some());
    assert_eq!(
        token.issued_token_type,
        Some(AccessTokenIssuedTokenType::AccessToken)
    );
    assert_eq!(token.restricted_to.as_deref().map(<[_]>::len), Some(0));
}

#[test]
fn jwt_and_ccg_tokens_have_no_refresh_token() {
    let token = parse(
        r#"{"access_token":"abc","expires_in":3646,"restricted_to":[],"token_type":"bearer"}"#,
    );
    assert!(token.refresh_token.is_none());
    assert!(token.issued_token_type.is_none());
    assert_eq!(token.access_token.unwrap().secret(), "abc");
}

#[test]
fn the_guides_doc_bug_shape_parses() {
    // developer.box.com's JWT example: issued_token_type "bearer", no token_type.
    let token = parse(
        r#"{"access_token":"x","expires_in":4123,"restricted_to":[],"issued_token_type":"bearer"}"#,
    );
    assert_eq!(
        token.issued_token_type,
        Some(AccessTokenIssuedTokenType::Other("bearer".into()))
    );
    assert_eq!(token.token_type, None);
}

#[test]
fn downscoped_token_with_files_and_folders() {
    let token = parse(
        r#"{"access_token":"1!DgsZ6V9kMWZu2StrxwQDF5BudQNen-xUmU2cfcVKArE","expires_in":3646,
            "token_type":"bearer","issued_token_type":"urn:ietf:params:oauth:token-type:access_token",
            "restricted_to":[
              {"scope":"item_preview","object":{"type":"file","id":"123456","sequence_id":"3","etag":"3",
               "name":"Contract.pdf","sha1":"85136C79CBF9FE36BB9D05D0639C70C265C18D37",
               "file_version":{"type":"file_version","id":"12345","sha1":"134b65991ed521fcfe4724b7d814ab8ded5185dc"}}},
              {"scope":"base_upload","object":{"type":"folder","id":"0","sequence_id":null,"etag":null,"name":"All Files"}},
              {"scope":"item_read","object":{"type":"folder","id":"42"}}
            ]}"#,
    );
    let restricted = token.restricted_to.unwrap();
    assert_eq!(restricted.len(), 3);
    assert_eq!(restricted[0].scope, Some(ResourceScopeScope::ItemPreview));
    let Some(Resource::File(file)) = &restricted[0].object else {
        panic!("{:?}", restricted[0])
    };
    assert_eq!(file.id, "123456");
    assert_eq!(file.name.as_deref(), Some("Contract.pdf"));
    assert_eq!(file.file_version.as_ref().unwrap().id, "12345");
    let Some(Resource::Folder(folder)) = &restricted[1].object else {
        panic!("{:?}", restricted[1])
    };
    assert_eq!((folder.id.as_str(), folder.etag.as_deref()), ("0", None));
    assert_eq!(restricted[2].scope, Some(ResourceScopeScope::ItemRead));
}

#[test]
fn unknown_enum_values_and_object_types_do_not_break_parsing() {
    let token = parse(
        r#"{"access_token":"x","token_type":"mac","issued_token_type":"urn:example:new",
            "restricted_to":[{"scope":"item_teleport","object":{"type":"web_link","id":"9","url":"https://x"}},
                             {"scope":"base_sidebar"}],
            "a_field_box_adds_later":{"nested":[1,2,3]}}"#,
    );
    assert_eq!(
        token.token_type,
        Some(AccessTokenTokenType::Other("mac".into()))
    );
    let restricted = token.restricted_to.unwrap();
    assert_eq!(
        restricted[0].scope,
        Some(ResourceScopeScope::Other("item_teleport".into()))
    );
    let Some(Resource::Other(raw)) = &restricted[0].object else {
        panic!()
    };
    assert_eq!(raw["url"], "https://x");
    assert_eq!(restricted[1].object, None);
    // Unknown values serialize back as they came.
    let again = serde_json::to_value(&restricted[0]).unwrap();
    assert_eq!(again["scope"], "item_teleport");
    assert_eq!(again["object"]["type"], "web_link");
}

#[test]
fn an_empty_object_is_a_token_with_nothing_set() {
    let token = parse("{}");
    assert!(token.access_token.is_none() && token.expires_in.is_none());
}

#[test]
fn round_trip_keeps_wire_names_and_debug_hides_tokens() {
    let json = r#"{"access_token":"SECRET_A","expires_in":3600,"token_type":"bearer","refresh_token":"SECRET_R"}"#;
    let token = parse(json);
    let again: serde_json::Value = serde_json::to_value(&token).unwrap();
    assert_eq!(
        again,
        serde_json::from_str::<serde_json::Value>(json).unwrap()
    );
    let shown = format!("{token:?}");
    assert!(!shown.contains("SECRET"), "{shown}");
}
