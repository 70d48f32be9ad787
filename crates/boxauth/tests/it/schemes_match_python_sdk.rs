//! Each auth scheme (CCG, JWT, OAuth 2.0), driven through its own API against a recording server,
//! sends what Box's official Python SDK's auth classes send for the same steps: the `"schemes"`
//! section of `tests/fixtures/python_sdk_wire.json`, made by `scripts/capture_python_sdk_wire.py`.
//!
//! Bodies are compared byte for byte. A JWT grant's assertion differs on every run, so the fixture
//! holds the body with `assertion=<assertion>` and the decoded assertion with `jti` and `exp` as
//! placeholders; here the header must be the SDK's exactly, the claims the SDK's except for those
//! two values, and the signature must verify with the key pair's public key.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use boxauth::{
    AuthOptions, Authentication, BoxUrls, CcgAuth, CcgConfig, DeveloperTokenAuth,
    DeveloperTokenConfig, JwtAuth, JwtConfig, NetworkSession, OAuth, OAuthConfig, Passphrase,
    PrivateKey, ProxyConfig, RetryPolicy, Subject,
};
use boxauth_test_support::{RecordedRequest, RecordingServer, Reply};
use serde_json::Value;

const CLIENT_ID: &str = "ly1nj6n11vionaie65emwzk575hnnmrk";
const SECRET: &str = "hOzs+TeF/lT6k=o0dme~22uG*bQal04SBPYc1 !";
const KEY_ID: &str = "q3rv8k1x";
const ENTERPRISE_ID: &str = "899905961";
const USER_ID: &str = "22222";
const CODE: &str = "n22JPxrh18m4Y0wIZPIqYZK7VRrsMTWW";
const RESOURCE: &str = "https://api.box.com/2.0/files/123456";
const SHARED_LINK: &str = "https://app.box.com/s/abc?vanity=x&p=1";
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
const ASSERTION_PLACEHOLDER: &str = "<assertion>";

/// The SDK's captures for `scheme`, in the order it sent them.
fn python_captures(scheme: &str) -> Vec<Value> {
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/python_sdk_wire.json")).unwrap();
    let captures: Vec<Value> = fixture["schemes"]
        .as_array()
        .expect("the fixture has a \"schemes\" section")
        .iter()
        .filter(|capture| capture["scheme"] == scheme)
        .cloned()
        .collect();
    assert!(!captures.is_empty(), "no captures for scheme {scheme}");
    captures
}

/// A recording server that answers each request as the SDK's recording server answered it.
async fn server_replaying(captures: &[Value]) -> RecordingServer {
    let server = RecordingServer::start().await;
    server.script(
        captures
            .iter()
            .map(|capture| match capture["reply"].as_str().expect("reply") {
                "" => Reply::empty(200),
                token => Reply::json(200, token),
            }),
    );
    server
}

fn options_for(server: &RecordingServer) -> AuthOptions {
    let base = server.url();
    let session = NetworkSession::builder()
        .urls(BoxUrls::new(&base, &format!("{base}/api/oauth2")).unwrap())
        .proxy(ProxyConfig::None)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    AuthOptions::default().session(session)
}

fn assert_same_requests(server: &RecordingServer, captures: &[Value]) -> Vec<RecordedRequest> {
    let ours = server.requests();
    let names: Vec<&str> = captures
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        ours.len(),
        captures.len(),
        "the SDK sent {names:?}; we sent {ours:#?}"
    );
    for (ours, theirs) in ours.iter().zip(captures) {
        let name = theirs["name"].as_str().unwrap();
        crate::common::assert_same_head_as_python(name, ours, theirs);
        let body = if theirs.get("jwt").is_some() {
            without_assertion(&ours.body_text())
        } else {
            ours.body_text()
        };
        assert_eq!(body, theirs["body"], "{name}: body");
    }
    ours
}

/// The form body with the assertion's value replaced by the fixture's placeholder.
fn without_assertion(body: &str) -> String {
    let fields: Vec<String> = body
        .split('&')
        .map(|field| match field.strip_prefix("assertion=") {
            Some(_) => format!("assertion={ASSERTION_PLACEHOLDER}"),
            None => field.to_owned(),
        })
        .collect();
    fields.join("&")
}

fn assertion_in(request: &RecordedRequest) -> String {
    url::form_urlencoded::parse(&request.body)
        .find(|(name, _)| name == "assertion")
        .map(|(_, value)| value.into_owned())
        .expect("a JWT grant carries an assertion")
}

/// Whether `jti` is a UUID written as Python's `str(uuid)` writes it: 8-4-4-4-12 lowercase hex.
fn is_uuid_text(jti: &str) -> bool {
    jti.len() == 36
        && jti.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

/// Unix seconds (with fraction) at which `request` arrived.
fn arrival_unix_seconds(request: &RecordedRequest) -> f64 {
    let now = SystemTime::now();
    let ago = request.received_at.elapsed();
    (now - ago)
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn public_key_der() -> Vec<u8> {
    let pem = std::fs::read_to_string(format!("{KEYS}/public.pem")).unwrap();
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    Base64::decode_vec(&body).unwrap()
}

/// Checks our assertion against the SDK's decoded one: same header bytes, same claims bytes but
/// for `jti` and `exp`, a `jti` of the same length and shape, the same lifetime, a valid signature.
fn assert_same_assertion(request: &RecordedRequest, theirs: &Value) {
    let name = theirs["name"].as_str().unwrap();
    let jwt = &theirs["jwt"];
    let assertion = assertion_in(request);
    let segments: Vec<&str> = assertion.split('.').collect();
    assert_eq!(segments.len(), 3, "{name}: header.claims.signature");
    let decode = |segment: &str| Base64UrlUnpadded::decode_vec(segment).unwrap();

    let header = String::from_utf8(decode(segments[0])).unwrap();
    assert_eq!(header, jwt["header"], "{name}: JWT header");

    let claims_text = String::from_utf8(decode(segments[1])).unwrap();
    let claims: Value = serde_json::from_str(&claims_text).unwrap();
    let jti = claims["jti"].as_str().expect("jti is a string");
    assert_eq!(jti.len() as u64, jwt["jti_length"], "{name}: jti length");
    assert!(is_uuid_text(jti), "{name}: jti {jti:?} is not a UUID");
    // The SDK's `get_uuid()` is `uuid.uuid1()` (time and node); ours is random (v4). Both are
    // 36 characters, inside Box's 16–128, and unique per assertion.
    assert_eq!(jwt["jti_uuid_version"], 1, "{name}: the SDK's jti version");
    assert_eq!(&jti[14..15], "4", "{name}: our jti is a v4 UUID");
    assert!(
        matches!(&jti[19..20], "8" | "9" | "a" | "b"),
        "{name}: RFC 4122 variant"
    );

    let exp = claims["exp"].as_i64().expect("exp is an integer");
    let lifetime = (exp as f64 - arrival_unix_seconds(request)).round() as i64;
    let sdk_lifetime = jwt["exp_minus_now"].as_i64().unwrap();
    assert!(
        (lifetime - sdk_lifetime).abs() <= 2,
        "{name}: exp is now+{lifetime}, the SDK's now+{sdk_lifetime}"
    );
    let normalised = claims_text
        .replacen(
            &format!("\"jti\":\"{jti}\""),
            &format!("\"jti\":\"<{}-char uuid>\"", jti.len()),
            1,
        )
        .replacen(
            &format!("\"exp\":{exp}"),
            &format!("\"exp\":\"<now+{sdk_lifetime}>\""),
            1,
        );
    assert_eq!(normalised, jwt["claims"], "{name}: JWT claims");

    let signature = decode(segments[2]);
    assert_eq!(
        signature.len() as u64,
        jwt["signature_bytes"],
        "{name}: signature length"
    );
    let signed = &assertion.as_bytes()[..segments[0].len() + 1 + segments[1].len()];
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key_der())
        .verify(signed, &signature)
        .unwrap_or_else(|_| panic!("{name}: the RS256 signature does not verify"));
}

#[tokio::test]
async fn ccg_retrieve_user_subject_downscope_and_revoke_send_what_the_sdk_sends() {
    let captures = python_captures("ccg");
    let server = server_replaying(&captures).await;
    let auth = CcgAuth::with_options(
        CcgConfig::enterprise(CLIENT_ID, SECRET, ENTERPRISE_ID),
        options_for(&server),
    )
    .unwrap();
    auth.retrieve_token().await.unwrap();
    auth.with_user_subject(USER_ID)
        .unwrap()
        .retrieve_token()
        .await
        .unwrap();
    let downscoped = auth
        .downscope_token(&["item_preview", "item_upload"], Some(RESOURCE), None)
        .await
        .unwrap();
    assert_eq!(downscoped.access_token.unwrap().secret(), "ccg-downscoped");
    auth.revoke_token().await.unwrap();
    assert_same_requests(&server, &captures);
}

#[tokio::test]
async fn jwt_assertion_grant_downscope_and_revoke_send_what_the_sdk_sends() {
    let captures = python_captures("jwt");
    let server = server_replaying(&captures).await;
    let pem = std::fs::read_to_string(format!("{KEYS}/pkcs8-sha1-des3.pem")).unwrap();
    let passphrase = std::fs::read_to_string(format!("{KEYS}/passphrase.txt")).unwrap();
    let key = PrivateKey::from_pem(&pem, Some(&Passphrase::new(passphrase.trim_end()))).unwrap();
    let config = JwtConfig::new(
        CLIENT_ID,
        SECRET,
        KEY_ID,
        key,
        Subject::Enterprise(ENTERPRISE_ID.into()),
    );
    let auth = JwtAuth::with_options(config, options_for(&server)).unwrap();
    auth.retrieve_token().await.unwrap();
    auth.with_user_subject(USER_ID)
        .unwrap()
        .retrieve_token()
        .await
        .unwrap();
    auth.downscope_token(&["item_preview"], None, Some(SHARED_LINK))
        .await
        .unwrap();
    auth.revoke_token().await.unwrap();
    let ours = assert_same_requests(&server, &captures);
    let mut assertions = 0;
    for (request, theirs) in ours.iter().zip(&captures) {
        if theirs.get("jwt").is_some() {
            assert_same_assertion(request, theirs);
            assertions += 1;
        }
    }
    assert_eq!(assertions, 2, "an enterprise and a user assertion");
}

#[tokio::test]
async fn oauth_code_exchange_refresh_downscope_and_revoke_send_what_the_sdk_sends() {
    let captures = python_captures("oauth");
    let server = server_replaying(&captures).await;
    let auth =
        OAuth::with_options(OAuthConfig::new(CLIENT_ID, SECRET), options_for(&server)).unwrap();
    auth.exchange_code(CODE).await.unwrap();
    let refreshed = auth.refresh_token().await.unwrap();
    assert_eq!(refreshed.access_token.secret(), "oauth-2");
    auth.downscope_token(
        &["item_preview", "item_download", "base_explorer"],
        Some("https://api.box.com/2.0/folders/0"),
        None,
    )
    .await
    .unwrap();
    auth.revoke_token().await.unwrap();
    assert_same_requests(&server, &captures);
}

#[tokio::test]
async fn developer_token_downscope_and_revoke_send_what_the_sdk_sends() {
    let captures = python_captures("developer_token");
    let server = server_replaying(&captures).await;
    let auth = DeveloperTokenAuth::with_options(
        DeveloperTokenConfig::new("developer-token-1").client_credentials(CLIENT_ID, SECRET),
        options_for(&server),
    )
    .unwrap();
    auth.downscope_token(&["item_preview"], Some(RESOURCE), None)
        .await
        .unwrap();
    auth.revoke_token().await.unwrap();
    assert_same_requests(&server, &captures);
}

#[test]
fn the_fixture_has_ccg_jwt_oauth_then_developer_token_captures() {
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/python_sdk_wire.json")).unwrap();
    let mut schemes: Vec<&str> = fixture["schemes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|capture| capture["scheme"].as_str().unwrap())
        .collect();
    schemes.dedup();
    assert_eq!(schemes, ["ccg", "jwt", "oauth", "developer_token"]);
}
