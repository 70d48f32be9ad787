//! The ceiling server of bench/emulator/run.sh: `POST /oauth2/token` reads the request body (as a
//! real token endpoint reads the form) and answers a fixed Box-shaped token JSON. Nothing is
//! parsed, checked, generated or stored: this is what the machine, tokio, hyper and axum cost.
//!
//!   ceiling 127.0.0.1:PORT
//!
//! Worker threads: tokio's default (one per core), as `#[tokio::main]` gives any axum server.

use axum::{Router, body::Bytes, http::header, response::IntoResponse, routing::post};

const TOKEN: &str = r#"{"access_token":"T9kz2Xq8WmB4nR7vL1cY6pH3sJ0dF5gA","expires_in":3600,"restricted_to":[],"token_type":"bearer"}"#;

async fn token(body: Bytes) -> impl IntoResponse {
    // The body was read in full by the extractor; keep it observable so it is not optimised out.
    std::hint::black_box(body.len());
    ([(header::CONTENT_TYPE, "application/json")], TOKEN)
}

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!(
        "ceiling listening on http://{} pid {}",
        listener.local_addr().expect("local_addr"),
        std::process::id()
    );
    let app = Router::new().route("/oauth2/token", post(token));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("serve");
}
