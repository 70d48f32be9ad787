//! `boxauth emulator exec -- CMD…`: the command sees the emulator through `BOX_*` variables
//! (a real token from it, with nothing but the variables) and its exit code is passed on.

use super::common;

/// A Python program that asks the emulator for a client-credentials token with nothing but the
/// variables, reads the exported JWT config, and exits with 7.
const PROGRAM: &str = r#"
import json, os, ssl, urllib.parse, urllib.request
env = os.environ
form = urllib.parse.urlencode({
    "grant_type": "client_credentials", "client_id": env["BOX_CLIENT_ID"],
    "client_secret": env["BOX_CLIENT_SECRET"], "box_subject_type": "enterprise",
    "box_subject_id": env["BOX_ENTERPRISE_ID"]}).encode()
context = ssl.create_default_context(cafile=env.get("BOX_CA_FILE"))
answer = urllib.request.urlopen(env["BOX_BASE_URL"] + "/oauth2/token", form, context=context)
token = json.load(answer)["access_token"]
config = json.load(open(env["BOX_JWT_CONFIG"]))
assert config["boxAppSettings"]["clientID"] == env["BOX_CLIENT_ID"]
assert env["BOX_OAUTH2_URL"] == env["BOX_BASE_URL"] + "/api/oauth2"
print("token", len(token), env["BOX_BASE_URL"].split(":")[0])
raise SystemExit(7)
"#;

async fn exec(flags: &[&str]) -> common::Run {
    common::run(
        common::boxauth(None)
            .arg("emulator")
            .args(flags)
            .args(["exec", "--", "python3", "-c", PROGRAM]),
    )
    .await
}

#[tokio::test]
async fn the_command_gets_a_token_with_the_variables_and_its_exit_code_is_passed_on() {
    let run = exec(&[]).await;
    assert_eq!(
        run.code, 7,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stdout.trim(), "token 32 http");
}

#[tokio::test]
async fn with_tls_the_command_trusts_the_ca_in_box_ca_file() {
    let run = exec(&["--tls"]).await;
    assert_eq!(
        run.code, 7,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stdout.trim(), "token 32 https");
}

#[tokio::test]
async fn a_command_that_cannot_run_is_a_clear_error_and_success_is_zero() {
    let run = common::run(common::boxauth(None).args([
        "emulator",
        "exec",
        "--",
        "/nonexistent/boxauth-test-program",
    ]))
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("could not run /nonexistent/boxauth-test-program"),
        "{}",
        run.stderr
    );
    let run = common::run(common::boxauth(None).args(["emulator", "exec", "--", "true"])).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = common::run(common::boxauth(None).args([
        "emulator",
        "exec",
        "--",
        "sh",
        "-c",
        "kill -TERM $$",
    ]))
    .await;
    assert_eq!(run.code, 128 + 15, "a signal is reported as shells do");
}

#[tokio::test]
async fn the_health_command_is_green_for_a_running_emulator_and_red_otherwise() {
    let run = common::run(common::boxauth(None).args([
        "emulator",
        "exec",
        "--",
        "sh",
        "-c",
        "\"$0\" emulator health --url \"$BOX_BASE_URL\"",
        env!("CARGO_BIN_EXE_boxauth"),
    ]))
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "healthy");
    let port = boxauth_test_support::free_port();
    let run = common::run(common::boxauth(None).args([
        "emulator",
        "health",
        "--url",
        &format!("http://127.0.0.1:{port}"),
    ]))
    .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
}
