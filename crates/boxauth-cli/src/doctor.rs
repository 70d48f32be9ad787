//! `boxauth doctor`: checks a setup as a whole and prints a checklist, with the fix for each
//! failure. Each check is small and typed ([`Check`]); what Box refused is read through
//! [`boxauth::TokenRefusal`], never from Box's text. No secret is printed: details name IDs,
//! paths and Box's (already masked) answers only.

mod config;
mod machine;
mod probes;

use clap::Args;
use serde::Serialize;

use crate::auth_source::AuthSource;
use crate::connection::ConnectionArgs;
use crate::output::{Output, print_json};
use crate::style::Style;

/// Check a setup: its config and key, the clock, its tokens, the enterprise, As-User, the
/// redirect URI and the token store.
#[derive(Debug, Args)]
#[command(after_help = "Exits 1 when a check fails. Examples:
  boxauth doctor                      # BOX_* variables, else the current environment
  boxauth doctor --env prod --json    # for scripts: {\"ok\": …, \"checks\": [{\"name\", \"status\", \"detail\", \"fix\"}]}
  boxauth doctor --jwt-config config.json --user-id 22222")]
pub struct DoctorCommand {
    #[command(flatten)]
    source: AuthSource,
    /// Check this saved environment (BOXAUTH_ENV=NAME names one too, below the auth flags)
    /// [default: BOX_* variables, else the current environment].
    #[arg(long, conflicts_with = "source", value_name = "NAME")]
    env: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Print the checklist as JSON.
    #[arg(long)]
    json: bool,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Pass,
    /// Wrong: its fix says what to do.
    Fail,
    /// Not checked: it does not apply, or what it needs failed.
    Skip,
}

/// What is checked, in the order printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Name {
    /// The identity's settings can be found and read.
    Config,
    /// The JWT private key: its format, passphrase and key ID, and that Box knows it.
    Key,
    /// This machine's clock against Box's `Date`.
    Clock,
    /// The token store: reachable, and a token file safe.
    TokenStore,
    /// A token for the app's service account (JWT, CCG, App Token).
    ServiceAccount,
    /// The enterprise has authorized the app.
    Enterprise,
    /// A user's token, when the setup acts as a user.
    UserToken,
    /// `As-User`, when the environment acts with it.
    AsUser,
    /// The redirect URI `boxauth login` uses (OAuth 2.0).
    RedirectUri,
}

impl Name {
    /// Every check, in order.
    const ALL: [Name; 9] = [
        Name::Config,
        Name::Key,
        Name::Clock,
        Name::TokenStore,
        Name::ServiceAccount,
        Name::Enterprise,
        Name::UserToken,
        Name::AsUser,
        Name::RedirectUri,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Name::Config => "config",
            Name::Key => "key",
            Name::Clock => "clock",
            Name::TokenStore => "token_store",
            Name::ServiceAccount => "service_account",
            Name::Enterprise => "enterprise",
            Name::UserToken => "user_token",
            Name::AsUser => "as_user",
            Name::RedirectUri => "redirect_uri",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: Name,
    /// How it came out.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do, for a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn pass(name: Name, detail: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: Name, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn skip(name: Name, detail: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Skip,
            detail: detail.into(),
            fix: None,
        }
    }
}

/// The checklist as `--json` prints it.
#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    checks: &'a [Check],
}

impl DoctorCommand {
    /// Runs every check, prints the checklist, and fails when a check did.
    pub async fn run(&self, out: &Output) -> boxauth::Result<()> {
        // Two tries, one second apart: a Box that does not answer is reported in seconds, not
        // after the library's whole back-off (about 15 s a request).
        let mut connection = self.connection.clone();
        connection.retry = Some(boxauth::RetryPolicy::default().max_attempts(2));
        let checks = match self.source.choose(self.env.as_deref(), out) {
            Ok((config, source)) => probes::Probe::new(&connection, config, &source).run().await,
            Err(error) => self.unusable(error),
        };
        let failed: Vec<&str> = checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.name.as_str())
            .collect();
        if self.json {
            print_json(&Report {
                ok: failed.is_empty(),
                checks: &checks,
            })?;
        } else {
            print_text(&checks)?;
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(boxauth::Error::config(format!(
                "{} of {} checks failed: {}",
                failed.len(),
                checks.len(),
                failed.join(", ")
            )))
        }
    }

    /// The checklist when no setup could be chosen: `--jwt-config FILE` is read before
    /// anything else, so its error lands on the config or the key line.
    fn unusable(&self, error: boxauth::Error) -> Vec<Check> {
        match self
            .source
            .jwt_config
            .as_deref()
            .filter(|p| p.as_os_str() != "-")
        {
            Some(path) => config::unusable(
                Some(config::read_jwt_config(Some(path), None)),
                error,
                format!("--jwt-config {}", path.display()),
            ),
            None => {
                let fix = error.hint().unwrap_or(
                    "give an auth method with flags or BOX_* variables, or save an environment \
                     (boxauth env add) and name it with --env",
                );
                let mut checks = vec![Check::fail(Name::Config, error.report(), fix)];
                checks.extend(
                    Name::ALL[1..]
                        .iter()
                        .map(|name| Check::skip(*name, "not checked: no configuration")),
                );
                checks
            }
        }
    }
}

/// Where a line's detail starts: after the mark and the name.
const INDENT: &str = "                       ";

fn print_text(checks: &[Check]) -> boxauth::Result<()> {
    let style = Style::for_stdout();
    for check in checks {
        let mark = match check.status {
            Status::Pass => style.ok("[pass]"),
            Status::Fail => style.fail("[FAIL]"),
            Status::Skip => style.dim("[skip]"),
        };
        // An error's causes are on lines of their own: under the detail, not at the margin.
        let detail = check.detail.replace('\n', &format!("\n{INDENT}"));
        crate::outln!("{mark} {:<15} {detail}", check.name.as_str())?;
        if let Some(fix) = &check.fix {
            crate::outln!("{INDENT}{} {fix}", style.bold("fix:"))?;
        }
    }
    Ok(())
}
