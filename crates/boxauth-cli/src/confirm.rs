//! Before a token command exits: a token the library fetched whose write token storage has not
//! confirmed (Redis did not answer, was failing over, or no replica confirmed it) would leave
//! with this process. `before_exit` flushes it (`Authentication::flush`), says on stderr what
//! could not be confirmed, and fails the command when that token carries a refresh token: the
//! one that bought it is spent, so the identity's login may exist nowhere else.

use std::time::Duration;

use boxauth::Authentication;
use clap::Args;

use crate::output::Output;
use crate::style::Style;

/// How long to wait, before exiting, for token storage to confirm a new token.
#[derive(Debug, Clone, Copy, Args)]
pub struct ConfirmArgs {
    /// Before exiting, wait up to this long for token storage to confirm a token it has not yet
    /// (Redis: a replica's confirmation, or the end of a failover).
    #[arg(
        long,
        env = "BOXAUTH_CONFIRM_WAIT",
        value_name = "SECONDS",
        default_value_t = 20
    )]
    confirm_wait: u64,
}

/// Flushes `auth`'s unconfirmed token, if any. `Err` when what stays unconfirmed carries a
/// refresh token; a warning on stderr when it does not (a lost access token costs only a new
/// one).
pub async fn before_exit(
    auth: &dyn Authentication,
    args: &ConfirmArgs,
    out: &Output,
) -> boxauth::Result<()> {
    if auth.flush(Duration::ZERO).await.is_ok() {
        return Ok(());
    }
    out.note(&format!(
        "waiting up to {} s for token storage to confirm the new token…",
        args.confirm_wait
    ));
    let Err(unconfirmed) = auth.flush(Duration::from_secs(args.confirm_wait)).await else {
        return Ok(());
    };
    if unconfirmed.holds_refresh_token() {
        return Err(unconfirmed.into());
    }
    // Shown even with --quiet: the token printed may be the only copy.
    let style = Style::for_stderr();
    crate::output::stderr_line(&format!(
        "{} {}",
        style.bold("warning:"),
        boxauth::Error::from(unconfirmed).report()
    ));
    Ok(())
}
