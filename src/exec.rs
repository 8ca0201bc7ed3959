//! Running a feed's `--exec` program for each new event that passes its rules.
//!
//! The program is started directly with its arguments — never through a shell, so event text cannot become
//! a command — and gets the event in environment variables (`TIDINGS_FEED`, `TIDINGS_ID`, `TIDINGS_TYPE`,
//! `TIDINGS_TITLE`, `TIDINGS_BODY`, `TIDINGS_LINK`, `TIDINGS_DATA`). It runs in the background: a slow
//! program is killed after [`TIMEOUT`], and at most [`AT_ONCE`] run at a time (more are skipped with a
//! warning), so a hook never holds up a feed.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::store::events::StoredEvent;

/// A hook still running after this long is killed.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// Hooks running at once, across all feeds.
pub const AT_ONCE: usize = 8;

/// Runs hooks with a bound on how many run at once.
#[derive(Clone)]
pub struct Hooks {
    permits: Arc<Semaphore>,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            permits: Arc::new(Semaphore::new(AT_ONCE)),
        }
    }
}

impl Hooks {
    /// Start `command` (program, then arguments) for `event` in the background.
    pub fn run(&self, command: &[String], event: &StoredEvent) {
        let Some((program, args)) = command.split_first() else {
            return;
        };
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            tracing::warn!(feed = %event.feed, "too many --exec programs still running; skipped one for this event");
            return;
        };
        let mut child = tokio::process::Command::new(program);
        child
            .args(args)
            .envs(environment(event))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let program = program.clone();
        let feed = event.feed.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let child = match child.spawn() {
                Ok(child) => child,
                Err(e) => return tracing::warn!(%feed, "cannot run --exec `{program}`: {e}"),
            };
            match tokio::time::timeout(TIMEOUT, child.wait_with_output()).await {
                Err(_) => {
                    tracing::warn!(%feed, "--exec `{program}` ran longer than {} s and was stopped", TIMEOUT.as_secs())
                }
                Ok(Err(e)) => tracing::warn!(%feed, "--exec `{program}` failed: {e}"),
                Ok(Ok(output)) if !output.status.success() => tracing::warn!(
                    %feed,
                    "--exec `{program}` exited with {}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
                Ok(Ok(_)) => {}
            }
        });
    }
}

/// The event as environment variables (NUL bytes, which the OS cannot pass, removed).
fn environment(event: &StoredEvent) -> Vec<(&'static str, String)> {
    let value = |text: &str| text.replace('\0', "");
    vec![
        ("TIDINGS_FEED", value(&event.feed)),
        ("TIDINGS_ID", value(event.event_id.as_deref().unwrap_or(""))),
        ("TIDINGS_TYPE", value(&event.event_type)),
        ("TIDINGS_TITLE", value(&event.title)),
        ("TIDINGS_BODY", value(&event.body)),
        ("TIDINGS_LINK", value(event.link.as_deref().unwrap_or(""))),
        ("TIDINGS_DATA", value(&event.data)),
    ]
}
