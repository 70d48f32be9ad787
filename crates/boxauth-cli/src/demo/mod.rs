//! `boxauth demo`: the README's main job. Starts the Box emulator in-process and walks through
//! every part of Box authentication, showing each step and how long it took.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use boxauth::{
    AuthOptions, Authentication, AuthorizationManager, AuthorizeUserArgs, BoxClient, CcgAuth,
    CcgConfig, Error, JwtAuth, JwtConfig, NetworkSession, ProxyConfig, RefreshAccessTokenArgs,
    RequestAccessTokenArgs, RevokeAccessTokenArgs, Token,
};
use boxauth_emulator::headless::{self, Decision};
use boxauth_emulator::{
    DEFAULT_ADMIN_LOGIN, DEFAULT_APP_USER_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    DEFAULT_ENTERPRISE_ID, DEFAULT_REDIRECT_URI, Emulator, EmulatorConfig,
};
use clap::Args;

use crate::style::Style;

mod vault;

/// Walk through every part of Box authentication against an in-process emulator.
#[derive(Debug, Args)]
#[command(after_help = "Example:
  boxauth demo            # coloured on a terminal, plain when piped; exit 0 only if every step worked")]
pub struct DemoCommand {
    /// Print the result as JSON (each step, its outcome and duration) instead of text.
    #[arg(long)]
    json: bool,
}

/// One step's outcome.
struct Step {
    title: &'static str,
    ok: bool,
    detail: String,
    millis: f64,
}

pub(crate) struct Demo {
    style: Style,
    json: bool,
    steps: Vec<Step>,
}

/// The first characters of a secret and its length: enough to tell tokens apart, never to use one.
pub(crate) fn masked(token: &Token) -> String {
    let value = token.secret();
    let shown: String = value.chars().take(4).collect();
    format!("{shown}… ({} chars)", value.chars().count())
}

impl Demo {
    /// Runs one step, prints it, and keeps going; returns the value if it worked.
    pub(crate) async fn step<T, F>(&mut self, title: &'static str, work: F) -> Option<T>
    where
        F: Future<Output = Result<(T, String), String>>,
    {
        // Nobody reads any more (`boxauth demo | head -1`): the rest is skipped.
        if crate::output::stdout_closed() {
            return None;
        }
        let started = Instant::now();
        let outcome = work.await;
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        let (value, ok, detail) = match outcome {
            Ok((value, detail)) => (Some(value), true, detail),
            Err(detail) => (None, false, detail),
        };
        if !self.json {
            let mark = if ok {
                self.style.ok("✓")
            } else {
                self.style.fail("✗")
            };
            let time = self.style.dim(&format!("{millis:>8.1} ms"));
            let mut shown = format!("{mark} {time}  {}", self.style.bold(title));
            for line in detail.lines() {
                shown.push_str(&format!("\n             {}", self.style.dim(line)));
            }
            // A closed stdout is noticed at the next step, and the command's end.
            let _ = crate::outln!("{shown}");
        }
        self.steps.push(Step {
            title,
            ok,
            detail,
            millis,
        });
        value
    }

    pub(crate) fn section(&self, title: &str) {
        if !self.json {
            let _ = crate::outln!("\n{}", self.style.heading(title));
        }
    }
}

pub(crate) fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

impl DemoCommand {
    pub async fn run(self) -> boxauth::Result<()> {
        let mut demo = Demo {
            style: Style::for_stdout(),
            json: self.json,
            steps: Vec::new(),
        };
        let ok = run(&mut demo).await;
        if self.json {
            let steps: Vec<_> = demo
                .steps
                .iter()
                .map(|s| serde_json::json!({"step": s.title, "ok": s.ok, "detail": s.detail, "ms": (s.millis * 10.0).round() / 10.0}))
                .collect();
            crate::output::print_json(&serde_json::json!({"ok": ok, "steps": steps}))?;
        } else {
            let total: f64 = demo.steps.iter().map(|s| s.millis).sum();
            let passed = demo.steps.iter().filter(|s| s.ok).count();
            let summary = format!(
                "{passed} of {} steps worked in {total:.0} ms",
                demo.steps.len()
            );
            crate::outln!(
                "\n{}",
                if ok {
                    demo.style.ok(&summary)
                } else {
                    demo.style.fail(&summary)
                }
            )?;
        }
        if ok {
            Ok(())
        } else {
            Err(Error::config(
                "the demo failed: see the steps marked ✗ above",
            ))
        }
    }
}

async fn run(demo: &mut Demo) -> bool {
    demo.section("The Box emulator");
    let Some(emulator) = demo
        .step(
            "Start the emulator in this process, on a free port",
            async {
                let emulator = Emulator::start(
                    EmulatorConfig::default()
                        .with_generated_users(vault::USERS.len())
                        .map_err(text)?,
                )
                .await
                .map_err(text)?;
                let detail = format!(
                    "base URL {}  ·  OAuth 2.0 URL {}",
                    emulator.base_url(),
                    emulator.oauth2_url()
                );
                Ok((emulator, detail))
            },
        )
        .await
    else {
        return false;
    };
    let session = match NetworkSession::builder()
        .urls(emulator.urls())
        .proxy(ProxyConfig::None)
        .build()
    {
        Ok(session) => session,
        Err(_) => return false,
    };
    let manager = AuthorizationManager::new(session.clone());
    let users_me = |token: Token| {
        let session = session.clone();
        async move {
            let auth = boxauth::DeveloperTokenAuth::with_options(
                boxauth::DeveloperTokenConfig::new(token),
                AuthOptions::default().session(session),
            )?;
            BoxClient::new(auth).users_me().await
        }
    };

    demo.section("OAuth 2.0 with the AuthorizationManager");
    let state = "demo-state-7f3a9c";
    let url = manager.authorize_url(
        &AuthorizeUserArgs::new(DEFAULT_CLIENT_ID)
            .redirect_uri(DEFAULT_REDIRECT_URI)
            .state(state),
    );
    demo.step("authorize_url: the page a user would open", async {
        Ok(((), url.clone()))
    })
    .await;
    let code = demo
        .step(
            "Consent: the admin approves on the consent page (over HTTP)",
            async {
                let location = headless::answer(&url, DEFAULT_ADMIN_LOGIN, Decision::Approve)
                    .await
                    .map_err(text)?;
                let parsed = url::Url::parse(&location).map_err(text)?;
                let get = |name: &str| {
                    parsed
                        .query_pairs()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.into_owned())
                };
                if get("state").as_deref() != Some(state) {
                    return Err(format!("the redirect's state is not ours: {location}"));
                }
                let code = get("code").ok_or("the redirect has no code")?;
                Ok((
                    code,
                    format!(
                        "redirected to {}?code=…&state={state} (state checked)",
                        DEFAULT_REDIRECT_URI
                    ),
                ))
            },
        )
        .await;
    let Some(code) = code else {
        return finish(demo);
    };
    let tokens = demo
        .step(
            "request_access_token: exchange the code (grant_type=authorization_code)",
            async {
                let token = manager
                    .request_access_token(RequestAccessTokenArgs::authorization_code(
                        DEFAULT_CLIENT_ID,
                        DEFAULT_CLIENT_SECRET,
                        code,
                    ))
                    .await
                    .map_err(text)?;
                let access = token.access_token.clone().ok_or("no access_token")?;
                let refresh = token.refresh_token.clone().ok_or("no refresh_token")?;
                let detail = format!(
                    "access token {}  ·  expires in {} s  ·  refresh token {}",
                    masked(&access),
                    token.expires_in.unwrap_or_default(),
                    masked(&refresh)
                );
                Ok(((access, refresh), detail))
            },
        )
        .await;
    let Some((access, refresh)) = tokens else {
        return finish(demo);
    };
    demo.step("GET /2.0/users/me with the access token", async {
        let me = users_me(access.clone()).await.map_err(text)?;
        Ok((
            (),
            format!("user {} · {}", me.id, me.login.unwrap_or_default()),
        ))
    })
    .await;
    let rotated = demo
        .step("refresh_access_token: a new pair; the old refresh token is spent", async {
            let token = manager
                .refresh_access_token(RefreshAccessTokenArgs::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, refresh.clone()))
                .await
                .map_err(text)?;
            let access = token.access_token.clone().ok_or("no access_token")?;
            let new_refresh = token.refresh_token.clone().ok_or("no refresh_token")?;
            let reuse = manager
                .refresh_access_token(RefreshAccessTokenArgs::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, refresh.clone()))
                .await;
            let refused = match reuse {
                Err(Error::Api(api)) if api.is("invalid_grant") => api.error_description.clone().unwrap_or_default(),
                other => return Err(format!("reusing the spent refresh token was not refused: {other:?}")),
            };
            let detail = format!(
                "access token {}  ·  refresh token {}\nthe spent one again: invalid_grant \"{refused}\" (and its family is revoked, as at Box)",
                masked(&access),
                masked(&new_refresh)
            );
            Ok((access, detail))
        })
        .await;
    let Some(_) = rotated else {
        return finish(demo);
    };
    // Reusing the spent token revoked the family, as at Box: start a fresh one for the rest.
    let fresh = demo
        .step(
            "A fresh login for the next steps (consent and code exchange again)",
            async {
                let location = headless::answer(&url, DEFAULT_ADMIN_LOGIN, Decision::Approve)
                    .await
                    .map_err(text)?;
                let code = url::Url::parse(&location)
                    .map_err(text)?
                    .query_pairs()
                    .find(|(n, _)| n == "code")
                    .map(|(_, v)| v.into_owned())
                    .ok_or("no code")?;
                let token = manager
                    .request_access_token(RequestAccessTokenArgs::authorization_code(
                        DEFAULT_CLIENT_ID,
                        DEFAULT_CLIENT_SECRET,
                        code,
                    ))
                    .await
                    .map_err(text)?;
                let access = token.access_token.clone().ok_or("no access_token")?;
                Ok((access.clone(), format!("access token {}", masked(&access))))
            },
        )
        .await;
    let Some(access) = fresh else {
        return finish(demo);
    };
    demo.step(
        "Downscope: a token that can only preview Contract.pdf (token exchange)",
        async {
            let token = manager
                .request_access_token(
                    RequestAccessTokenArgs::token_exchange(access.clone(), "item_preview")
                        .resource("https://api.box.com/2.0/files/400000001"),
                )
                .await
                .map_err(text)?;
            let restricted = token.restricted_to.unwrap_or_default();
            if restricted.is_empty() {
                return Err("restricted_to is empty".into());
            }
            let lines: Vec<String> = restricted
                .iter()
                .map(|entry| {
                    let scope = entry
                        .scope
                        .as_ref()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default();
                    let object = match &entry.object {
                        Some(boxauth::Resource::File(file)) => format!(
                            "file {} \"{}\"",
                            file.id,
                            file.name.clone().unwrap_or_default()
                        ),
                        Some(boxauth::Resource::Folder(folder)) => format!(
                            "folder {} \"{}\"",
                            folder.id,
                            folder.name.clone().unwrap_or_default()
                        ),
                        _ => "another object".to_owned(),
                    };
                    format!("restricted_to: {scope} on {object}")
                })
                .collect();
            let token_value = token.access_token.ok_or("no access_token")?;
            Ok((
                (),
                format!(
                    "{}\ndownscoped token {}",
                    lines.join("\n"),
                    masked(&token_value)
                ),
            ))
        },
    )
    .await;
    demo.step(
        "revoke_access_token: revoke the access token (the pair dies)",
        async {
            manager
                .revoke_access_token(RevokeAccessTokenArgs::new(
                    DEFAULT_CLIENT_ID,
                    DEFAULT_CLIENT_SECRET,
                    access.clone(),
                ))
                .await
                .map_err(text)?;
            Ok(((), "200, empty body".to_owned()))
        },
    )
    .await;
    demo.step(
        "GET /2.0/users/me with the revoked token is refused",
        async {
            match users_me(access.clone()).await {
                Err(Error::DeveloperTokenExpired) | Err(Error::Api(_)) => {
                    Ok(((), "401 invalid_token: the token is dead".to_owned()))
                }
                Ok(me) => Err(format!("the revoked token still works (user {})", me.id)),
                Err(other) => Err(other.to_string()),
            }
        },
    )
    .await;

    demo.section("JWT with Box's app config file");
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(_) => return finish(demo),
    };
    let jwt = demo
        .step("Export box_config.json (key encrypted as Box's console does) and load it", async {
            let exported = emulator.export_config(dir.path()).map_err(text)?;
            let config = JwtConfig::from_config_file(&exported.box_config).map_err(text)?;
            let detail = format!(
                "{}: clientID {} · publicKeyID {} · RSA-{} key decrypted (PBES2, PBKDF2-HMAC-SHA1, 3DES)",
                exported.box_config.display(),
                config.client_id,
                config.key_id,
                config.private_key.bits()
            );
            let auth = JwtAuth::with_options(config, AuthOptions::default().session(session.clone())).map_err(text)?;
            Ok((auth, detail))
        })
        .await;
    if let Some(jwt) = jwt {
        demo.step(
            "JwtAuth: sign an RS256 assertion, get a service account token",
            async {
                let token = jwt.retrieve_token().await.map_err(text)?;
                let me = BoxClient::new(jwt.clone()).users_me().await.map_err(text)?;
                let access = token.access_token.clone();
                Ok((
                    (),
                    format!(
                        "token {} · /2.0/users/me: {}",
                        masked(&access),
                        me.login.unwrap_or_default()
                    ),
                ))
            },
        )
        .await;
        demo.step("JwtAuth as a user: the app user's own token", async {
            let user = jwt.with_user_subject(DEFAULT_APP_USER_ID).map_err(text)?;
            let me = BoxClient::new(user).users_me().await.map_err(text)?;
            Ok((
                (),
                format!("/2.0/users/me: {} ({})", me.id, me.name.unwrap_or_default()),
            ))
        })
        .await;
    }

    demo.section("Client Credentials Grant");
    let ccg = CcgAuth::with_options(
        CcgConfig::enterprise(
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            DEFAULT_ENTERPRISE_ID,
        ),
        AuthOptions::default().session(session.clone()),
    );
    if let Ok(ccg) = ccg {
        let ccg = Arc::new(ccg);
        demo.step("CcgAuth: the service account's token, cached", async {
            let first = ccg.retrieve_token().await.map_err(text)?;
            let again = ccg.retrieve_token().await.map_err(text)?;
            if !Arc::ptr_eq(&first, &again) {
                return Err("the second call did not come from the cache".into());
            }
            let me = BoxClient::from_shared(ccg.clone())
                .users_me()
                .await
                .map_err(text)?;
            let access = first.access_token.clone();
            Ok((
                (),
                format!(
                    "token {} · /2.0/users/me: {}",
                    masked(&access),
                    me.login.unwrap_or_default()
                ),
            ))
        })
        .await;
        demo.step(
            "Single flight: 200 tasks ask at once, one token request is sent",
            async {
                let fresh = Arc::new(
                    ccg.with_enterprise_subject(DEFAULT_ENTERPRISE_ID)
                        .map_err(text)?,
                );
                let before = emulator
                    .stats()
                    .requests(boxauth_emulator::Grant::ClientCredentials);
                let tasks: Vec<_> = (0..200)
                    .map(|_| {
                        let auth = fresh.clone();
                        tokio::spawn(async move { auth.retrieve_token().await })
                    })
                    .collect();
                for task in tasks {
                    task.await.map_err(text)?.map_err(text)?;
                }
                let sent = emulator
                    .stats()
                    .requests(boxauth_emulator::Grant::ClientCredentials)
                    - before;
                if sent != 1 {
                    return Err(format!("{sent} token requests were sent"));
                }
                Ok(((), "200 tasks, 1 token request".to_owned()))
            },
        )
        .await;
    }
    vault::run(demo, &emulator, &session).await;
    emulator.shutdown().await;
    finish(demo)
}

fn finish(demo: &Demo) -> bool {
    !demo.steps.is_empty() && demo.steps.iter().all(|s| s.ok)
}
