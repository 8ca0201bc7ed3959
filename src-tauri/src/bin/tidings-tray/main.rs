//! `tidings-tray`: the desktop app's background process. It follows the feeds, raises their notifications and
//! shows the tray icon while no window is open, at the cost of the engine alone: no GTK, no WebView. The
//! window is a process of its own (`tidings-desktop`), started from here and gone when it closes, so closing
//! it hands every byte of WebKit back to the system.
//!
//! `tidings-desktop` starts this process when nothing follows the data directory yet; so does logging in, when
//! the user chose to start Tidings then. It stops on the tray's Quit, on SIGTERM or SIGINT, and it leaves at
//! once when another process already follows the directory (`tidings run`, or another `tidings-tray`).
//!
//! Linux only: elsewhere there is no StatusNotifierItem host, and `tidings-desktop` follows the feeds itself
//! while its window is open.
//!
//! # Layout
//! - [`follow`]: the process: following, the tray's requests, signals, stopping in order.
//! - [`menu`]: the tray icon (a StatusNotifierItem over D-Bus), its menu and tooltip.
//! - [`window`]: starting the window process, telling it to quit, opening links.

#[cfg(target_os = "linux")]
mod follow;
#[cfg(target_os = "linux")]
mod menu;
#[cfg(target_os = "linux")]
mod window;

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    follow::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!(
        "tidings-tray runs on Linux only; start tidings-desktop, which follows the feeds while its window is open"
    );
    std::process::ExitCode::FAILURE
}
