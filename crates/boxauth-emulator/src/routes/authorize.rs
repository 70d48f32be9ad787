//! `GET`/`POST /api/oauth2/authorize`: Box's consent page. It works without JavaScript: the page
//! shows the app and the scopes, a `login` field and two buttons posting back to the same URL.
//! Approve redirects with `code` and `state`; deny with `error=access_denied` and `state`. A bad
//! client or redirect URI gets an error page, never a redirect. The POST must carry the CSRF token
//! the GET put in the form and a cookie; the server keeps it bound to the request it was shown for,
//! for one decision within ten minutes (see [`consent_tokens`](super::consent_tokens)). The page
//! cannot be framed.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use subtle::ConstantTimeEq;
use url::Url;

use super::consent_tokens::{Binding, binding};
use crate::config::{App, Role};
use crate::grants::Params;
use crate::state::{AppState, Client};
use crate::store::Challenge;
use crate::store::Grantee;
use crate::tokens::random_bytes;

const CSRF_COOKIE: &str = "box_csrf";

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    app_name: &'a str,
    scopes: Vec<(String, &'static str)>,
    action: String,
    csrf_token: &'a str,
    login: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    error: &'a str,
    description: &'a str,
}

/// Where the decision goes back to.
#[derive(Clone)]
enum Redirect {
    To(Url),
    /// None given while the app has several (or none): Box says so after the user decides.
    Missing,
}

/// A validated authorize request.
struct Request<'s> {
    client: &'s Client,
    app: &'s App,
    redirect: Redirect,
    state: Option<String>,
    scopes: Vec<String>,
    /// The PKCE challenge (RFC 7636), if the request sent one.
    challenge: Option<Challenge>,
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Box's matching: scheme, host, path and query exactly; any port on localhost / loopback.
fn redirect_matches(registered: &str, given: &Url) -> bool {
    let Ok(registered) = Url::parse(registered) else {
        return false;
    };
    let same = registered.scheme() == given.scheme()
        && registered.host_str() == given.host_str()
        && registered.path() == given.path()
        && registered.query() == given.query();
    same && (registered.port_or_known_default() == given.port_or_known_default()
        || is_loopback(given))
}

fn error_page(status: StatusCode, error: &str, description: &str) -> Response {
    let html = ErrorPage { error, description }
        .render()
        .unwrap_or_else(|_| description.to_owned());
    page(status, html)
}

fn page(status: StatusCode, html: String) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// An error page to show instead of the consent page (never a redirect).
struct Refusal {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl Refusal {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error_page(self.status, self.error, &self.description)
    }
}

fn validate<'s>(state: &'s AppState, query: &Params) -> Result<Request<'s>, Refusal> {
    let client = query
        .get("client_id")
        .and_then(|id| state.client(id))
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "The client ID is not valid: no application has this client ID.",
            )
        })?;
    let app = state.app(client);
    if query.get("response_type") != Some("code") {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The response_type parameter must be \"code\".",
        ));
    }
    let mismatch = || {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            "The redirect URI is not one of the redirect URIs configured for this application.",
        )
    };
    let redirect = match query.get("redirect_uri") {
        Some(given) => {
            let url = Url::parse(given).map_err(|_| mismatch())?;
            if !app.redirect_uris.iter().any(|r| redirect_matches(r, &url)) {
                return Err(mismatch());
            }
            Redirect::To(url)
        }
        None => match app.redirect_uris.as_slice() {
            [only] => Redirect::To(Url::parse(only).map_err(|_| mismatch())?),
            _ => Redirect::Missing,
        },
    };
    let scopes: Vec<String> = match query.get("scope") {
        Some(scope) => scope.split_whitespace().map(str::to_owned).collect(),
        None => app.scopes.clone(),
    };
    if let Some(unknown) = scopes.iter().find(|s| !app.scopes.contains(s)) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("The scope \"{unknown}\" is not configured for this application."),
        ));
    }
    let challenge = match (
        query.get("code_challenge"),
        query.get("code_challenge_method"),
    ) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "code_challenge_method was sent without a code_challenge.",
            ));
        }
        (Some(value), method) => {
            // RFC 7636 §4.2: 43 to 128 unreserved characters; the method S256, or plain (the
            // default).
            let well_formed = (43..=128).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            if !well_formed {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "The code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', \
                     '_' and '~'.",
                ));
            }
            let s256 = match method {
                Some("S256") => true,
                None | Some("plain") => false,
                Some(_) => {
                    return Err(Refusal::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "The code_challenge_method is not supported: use S256.",
                    ));
                }
            };
            Some(Challenge {
                value: value.to_owned(),
                s256,
            })
        }
    };
    Ok(Request {
        client,
        app,
        redirect,
        state: query.get("state").map(str::to_owned),
        scopes,
        challenge,
    })
}

fn describe(scope: &str) -> &'static str {
    match scope {
        "root_readwrite" => "Read and write all files and folders stored in Box",
        "root_readonly" => "Read all files and folders stored in Box",
        "manage_users" => "Manage users",
        "manage_app_users" => "Manage app users",
        "manage_managed_users" => "Manage managed users",
        "manage_groups" => "Manage groups",
        "manage_webhook" => "Manage webhooks",
        "manage_enterprise_properties" => "Manage enterprise properties",
        "manage_data_retention" => "Manage retention policies",
        "manage_legal_hold" | "manage_legal_holds" => "Manage legal holds",
        "sign_requests.readwrite" => "Manage signature requests",
        "ai.readwrite" => "Manage AI",
        _ => "Access your Box account",
    }
}

fn action(raw_query: &Option<String>) -> String {
    match raw_query {
        Some(query) => format!("/api/oauth2/authorize?{query}"),
        None => "/api/oauth2/authorize".to_owned(),
    }
}

fn consent(
    request: &Request<'_>,
    raw_query: &Option<String>,
    csrf: &str,
    login: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let html = ConsentPage {
        app_name: &request.app.name,
        scopes: request
            .scopes
            .iter()
            .map(|s| (s.clone(), describe(s)))
            .collect(),
        action: action(raw_query),
        csrf_token: csrf,
        login,
        error,
    }
    .render();
    match html {
        Ok(html) => page(status, html),
        Err(_) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "The consent page could not be rendered.",
        ),
    }
}

impl Request<'_> {
    /// The scopes a code (and every token of its family) carries: the app's own list, shared,
    /// when the request asked for all of them (most do: a copy per consent is a quarter of what
    /// a live refresh token costs, see `memory_is_bounded`), else a list of their own.
    fn granted_scopes(&self) -> Arc<[String]> {
        if self.scopes == *self.client.scopes {
            self.client.scopes.clone()
        } else {
            Arc::from(self.scopes.clone())
        }
    }

    /// What the page's CSRF token is bound to: the client, redirect URI, state and scopes.
    fn binding(&self) -> Binding {
        let redirect = match &self.redirect {
            Redirect::To(url) => url.as_str(),
            Redirect::Missing => "",
        };
        binding(&[
            &self.client.id,
            redirect,
            self.state.as_deref().unwrap_or_default(),
            &self.scopes.join(" "),
            self.challenge.as_ref().map_or("", |c| c.value.as_str()),
        ])
    }
}

/// The admin of the app's enterprise: the login the page suggests.
fn suggested_login<'s>(state: &'s AppState, app: &App) -> &'s str {
    state
        .world
        .users
        .iter()
        .find(|u| u.role == Role::Admin && u.enterprise_id == app.enterprise_id)
        .map_or("", |u| u.login.as_str())
}

pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    RawQuery(raw_query): RawQuery,
) -> Response {
    let query = Params::parse(raw_query.as_deref().unwrap_or_default().as_bytes());
    let request = match validate(&state, &query) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let csrf = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<24>());
    state
        .consent_tokens
        .issue(csrf.clone(), request.binding(), state.now());
    let mut response = consent(
        &request,
        &raw_query,
        &csrf,
        suggested_login(&state, request.app),
        None,
        StatusCode::OK,
    );
    let cookie = format!("{CSRF_COOKIE}={csrf}; Path=/api/oauth2; HttpOnly; SameSite=Strict");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The user a login names, if that user may approve an app (a person: not an app user or a
/// service account).
fn approving_user<'s>(state: &'s AppState, login: Option<&str>) -> Option<&'s crate::config::User> {
    state
        .user_by_login(login?)
        .filter(|u| matches!(u.role, Role::Admin | Role::Coadmin | Role::User))
}

fn expired_form() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "invalid_request",
        "This form expired, was already used, or was not sent from Box's consent page. Go back, reload the page and try again.",
    )
}

pub(crate) async fn decide(
    State(state): State<Arc<AppState>>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = Params::parse(raw_query.as_deref().unwrap_or_default().as_bytes());
    let request = match validate(&state, &query) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let form = Params::parse(&body);
    let sent = form.get("csrf_token").unwrap_or_default();
    let expected = cookie(&headers, CSRF_COOKIE).unwrap_or_default();
    let now = state.now();
    let csrf_ok = !expected.is_empty()
        && bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
        && state.consent_tokens.check(sent, &request.binding(), now);
    if !csrf_ok {
        return expired_form();
    }
    let Redirect::To(mut target) = request.redirect.clone() else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "redirect_uri_missing",
            "This application has several redirect URIs configured, so the authorization URL must give one in redirect_uri.",
        );
    };
    let decision = form.get("decision");
    if !matches!(decision, Some("approve" | "deny")) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The decision must be approve or deny.",
        );
    }
    if decision == Some("approve") && approving_user(&state, form.get("login")).is_none() {
        let login = form.get("login").unwrap_or_default();
        let message = "No Box account with this email address can sign in here.";
        return consent(
            &request,
            &raw_query,
            expected,
            login,
            Some(message),
            StatusCode::OK,
        );
    }
    // One decision per page: a second post of the same form (or a race of two) is refused.
    if !state.consent_tokens.take(sent, &request.binding(), now) {
        return expired_form();
    }
    // Who approved, for the request log.
    let mut approved_by = None;
    match decision {
        Some("approve") => {
            let Some(user) = approving_user(&state, form.get("login")) else {
                return expired_form();
            };
            approved_by = Some(user.id.clone());
            let grantee = Grantee::new(
                request.client.id.clone(),
                Arc::from(user.id.as_str()),
                request.granted_scopes(),
            );
            let code =
                state
                    .store()
                    .issue_code_with(grantee, request.challenge.clone(), now, state.ttls);
            target.query_pairs_mut().append_pair("code", &code);
            if let Some(value) = &request.state {
                target.query_pairs_mut().append_pair("state", value);
            }
        }
        Some("deny") => {
            target
                .query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair(
                    "error_description",
                    "The user denied access to your application",
                );
            if let Some(value) = &request.state {
                target.query_pairs_mut().append_pair("state", value);
            }
        }
        _ => return expired_form(),
    }
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(target.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if state.log.enabled() {
        response
            .extensions_mut()
            .insert(crate::request_log::Detail {
                grant_type: None,
                client_id: Some(request.client.id.to_string()),
                user_id: approved_by,
            });
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_matches_any_port_and_other_hosts_match_exactly() {
        let given = |u: &str| Url::parse(u).unwrap();
        assert!(redirect_matches(
            "http://localhost:3000/callback",
            &given("http://localhost:49152/callback")
        ));
        assert!(redirect_matches(
            "http://127.0.0.1/cb",
            &given("http://127.0.0.1:8080/cb")
        ));
        assert!(!redirect_matches(
            "http://localhost:3000/callback",
            &given("http://localhost:3000/callback2")
        ));
        assert!(!redirect_matches(
            "http://localhost:3000/callback",
            &given("http://localhost:3000/callback?x=1")
        ));
        assert!(!redirect_matches(
            "https://app.example/cb",
            &given("https://app.example:8443/cb")
        ));
        assert!(!redirect_matches(
            "https://app.example/cb",
            &given("http://app.example/cb")
        ));
        assert!(redirect_matches(
            "https://app.example/cb?a=1",
            &given("https://app.example/cb?a=1")
        ));
    }
}
