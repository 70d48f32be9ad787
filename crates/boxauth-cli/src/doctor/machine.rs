//! This machine's side: its clock against Box's, and its token file.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use boxauth::Authentication;

use super::{Check, Name};

/// The most this machine's clock may be off Box's: a JWT assertion's `exp` is 30 s after this
/// machine's now (boxauth's default), and Box refuses one whose `exp` is past, or more than 60 s
/// ahead, on its own clock.
const MAX_SKEW_SECONDS: i64 = 30;

/// This machine's clock against Box's `Date`.
pub(super) async fn clock(auth: &Arc<dyn Authentication>) -> Check {
    match boxauth::internal::box_clock::box_date(auth.network_session()).await {
        Ok(Some(box_now)) => {
            let skew = seconds_between(SystemTime::now(), box_now);
            let detail = match skew {
                0 => "this machine's clock agrees with Box's".to_owned(),
                s if s > 0 => format!("this machine's clock is {s} s ahead of Box's"),
                s => format!("this machine's clock is {} s behind Box's", -s),
            };
            if skew.abs() <= MAX_SKEW_SECONDS {
                Check::pass(Name::Clock, detail)
            } else {
                Check::fail(
                    Name::Clock,
                    detail,
                    format!(
                        "set this machine's clock right, and keep it so (NTP: `timedatectl \
                         set-ntp true`, or chrony): Box refuses JWT assertions from a clock more \
                         than {MAX_SKEW_SECONDS} s off, and tokens are renewed at the wrong time"
                    ),
                )
            }
        }
        Ok(None) => Check::skip(Name::Clock, "Box's answer carried no Date header"),
        Err(error) => Check::fail(
            Name::Clock,
            format!("cannot reach Box: {}", error.report()),
            error
                .hint()
                .unwrap_or("check the base URL, the network and the proxy settings"),
        ),
    }
}

/// `ours - box`, in whole seconds (positive: ours is ahead).
fn seconds_between(ours: SystemTime, box_now: SystemTime) -> i64 {
    match ours.duration_since(box_now) {
        Ok(ahead) => i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX),
        Err(behind) => -i64::try_from(behind.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// A token file boxauth would refuse or that others can read (`None`: fine, or not there yet).
pub(super) fn file_permissions(path: &Path) -> Option<Check> {
    let shown = path.display();
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => {
            return Some(Check::fail(
                Name::TokenStore,
                format!("cannot inspect token file {shown}: {error}"),
                "check the permissions of the token file's directory",
            ));
        }
    };
    if meta.file_type().is_symlink() {
        return Some(Check::fail(
            Name::TokenStore,
            format!(
                "token file {shown} is a symbolic link: boxauth never writes tokens through one"
            ),
            "replace the link with the file itself, or give the real path as the token store",
        ));
    }
    if !meta.is_file() {
        return Some(Check::fail(
            Name::TokenStore,
            format!("token file {shown} is not a regular file"),
            "remove it, or give another path as the token store",
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Some(Check::fail(
                Name::TokenStore,
                format!("token file {shown} has mode {mode:04o}: others can read its tokens"),
                format!("chmod 600 {shown}"),
            ));
        }
    }
    None
}
