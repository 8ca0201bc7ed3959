//! The background process, `tidings-tray`, installed beside this program: it follows the feeds and keeps the
//! tray icon while no window is open. The window starts it when nothing follows the data directory yet and
//! waits until it does, so the window never races it for the follower lock.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tidings::Engine;

/// The background program, beside this one.
const PROGRAM: &str = "tidings-tray";
/// How long it may take to open the store and take the follower lock.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Make sure some process follows `engine`'s feeds, starting `tidings-tray` if none does. Blocks until it
/// follows; an error says why it could not be started (the window then follows the feeds itself).
pub fn ensure(engine: &Engine) -> Result<(), String> {
    if engine.is_following() {
        return Ok(());
    }
    let program = std::env::current_exe()
        .map_err(|e| format!("cannot find {PROGRAM}: {e}"))?
        .with_file_name(PROGRAM);
    let mut command = Command::new(&program);
    command.env("TIDINGS_DATA_DIR", engine.data_dir()).stdin(Stdio::null());
    // Its own process group: a Ctrl-C meant for the window, in a terminal, does not stop the feeds.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if engine.is_following() {
            tracing::info!("{PROGRAM} follows the feeds (process {})", child.id());
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
            return Err(format!(
                "{} did not start following within {START_TIMEOUT:?}",
                program.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
