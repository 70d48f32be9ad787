//! A web app whose users connect their own Box accounts: sign in (a toy sign-in: pick a name),
//! "Connect Box" (Box's consent page), see your `/2.0/users/me`, disconnect. The tokens live in a
//! [`Vault`]: in memory by default, in PostgreSQL with `BOXAUTH_VAULT_STORE`.
//!
//! ```sh
//! # Against a built-in emulator, nothing to configure (open the printed URL):
//! cargo run -p boxauth --example vault_web
//! # Against Box (the app's redirect URI: http://localhost:3000/callback) and PostgreSQL:
//! BOX_CLIENT_ID=… BOX_CLIENT_SECRET=… BOXAUTH_VAULT_STORE=postgres://app:pw@db/app \
//! BOXAUTH_VAULT_KEY="$(cat vault.key)" PORT=3000 \
//!   cargo run -p boxauth --features postgres --example vault_web
//! ```
//!
//! Settings (environment): `PORT` (default 3000; 0 for any), `BOX_BASE_URL` and `BOX_OAUTH2_URL`
//! (with `BOX_CLIENT_ID`, Box's or your emulator's; without, an emulator starts in-process).
//! It prints `listening on http://localhost:PORT` once ready.
//!
//! The sign-in here is a cookie holding a name, to keep the example short: use your app's real
//! sessions. The vault's `state` is bound to the signed-in user, so a callback is completed only
//! for the user who started it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use boxauth::{
    AuthOptions, AuthorizeOptions, BoxClient, BoxUrls, IdentityStatus, KeySet, NetworkSession,
    OAuthConfig, Vault, VaultKey, VaultStore,
};

struct App {
    vault: Vault,
    redirect_uri: String,
}

type Shared = State<Arc<App>>;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Box vault example</title></head>\
         <body style=\"font-family:sans-serif;max-width:40rem;margin:3rem auto\">{body}</body></html>"
    ))
}

/// The signed-in user: the `user` cookie (a toy session).
fn user(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies.split(';').find_map(|c| {
        let (name, value) = c.trim().split_once('=')?;
        (name == "user" && !value.is_empty()).then(|| value.to_owned())
    })
}

fn failed(error: boxauth::Error) -> Response {
    (
        StatusCode::BAD_GATEWAY,
        page(&format!(
            "<p>{}</p><p><a href=\"/\">back</a></p>",
            escape(&error.report())
        )),
    )
        .into_response()
}

async fn home(State(app): Shared, headers: HeaderMap) -> Response {
    let Some(user) = user(&headers) else {
        return page(
            "<h1>Sign in</h1><form action=\"/signin\"><input name=\"user\" placeholder=\"your name\">\
             <button>Sign in</button></form>",
        )
        .into_response();
    };
    let status = match app.vault.status(&user).await {
        Ok(status) => status,
        Err(error) => return failed(error),
    };
    let box_part = match status {
        IdentityStatus::Active { .. } => {
            "<p>Box is connected. <a href=\"/me\">Your Box account</a></p>\
             <form method=\"post\" action=\"/disconnect\"><button>Disconnect Box</button></form>"
                .to_owned()
        }
        IdentityStatus::NeedsReauthorization { reason, .. } => format!(
            "<p>Box needs you again ({}). <a href=\"/connect\">Connect Box</a></p>",
            reason.as_str()
        ),
        _ => "<p><a href=\"/connect\">Connect Box</a></p>".to_owned(),
    };
    page(&format!("<h1>Hello, {}</h1>{box_part}", escape(&user))).into_response()
}

#[derive(serde::Deserialize)]
struct SignIn {
    user: String,
}

async fn signin(Query(form): Query<SignIn>) -> Response {
    let user: String = form
        .user
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect();
    (
        [(
            header::SET_COOKIE,
            format!("user={user}; Path=/; HttpOnly; SameSite=Lax"),
        )],
        Redirect::to("/"),
    )
        .into_response()
}

async fn connect(State(app): Shared, headers: HeaderMap) -> Response {
    let Some(user) = user(&headers) else {
        return Redirect::to("/").into_response();
    };
    let options = AuthorizeOptions::default().redirect_uri(&app.redirect_uri);
    match app.vault.authorize_url(&user, options) {
        Ok(request) => Redirect::to(&request.url).into_response(),
        Err(error) => failed(error),
    }
}

async fn callback(State(app): Shared, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let Some(user) = user(&headers) else {
        return Redirect::to("/").into_response();
    };
    let query = uri.query().unwrap_or_default();
    match app.vault.complete_authorization(&user, query).await {
        Ok(_) => Redirect::to("/me").into_response(),
        Err(error) => failed(error),
    }
}

async fn me(State(app): Shared, headers: HeaderMap) -> Response {
    let Some(user) = user(&headers) else {
        return Redirect::to("/").into_response();
    };
    let auth = match app.vault.auth(&user) {
        Ok(auth) => auth,
        Err(error) => return failed(error),
    };
    match BoxClient::from_shared(auth).users_me().await {
        Ok(me) => page(&format!(
            "<h1>Your Box account</h1><p id=\"box-user\">{} ({})</p><p><a href=\"/\">back</a></p>",
            escape(&me.id),
            escape(me.login.as_deref().unwrap_or_default())
        ))
        .into_response(),
        Err(error) => failed(error),
    }
}

async fn disconnect(State(app): Shared, headers: HeaderMap) -> Response {
    let Some(user) = user(&headers) else {
        return Redirect::to("/").into_response();
    };
    match app.vault.disconnect(&user).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(error) => failed(error),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Box (or an emulator you run) when BOX_CLIENT_ID is set; else one in this process.
    let (emulator, client_id, client_secret, urls) = match std::env::var("BOX_CLIENT_ID") {
        Ok(id) => (
            None,
            id,
            std::env::var("BOX_CLIENT_SECRET").map_err(|_| "set BOX_CLIENT_SECRET")?,
            BoxUrls::from_env()?,
        ),
        Err(_) => {
            let emulator =
                boxauth_emulator::Emulator::start(boxauth_emulator::EmulatorConfig::default())
                    .await?;
            let urls = emulator.urls();
            eprintln!(
                "an emulator runs at {} (sign in to Box as {})",
                emulator.base_url(),
                boxauth_emulator::DEFAULT_ADMIN_LOGIN
            );
            (
                Some(emulator),
                boxauth_emulator::DEFAULT_CLIENT_ID.to_owned(),
                boxauth_emulator::DEFAULT_CLIENT_SECRET.to_owned(),
                urls,
            )
        }
    };
    let store = match std::env::var("BOXAUTH_VAULT_STORE") {
        #[cfg(feature = "postgres")]
        Ok(url) => {
            let store = VaultStore::postgres(&url)?;
            store.init().await?;
            store
        }
        #[cfg(not(feature = "postgres"))]
        Ok(_) => return Err("BOXAUTH_VAULT_STORE needs --features postgres".into()),
        Err(_) => VaultStore::memory(),
    };
    let keys = match std::env::var("BOXAUTH_VAULT_KEY") {
        Ok(text) => KeySet::parse(&text)?,
        // A key for this run only: fine in memory, useless for a store that outlives the run.
        Err(_) => KeySet::new(VaultKey::generate("this-run")?.0, [])?,
    };
    let vault = Vault::builder(OAuthConfig::new(client_id, client_secret))
        .store(store)
        .keys(keys)
        .options(AuthOptions::default().session(NetworkSession::builder().urls(urls).build()?))
        .build()?;

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let port = listener.local_addr()?.port();
    let app = Arc::new(App {
        vault,
        redirect_uri: format!("http://localhost:{port}/callback"),
    });
    let router = Router::new()
        .route("/", get(home))
        .route("/signin", get(signin))
        .route("/connect", get(connect))
        .route("/callback", get(callback))
        .route("/me", get(me))
        .route("/disconnect", post(disconnect))
        .with_state(app);
    println!("listening on http://localhost:{port}");
    axum::serve(listener, router).await?;
    drop(emulator);
    Ok(())
}
