//! The background process, `tidings-tray`, installed beside this program: it follows the feeds and keeps the
//! tray icon while no window is open. The window starts it when nothing follows the data directory and waits
//! until it does, so the window never races it for the follower lock. Linux only (see `tidings-tray`).

use tidings::Engine;

/// Make sure some process follows `engine`'s feeds, starting `tidings-tray` if none does. Blocks until it
/// follows; an error says why it could not be started (the window then follows the feeds itself).
pub fn ensure(engine: &Engine) -> Result<(), String> {
    if engine.follower_pid().is_some() {
        return Ok(());
    }
    start(engine)
}

#[cfg(target_os = "linux")]
fn start(engine: &Engine) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// The background program, beside this one.
    const PROGRAM: &str = "tidings-tray";
    /// How long it may take to open the store and take the follower lock.
    const START_TIMEOUT: Duration = Duration::from_secs(15);

    let program = std::env::current_exe()
        .map_err(|e| format!("cannot find {PROGRAM}: {e}"))?
        .with_file_name(PROGRAM);
    let mut child = Command::new(&program)
        .env("TIDINGS_DATA_DIR", engine.data_dir())
        .stdin(Stdio::null())
        // Its own process group: a Ctrl-C meant for the window, in a terminal, does not stop the feeds.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        // The pid is written just after the lock is taken: waiting for it covers both.
        if let Some(pid) = engine.follower_pid() {
            tracing::info!("process {pid} follows the feeds ({PROGRAM} started as {})", child.id());
            // Reaped here, so it leaves no zombie behind if it stops before the window does.
            std::thread::spawn(move || child.wait());
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "{} stopped at start ({status}); see its messages above",
                program.display()
            ));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} did not start following within {START_TIMEOUT:?}",
                program.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(not(target_os = "linux"))]
fn start(_engine: &Engine) -> Result<(), String> {
    Err("the background process runs on Linux only".into())
}
