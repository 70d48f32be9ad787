//! `boxauth login`: OAuth 2.0 in the browser, with the `state` checked and the tokens saved in an
//! environment.
//!
//! Box's own CLI listens on one fixed port and never checks `state`. Here: port 3000 by default,
//! or any free port when it is busy (Box matches `localhost` redirect URIs on any port); a callback
//! whose `state` is not this login's is refused and the login keeps waiting for the real one.

use std::io::IsTerminal;
use std::time::Duration;

use boxauth::{
    AuthConfig, AuthOptions, AuthorizeOptions, BoxClient, ConfigError, ConfigErrorKind, Error,
    OAuth, OAuthConfig,
};
use clap::Args;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::connection::ConnectionArgs;
use crate::environments::{Environment, Store, check_name};
use crate::output::Output;

/// Log in to Box in a browser (OAuth 2.0) and save the tokens in an environment.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  boxauth login --client-id ID --client-secret S          # opens the browser; saves environment \"default\"
  boxauth login --env work --no-browser                  # print the URL instead; reuse env \"work\"'s app
  boxauth login --env work --use                          # and make \"work\" the current environment
  boxauth login --client-id ID --client-secret S --base-url http://127.0.0.1:8080 \\
      --oauth2-url http://127.0.0.1:8080/api/oauth2        # against the emulator

The app's redirect URI must be http://localhost:3000/callback (any port on localhost matches).")]
pub struct LoginCommand {
    /// The OAuth 2.0 app's client ID [default: BOX_CLIENT_ID, else the environment's].
    #[arg(long)]
    client_id: Option<String>,
    /// The app's client secret [default: BOX_CLIENT_SECRET, else the environment's].
    #[arg(long, value_parser = crate::secret::<boxauth::ClientSecret>)]
    client_secret: Option<boxauth::ClientSecret>,
    /// The loopback port to receive Box's redirect on (0: any free port).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Print the URL instead of opening a browser, and also take the address the browser ends
    /// on (or just its code) pasted on standard input: for a login over SSH, where the browser
    /// cannot reach this machine.
    #[arg(long)]
    no_browser: bool,
    /// The environment to save the login in [default: BOXAUTH_ENV, else the current one if it
    /// is OAuth 2.0, else "default"].
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// Make the environment the current one (a login does so by itself only when there is no
    /// current environment).
    #[arg(long = "use")]
    make_current: bool,
    /// Space-separated scopes to ask for (default: all the app's).
    #[arg(long)]
    scope: Option<String>,
    /// Give up after this many seconds without a callback.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    timeout: u64,
    #[command(flatten)]
    connection: ConnectionArgs,
}

const PAGE_STYLE: &str = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:32rem;margin:4rem auto;text-align:center";

fn page(title: &str, message: &str) -> String {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"{PAGE_STYLE}\"><h1>{}</h1><p id=\"message\">{}</p></body></html>",
        escape(title),
        escape(title),
        escape(message)
    )
}

async fn respond(mut stream: TcpStream, status: &str, html: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{html}",
        html.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads the request line of one HTTP request: its target (path and query).
async fn request_target(stream: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") && buffer.len() < 16 * 1024 {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let head = String::from_utf8_lossy(&buffer);
    let mut parts = head.lines().next()?.split(' ');
    let method = parts.next()?;
    (method == "GET")
        .then(|| parts.next().map(str::to_owned))
        .flatten()
}

pub async fn bind(port: u16, out: &Output) -> boxauth::Result<TcpListener> {
    match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => Ok(listener),
        Err(error) if port != 0 => {
            out.note(&format!(
                "port {port} is busy ({error}); listening on a free port instead (Box accepts any port on localhost)"
            ));
            TcpListener::bind(("127.0.0.1", 0)).await.map_err(no_port)
        }
        Err(error) => Err(no_port(error)),
    }
}

fn no_port(error: std::io::Error) -> Error {
    ConfigError::new(
        ConfigErrorKind::Unreadable,
        "cannot listen on a loopback port for Box's redirect",
    )
    .with_source(error)
    .into()
}

fn open_browser(url: &str) -> bool {
    let attempts: &[(&str, &[&str])] = if cfg!(target_os = "macos") {
        &[("open", &[])]
    } else if cfg!(windows) {
        &[("cmd", &["/C", "start", ""])]
    } else {
        &[("xdg-open", &[]), ("sensible-browser", &[])]
    };
    attempts.iter().any(|(program, args)| {
        std::process::Command::new(program)
            .args(*args)
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    })
}

/// A spinner on stderr while waiting, only on a terminal.
fn spinner() -> Option<tokio::task::JoinHandle<()>> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    Some(tokio::spawn(async {
        let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        for frame in frames.iter().cycle() {
            tick.tick().await;
            eprint!("\r{frame} waiting for the browser… ");
        }
    }))
}

impl LoginCommand {
    pub async fn run(self, out: &Output) -> boxauth::Result<()> {
        let store = Store::locate()?;
        let all = store.load()?;
        let name = self
            .env
            .clone()
            .or_else(|| {
                std::env::var("BOXAUTH_ENV")
                    .ok()
                    .filter(|v| !v.trim().is_empty())
            })
            .or_else(|| {
                all.current.clone().filter(|c| {
                    matches!(
                        all.environments.get(c).map(|e| &e.config.method),
                        Some(boxauth::AuthMethod::Oauth { .. })
                    )
                })
            })
            .unwrap_or_else(|| "default".to_owned());
        check_name(&name)?;
        if let Some(saved) = all.locked.get(&name) {
            return Err(store.unreadable(&name, saved));
        }
        let existing = all.environments.get(&name).cloned();
        let (client_id, client_secret) = self.app(&name, existing.as_ref(), out)?;
        let method = boxauth::AuthMethod::Oauth {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
        };
        // The environment after the login: this app, where the environment kept its tokens (its
        // file, or the Redis it was saved with), and its URLs unless a flag or variable gives
        // others.
        let mut environment = match existing {
            Some(mut environment) => {
                environment.config.method = method;
                environment
            }
            None => {
                let mut environment = Environment::new(&store, &name, AuthConfig::new(method));
                let (home, fallback) = crate::secrets::choose(None, &name)?;
                environment.set_secrets(&store, &name, home);
                if let Some(fallback) = fallback {
                    out.note(&fallback);
                }
                environment
            }
        };
        if let Some(url) = self.connection.base_url() {
            environment.config.base_url = Some(url.value);
        }
        if let Some(url) = self.connection.oauth2_url() {
            environment.config.oauth2_url = Some(url.value);
        }
        let mut sent = environment.config.clone();
        self.connection.apply(&mut sent);
        let session = self.connection.session_for(&sent)?;

        let listener = bind(self.port, out).await?;
        let port = listener.local_addr().map_err(no_port)?.port();
        let redirect_uri = format!("http://localhost:{port}/callback");
        let mut options = AuthOptions::default().session(session);
        if let Some(storage) = crate::keychain_tokens::storage_for(&environment.config)? {
            options = options.shared_storage(storage);
        }
        let oauth = OAuth::with_options(
            OAuthConfig::new(client_id.as_str(), client_secret.clone()),
            options,
        )?;
        // PKCE (S256), as the Box CLI's login does: a code taken from the redirect is useless
        // without the verifier this process keeps.
        let mut options = AuthorizeOptions::default()
            .redirect_uri(redirect_uri.clone())
            .pkce();
        if let Some(scope) = &self.scope {
            options = options.scope(scope.clone());
        }
        let request = oauth.authorize_url(options);
        let completion = OAuthCompletion {
            oauth: &oauth,
            request: &request,
        };
        let outcome = receive(
            &completion,
            &request.url,
            &listener,
            Browser {
                open: !self.no_browser,
                timeout: Duration::from_secs(self.timeout),
            },
            out,
        )
        .await;
        let login = outcome?;
        let kept_in = environment.kept_in();
        // Read again: another command may have saved an environment while the browser was open.
        let mut all = store.load()?;
        all.environments.insert(name.clone(), environment);
        let current = match &all.current {
            None => None,
            Some(_) if self.make_current => None,
            Some(current) => Some(current.clone()),
        };
        if current.is_none() {
            all.current = Some(name.clone());
        }
        store.save(&all)?;
        crate::outln!("Logged in as {login}")?;
        out.note(&format!("tokens saved in environment {name:?} ({kept_in})"));
        match current {
            None => out.note(&format!("{name:?} is now the current environment")),
            Some(current) if current != name => out.note(&format!(
                "the current environment is still {current:?}: use this login with --env {name}, \
                 or make it current with `boxauth env use {name}`"
            )),
            Some(_) => {}
        }
        Ok(())
    }

    /// The app to log in with: its client ID from `--client-id`, else `BOX_CLIENT_ID`, else the
    /// environment's; its secret from the same level (a flag's ID takes `BOX_CLIENT_SECRET` too,
    /// which keeps the secret out of the shell's history), or the environment's for its own app.
    fn app(
        &self,
        name: &str,
        existing: Option<&Environment>,
        out: &Output,
    ) -> boxauth::Result<(String, boxauth::ClientSecret)> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let saved = match existing.map(|e| &e.config.method) {
            Some(boxauth::AuthMethod::Oauth {
                client_id,
                client_secret,
            }) => Some((client_id.clone(), client_secret.clone())),
            _ => None,
        };
        let (client_id, from) = match (&self.client_id, var("BOX_CLIENT_ID"), &saved) {
            (Some(id), _, _) => (id.clone(), "--client-id"),
            (None, Some(id), _) => (id, "BOX_CLIENT_ID"),
            (None, None, Some((id, _))) => (id.clone(), "the environment"),
            (None, None, None) => {
                return Err(Error::config(format!(
                    "give --client-id and --client-secret (or BOX_CLIENT_ID and \
                     BOX_CLIENT_SECRET): environment {name:?} has no OAuth 2.0 app saved"
                )));
            }
        };
        let saved_secret = saved
            .as_ref()
            .filter(|(id, _)| *id == client_id)
            .map(|(_, secret)| secret.clone());
        let client_secret = self
            .client_secret
            .clone()
            .or_else(|| var("BOX_CLIENT_SECRET").map(Into::into))
            .or(saved_secret)
            .ok_or_else(|| Error::config("give --client-secret (or BOX_CLIENT_SECRET)"))?;
        if let Some((saved_id, _)) = &saved
            && *saved_id != client_id
        {
            out.note(&format!(
                "logging in with app {client_id} (from {from}), not environment {name:?}'s app \
                 {saved_id}: flags come first, then BOX_* variables, then the saved environment"
            ));
        }
        Ok((client_id, client_secret))
    }
}

/// How a browser login ends: the `state` Box sends back, checked, then the code exchanged.
pub trait Completion: Sync {
    /// Whether `state` is this login's.
    fn state_matches(&self, state: &str) -> bool;
    /// Finishes the login with Box's redirect (or its query), or a bare code pasted: the user's
    /// login.
    fn complete<'a>(&'a self, callback: &'a str)
    -> boxauth::BoxFuture<'a, boxauth::Result<String>>;
}

/// An OAuth 2.0 login into `oauth`'s storage.
struct OAuthCompletion<'a> {
    oauth: &'a OAuth,
    request: &'a boxauth::AuthorizationRequest,
}

impl Completion for OAuthCompletion<'_> {
    fn state_matches(&self, state: &str) -> bool {
        self.request.verify_state(state)
    }

    fn complete<'a>(
        &'a self,
        callback: &'a str,
    ) -> boxauth::BoxFuture<'a, boxauth::Result<String>> {
        Box::pin(async move {
            if callback.contains('=') {
                self.oauth
                    .complete_authorization(self.request, callback)
                    .await?;
            } else {
                self.oauth
                    .exchange_code_with_verifier(callback, self.request.code_verifier())
                    .await?;
            }
            let me = BoxClient::new(self.oauth.clone()).users_me().await?;
            Ok(me.login.unwrap_or(me.id))
        })
    }
}

/// How the user's browser is met.
#[derive(Debug, Clone, Copy)]
pub struct Browser {
    /// Open it (else print the URL and also take a pasted redirect).
    pub open: bool,
    /// Give up after this long without a callback.
    pub timeout: Duration,
}

/// Shows `url` (and opens a browser), then waits for Box's redirect on `listener` (or, without
/// a browser, a pasted one) until `completion` takes one: the user's login. Ctrl-C ends the
/// process.
pub async fn receive(
    completion: &dyn Completion,
    url: &str,
    listener: &TcpListener,
    browser: Browser,
    out: &Output,
) -> boxauth::Result<String> {
    crate::outln!("Open this URL to log in to Box:\n  {url}")?;
    if browser.open && !open_browser(url) {
        out.note("could not open a browser: open the URL above yourself");
    }
    let pasted = (!browser.open).then(|| {
        out.note(
            "if the browser cannot reach this machine (a login over SSH), paste the address it \
             ends on (http://localhost:…/callback?code=…), or just the code, and press Enter",
        );
        pasted_lines()
    });
    let spinner = spinner();
    let callback = async {
        tokio::select! {
            outcome = wait_for_callback(listener, completion, out) => outcome,
            outcome = wait_for_paste(pasted, completion, out) => outcome,
        }
    };
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(browser.timeout, callback) => {
            outcome.unwrap_or_else(|_| Err(Error::config(format!(
                "no callback from the browser within {} s: open the URL above and approve, or run again with a longer --timeout",
                browser.timeout.as_secs()
            ))))
        }
        _ = tokio::signal::ctrl_c() => {
            if let Some(spinner) = &spinner { spinner.abort(); }
            crate::output::stderr_line("\nlogin cancelled");
            std::process::exit(130);
        }
    };
    if let Some(spinner) = spinner {
        spinner.abort();
        eprint!("\r\x1b[2K");
    }
    outcome
}

/// Lines typed or piped on standard input, read by a thread of their own (a blocking read must
/// not hold the runtime back when the login ends another way).
fn pasted_lines() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (lines, received) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    received
}

/// Takes pasted callbacks until one is this login's: a redirect URL (or its query), its `state`
/// checked; or a bare code. Returns the login of the user. When standard input ends after a
/// refused paste, that refusal is the outcome; when it ends with nothing pasted, the loopback
/// callback may still come.
async fn wait_for_paste(
    pasted: Option<tokio::sync::mpsc::UnboundedReceiver<String>>,
    completion: &dyn Completion,
    out: &Output,
) -> boxauth::Result<String> {
    let Some(mut pasted) = pasted else {
        return std::future::pending().await;
    };
    let mut refused = None;
    while let Some(line) = pasted.recv().await {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match completion.complete(line).await {
            Ok(login) => return Ok(login),
            Err(error) if refused_state(&error) => {
                out.note(
                    "refused a pasted address with a wrong state (it is not from this login); \
                     paste the one this login's browser ended on",
                );
                refused = Some(error);
            }
            Err(error) => return Err(error),
        }
    }
    match refused {
        Some(error) => Err(error),
        None => std::future::pending().await,
    }
}

/// Whether `error` refuses a callback's `state` (a login or a vault connection).
fn refused_state(error: &Error) -> bool {
    matches!(error, Error::StateMismatch)
        || matches!(
            error.vault_error_kind(),
            Some(boxauth::VaultErrorKind::StateMismatch | boxauth::VaultErrorKind::StateExpired)
        )
}

/// How long one connection may take to send its request line and headers, in all.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// The most connections read at once; more wait in the listen queue.
const MAX_CONNECTIONS: usize = 64;

/// Reads one connection's request, answering anything but `GET /callback` itself: the stream and
/// the query of a callback.
async fn screen(mut stream: TcpStream) -> Option<(TcpStream, String)> {
    let target = tokio::time::timeout(HEAD_TIMEOUT, request_target(&mut stream))
        .await
        .ok()
        .flatten();
    let Some(target) = target else {
        respond(
            stream,
            "400 Bad Request",
            &page("Bad request", "This address only takes Box's redirect."),
        )
        .await;
        return None;
    };
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    if path != "/callback" {
        respond(
            stream,
            "404 Not Found",
            &page("Not found", "This address only takes Box's redirect."),
        )
        .await;
        return None;
    }
    Some((stream, query.to_owned()))
}

/// Serves the callback until the real one arrives: returns the login of the user. Connections
/// are read concurrently, each within [`HEAD_TIMEOUT`], so a slow or idle one cannot hold the
/// real callback back.
async fn wait_for_callback(
    listener: &TcpListener,
    completion: &dyn Completion,
    out: &Output,
) -> boxauth::Result<String> {
    let (callbacks, mut arrived) = tokio::sync::mpsc::channel(MAX_CONNECTIONS);
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, query) = tokio::select! {
            // At the limit, new connections wait in the listen queue for a slot (at most
            // HEAD_TIMEOUT), rather than being refused.
            (slot, accepted) = async {
                (slots.clone().acquire_owned().await, listener.accept().await)
            } => {
                match (slot, accepted) {
                    (Ok(slot), Ok((stream, _))) => {
                        let callbacks = callbacks.clone();
                        tokio::spawn(async move {
                            let _slot = slot;
                            if let Some(callback) = screen(stream).await {
                                let _ = callbacks.send(callback).await;
                            }
                        });
                    }
                    // The semaphore is never closed.
                    (Err(_), _) => {}
                    // Out of file descriptors, say: wait a little rather than spin.
                    (Ok(_), Err(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
                continue;
            }
            Some(callback) = arrived.recv() => callback,
        };
        let query = query.as_str();
        let state = url::form_urlencoded::parse(query.as_bytes())
            .find(|(n, _)| n == "state")
            .map(|(_, v)| v.into_owned());
        if !state
            .as_deref()
            .is_some_and(|s| completion.state_matches(s))
        {
            out.note(
                "refused a callback with a wrong state (it is not from this login); still waiting",
            );
            respond(
                stream,
                "400 Bad Request",
                &page("Login refused", "This callback's state does not match this login. Start the login again from boxauth."),
            )
            .await;
            continue;
        }
        let outcome = completion.complete(query).await;
        match &outcome {
            Ok(login) => {
                respond(
                    stream,
                    "200 OK",
                    &page(
                        "Logged in to Box",
                        &format!("Logged in as {login}. You may close this window."),
                    ),
                )
                .await;
            }
            Err(error) => {
                respond(
                    stream,
                    "400 Bad Request",
                    &page("Login failed", &error.to_string()),
                )
                .await;
            }
        }
        return outcome;
    }
}
