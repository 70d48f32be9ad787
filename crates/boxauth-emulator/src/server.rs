//! Starting, running and stopping the emulator.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::Layer;

use crate::clock::Clock;
use crate::config::{App, ConfigError, EmulatorConfig, ServerLimits};
use crate::control::Live;
use crate::control::http::Peer;
use crate::faults::{FaultLayer, Faults};
use crate::state::{AppState, StatsSnapshot};
use crate::store::StoreSizes;

/// The emulator. Start it with [`Emulator::start`].
pub struct Emulator;

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The TLS certificate could not be made.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The address could not be bound.
    #[error(
        "cannot listen on {addr}: {source}; pick another address or port (port 0 takes a free one)"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The system's error.
        source: std::io::Error,
    },
}

/// A running emulator. Dropping it stops the server; [`shutdown`](Self::shutdown) also waits for
/// open connections to finish.
pub struct EmulatorHandle {
    addr: SocketAddr,
    pub(crate) live: Arc<Live>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    sweeper: JoinHandle<()>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("base_url", &self.live.base_url)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts serving `config` on its address (port 0 by default: a free port).
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, StartError> {
        config.validate()?;
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
        let tls = if config.tls {
            Some(crate::tls::make(&config.tls_names)?)
        } else {
            None
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{addr}"));
        let faults = Faults::default();
        let config = Arc::new(config);
        let live = Arc::new(Live::new(
            AppState::new(&config),
            faults.clone(),
            config.clone(),
            base_url.clone(),
            tls.as_ref().map(|tls| tls.ca_pem.clone()),
        ));
        let state = live.state();
        let service = FaultLayer(faults).layer(crate::routes::router(
            live.clone(),
            config.limits.max_body_bytes,
        ));
        let (stop, stopped) = watch::channel(false);
        let acceptor = tls.as_ref().map(|tls| tls.acceptor.clone());
        let server = tokio::spawn(serve(
            listener,
            service,
            state.clone(),
            acceptor,
            config.limits,
            stopped.clone(),
        ));
        let sweeper = tokio::spawn(sweep(state, config.sweep_interval, stopped));
        tracing::info!(%base_url, %addr, "Box emulator listening");
        Ok(EmulatorHandle {
            addr,
            live,
            stop,
            server: Some(server),
            sweeper,
        })
    }
}

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the accept loop waits after a failed accept (out of file descriptors, say) before
/// trying again, rather than spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

async fn serve<S>(
    listener: TcpListener,
    service: S,
    state: Arc<AppState>,
    tls: Option<TlsAcceptor>,
    limits: ServerLimits,
    mut stopped: watch::Receiver<bool>,
) where
    S: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::http::Response<axum::body::Body>,
            Error = crate::faults::DroppedConnection,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let closed = crate::memory::ClosedConnections::default();
    let giving_back = tokio::spawn(crate::memory::give_back(closed.clone(), stopped.clone()));
    loop {
        // At the limit, new connections wait in the listen queue until one closes.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = stopped.changed() => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed; trying again shortly");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // Stamped outermost: every answer, the limits' 408 and 413 and the injected faults too,
        // carries `Date` and `box-request-id` and is in the request log.
        let service = TowerToHyperService::new(crate::stamp::Stamped {
            inner: Timed {
                inner: service.clone(),
                timeout: limits.request_timeout,
                max_body_bytes: limits.max_body_bytes,
                peer: Peer(peer),
            },
            state: state.clone(),
        });
        let (builder, watcher, tls) = (builder.clone(), graceful.watcher(), tls.clone());
        let closing = closed.opened();
        // An error in a connection is a dropped connection (injected or by the client), a
        // timeout, or a failed handshake: nothing to do.
        tokio::spawn(async move {
            let _open = (slot, closing);
            match tls {
                None => {
                    let _ = watcher
                        .watch(builder.serve_connection(TokioIo::new(stream), service))
                        .await;
                }
                Some(tls) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await
                    else {
                        return;
                    };
                    let _ = watcher
                        .watch(builder.serve_connection(TokioIo::new(stream), service))
                        .await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    giving_back.abort();
}

/// A service whose requests must be read and answered within `timeout`: otherwise `408`, with
/// the connection closed (the half-read body is dropped with the request). A body announced
/// larger than `max_body_bytes` gets `413` at once, unread. Each request carries its
/// connection's [`Peer`] (the control API answers loopback peers only).
#[derive(Clone)]
struct Timed<S> {
    inner: S,
    timeout: Duration,
    max_body_bytes: usize,
    peer: Peer,
}

/// An answer that closes its connection.
fn closing(
    status: axum::http::StatusCode,
    text: &'static str,
) -> axum::http::Response<axum::body::Body> {
    let mut response = axum::http::Response::new(axum::body::Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}

impl<S, B> tower::Service<axum::http::Request<B>> for Timed<S>
where
    S: tower::Service<
            axum::http::Request<B>,
            Response = axum::http::Response<axum::body::Body>,
            Error = crate::faults::DroppedConnection,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = axum::http::Response<axum::body::Body>;
    type Error = crate::faults::DroppedConnection;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: axum::http::Request<B>) -> Self::Future {
        request.extensions_mut().insert(self.peer);
        let announced = request
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > self.max_body_bytes as u64) {
            return Box::pin(std::future::ready(Ok(closing(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "the body is larger than the emulator reads\n",
            ))));
        }
        let answer = self.inner.call(request);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, answer).await {
                Ok(answer) => answer,
                Err(_) => Ok(closing(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    "the request was not sent in time\n",
                )),
            }
        })
    }
}

async fn sweep(state: Arc<AppState>, every: Duration, mut stopped: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(every.max(Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                let now = state.now();
                state.store().sweep(now);
            }
            _ = stopped.changed() => break,
        }
    }
}

impl EmulatorHandle {
    /// `http://127.0.0.1:<port>`: the base URL (Box's `https://api.box.com`).
    /// With [`EmulatorConfig::public_url`] set, that URL.
    pub fn base_url(&self) -> &str {
        &self.live.base_url
    }

    /// The CA certificate (PEM) that signed the emulator's `https://` certificate, when it
    /// serves TLS: give it to the client to trust (`NetworkSession::builder().add_root_certificates`).
    pub fn ca_pem(&self) -> Option<&str> {
        self.live.ca_pem.as_deref()
    }

    /// `{base_url}/api/oauth2`: the OAuth 2.0 URL (Box's `https://account.box.com/api/oauth2`).
    pub fn oauth2_url(&self) -> String {
        self.live.oauth2_url()
    }

    /// Both URLs, for a [`boxauth::NetworkSession`].
    pub fn urls(&self) -> boxauth::BoxUrls {
        // Both are well-formed http URLs built just above.
        boxauth::BoxUrls::new(self.base_url(), &self.oauth2_url())
            .expect("the emulator's URLs are valid")
    }

    /// The recent exchanges (the last [`EmulatorConfig::keep_requests`]), oldest first, secrets
    /// masked: what a client sent and what it was answered.
    pub fn requests(&self) -> Vec<crate::Exchange> {
        self.live.state().log.recent()
    }

    /// The address it listens on (whatever [`base_url`](Self::base_url) says).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The emulator's clock: move it to expire codes and tokens without waiting.
    pub fn clock(&self) -> &Clock {
        &self.live.config.clock
    }

    /// Fault injection controls.
    pub fn faults(&self) -> &Faults {
        &self.live.faults
    }

    /// What the emulator has seen so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.live.state().stats.snapshot()
    }

    /// How many codes, tokens and `jti`s it holds now.
    pub fn store_sizes(&self) -> StoreSizes {
        self.live.state().store_sizes()
    }

    /// Sweeps expired entries now instead of at the next interval.
    pub fn sweep_now(&self) {
        let state = self.live.state();
        let now = state.now();
        state.store().sweep(now);
    }

    /// The configuration it serves.
    /// The world it started with is [`config().world`](EmulatorConfig::world); the world with
    /// every edit is [`world`](Self::world).
    pub fn config(&self) -> &EmulatorConfig {
        &self.live.config
    }

    /// The first app of the world (the default app in the default world).
    pub fn default_app(&self) -> &App {
        // `validate` makes sure at least one app exists only for file configs; the default world has one.
        self.live
            .config
            .world
            .apps
            .first()
            .expect("the world has an app")
    }

    /// Stops accepting connections, lets open ones finish (up to 5 s), and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.sweeper.abort();
    }
}
