//! What benches share: the medians criterion wrote in this run.

use std::path::PathBuf;
use std::time::SystemTime;

/// Where criterion writes its estimates (`CRITERION_HOME`, else `<target>/criterion`: the same
/// search criterion makes, short of running `cargo metadata`, so a target dir moved by
/// `.cargo/config.toml` is not found).
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(target) => PathBuf::from(target).join("criterion"),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/criterion"
        )),
    }
}

/// The median criterion estimated for `id` (`group/name`) in ns, if it was written after `since`
/// (so a bench that did not run now is not reported with an old figure).
pub fn criterion_median_ns(id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir().join(id).join("new/estimates.json");
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if modified < since {
        return None;
    }
    let estimates: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// `--bench` without `--test` or `--list`: criterion measures (rather than only checking that
/// each bench runs), so the custom measurements and summaries should run too.
pub fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list")
}
