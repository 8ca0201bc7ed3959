//! Shared test harness: a scriptable HTTP server, a private D-Bus session with a recording notification
//! server, and helpers to wait for conditions with a deadline (never a fixed sleep) and to run the CLI.

#![allow(dead_code)]

pub mod dbus;
pub mod follower;
pub mod keyring;
pub mod server;
pub mod ws;

use std::path::Path;
use std::time::Duration;

/// Poll `check` every 20 ms until it returns `Some`, or panic after `timeout` naming `what` was awaited.
pub async fn wait_until<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `tidings` binary with a data directory of its own and no inherited session bus.
pub fn tidings(data_dir: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tidings"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TIDINGS_DATA_DIR")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("RUST_LOG", "tidings=debug")
        .kill_on_drop(true);
    command
}

/// Run a CLI command to completion; returns (exit code, stdout, stderr).
pub async fn tidings_output(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = tidings(data_dir).args(args).output().await.expect("run tidings");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
