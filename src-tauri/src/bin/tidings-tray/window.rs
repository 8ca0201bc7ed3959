//! The window is `tidings-desktop`, a process of its own beside this program: started to be shown, told over
//! the session bus to quit (through its single-instance plugin), and links open in the OS browser.

use std::process::{Command, Stdio};
use std::time::Duration;

/// The window program, installed beside this one.
const WINDOW_PROGRAM: &str = "tidings-desktop";
/// Where `tidings-desktop`'s single-instance plugin listens (its identifier in `tauri.conf.json`).
const WINDOW_BUS_NAME: &str = "dev.tidings.desktop.SingleInstance";
const WINDOW_BUS_PATH: &str = "/dev/tidings/desktop/SingleInstance";
/// The argument that makes a running `tidings-desktop` quit (`tidings_desktop::QUIT`).
const QUIT: &str = "--quit";
/// How long a window that does not answer may hold up quitting.
const QUIT_PATIENCE: Duration = Duration::from_secs(2);

/// Show the window with `args`: a running window process gets them from the new one and shows itself.
pub fn show(args: &[String]) {
    let program = match std::env::current_exe() {
        Ok(me) => me.with_file_name(WINDOW_PROGRAM),
        Err(e) => {
            tracing::warn!("cannot find the window program: {e}");
            return;
        }
    };
    let started = Command::new(&program).args(args).stdin(Stdio::null()).spawn();
    match started {
        // Reaped here, so a closed window leaves no zombie behind.
        Ok(mut child) => drop(std::thread::spawn(move || child.wait())),
        Err(e) => tracing::warn!("cannot open the window ({}): {e}", program.display()),
    }
}

/// Ask the window process, if one runs, to quit.
pub async fn quit() {
    let asked = async {
        let bus = zbus_5::Connection::session().await?;
        bus.call_method(
            Some(WINDOW_BUS_NAME),
            WINDOW_BUS_PATH,
            Some("org.SingleInstance.DBus"),
            "ExecuteCallback",
            &(vec![WINDOW_PROGRAM.to_string(), QUIT.to_string()], "/"),
        )
        .await
    };
    match tokio::time::timeout(QUIT_PATIENCE, asked).await {
        Ok(Ok(_)) => tracing::info!("asked the window to close"),
        Ok(Err(zbus_5::Error::MethodError(name, ..)))
            if name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown" => {}
        Ok(Err(e)) => tracing::debug!("no window to close: {e}"),
        Err(_) => tracing::warn!("the window did not answer within {QUIT_PATIENCE:?}; stopping all the same"),
    }
}

/// Open a web link (checked by the caller) in the OS browser.
pub fn open_link(link: &str) {
    if let Err(e) = open::that_detached(link) {
        tracing::warn!("cannot open {link}: {e}");
    }
}
