//! The window comes back after it was closed and WebKit's processes were released: the built
//! `tidings-desktop`, started with its window in a fresh home and data directory, paints; its window is closed
//! as a window manager's close button does (`WM_DELETE_WINDOW`); WebKit's web and network processes end (the
//! app ends the network process itself, `src/webkit.rs`); then the app is launched a second time, which the
//! single-instance plugin turns into showing the first one's window and exiting. The first process must build
//! the window anew, paint it and load its data through the core (the UI's paint marks, `src/commands/painted.rs`),
//! and then quit cleanly on SIGTERM.
//!
//! Needs a display (`xvfb-run`) and `dbus-daemon`: the single-instance plugin finds the first process over the
//! session bus, here a private one. `scripts/test` runs it.

#![cfg(target_os = "linux")]

#[path = "../../tests/support/dbus.rs"]
mod dbus;
#[allow(dead_code)]
#[path = "../examples/desktop_bench/pss.rs"]
mod pss;
#[path = "../examples/desktop_bench/x11.rs"]
mod x11;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use dbus::NotificationBus;

/// How long any one step may take: generous for a cold WebView on a small, shared CI machine.
const STEP: Duration = Duration::from_secs(60);
/// The window's title (`tauri.conf.json`).
const TITLE: &str = "Tidings";
/// The UI's paint marks: its first frame, and its first frame with the feeds and events loaded.
const SHELL: &str = "window painted: shell";
const LOADED: &str = "window painted: loaded";
/// Logged once WebKit's processes were released after the window closed.
const RELEASED: &str = "the window's WebView is released";
/// WebKit's processes, by the start of their names (`comm` is cut at 15 bytes).
const WEB_PROCESS: &str = "WebKitWebProces";
const NETWORK_PROCESS: &str = "WebKitNetworkPr";

#[test]
#[ignore = "needs Xvfb and dbus-daemon: scripts/test runs it"]
fn the_window_opens_again_after_its_webview_was_released() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run this test under a display, e.g. \
         `xvfb-run -a cargo test -p tidings-desktop --test reopen -- --include-ignored`"
    );
    let bus = NotificationBus::start();
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut app = App::start(bus.address(), home.path(), data.path());

    app.wait_for_log(SHELL, "the window's first paint");
    app.wait_for_log(LOADED, "the window's data loaded");
    assert!(
        !app.children_named(NETWORK_PROCESS).is_empty(),
        "no WebKit network process under the app while its window is open: cannot check its release\n{}",
        app.log()
    );

    // Closed as a window manager's close button does: the window is destroyed and WebKit released.
    let asked = x11::close_window(TITLE).unwrap_or_else(|e| panic!("cannot close the window: {e}"));
    assert_eq!(asked, 1, "expected one viewable window titled {TITLE:?}\n{}", app.log());
    app.wait_for_log(RELEASED, "WebKit's processes released after the close");
    app.wait_until("WebKit's web and network processes to exit", |app| {
        app.children_named(WEB_PROCESS).is_empty() && app.children_named(NETWORK_PROCESS).is_empty()
    });

    // Launched again: the second process hands over to the first and exits; the first shows its window.
    let second = App::start(bus.address(), home.path(), data.path());
    let (status, log) = second.wait_for_exit();
    assert!(status.success(), "the second launch failed ({status})\n{log}");
    app.wait_for_log(SHELL, "the reopened window's first paint");
    app.wait_for_log(LOADED, "the reopened window's data loaded");
    assert!(
        !app.children_named(WEB_PROCESS).is_empty(),
        "the reopened window has no WebKit web process\n{}",
        app.log()
    );

    let status = app.quit();
    assert!(
        status.success(),
        "the app did not quit cleanly on SIGTERM ({status})\n{}",
        app.log()
    );
}

/// One `tidings-desktop` process, its log read as it comes.
struct App {
    child: Child,
    lines: Receiver<String>,
    /// Every line read so far, for failure messages.
    seen: Vec<String>,
}

impl App {
    /// Start the app with its window, in `home` on the data directory `data`, on the session bus `bus`.
    fn start(bus: &str, home: &Path, data: &Path) -> App {
        let program = env!("CARGO_BIN_EXE_tidings-desktop");
        let mut child = Command::new(program)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .env("TIDINGS_DATA_DIR", data)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stderr = child.stderr.take().expect("stderr is piped");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        App {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Read the log until a line containing `mark` (after those already read); panic after [`STEP`].
    fn wait_for_log(&mut self, mark: &str, what: &str) {
        let deadline = Instant::now() + STEP;
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => {
                    let found = line.contains(mark);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no {what} (`{mark}`) within {STEP:?}\n{}", self.log()),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the app exited before {what} (`{mark}`)\n{}", self.log())
                }
            }
        }
    }

    /// Poll `done` until it holds; panic after [`STEP`].
    fn wait_until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + STEP;
        while !done(self) {
            assert!(Instant::now() < deadline, "waited {STEP:?} for {what}\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The app's descendants whose name contains `part`.
    fn children_named(&self, part: &str) -> Vec<u32> {
        pss::children_named(self.child.id(), part)
    }

    /// Wait for the process to exit by itself; its status and log. Panics after [`STEP`].
    fn wait_for_exit(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = self.child.try_wait().expect("cannot wait for the app") {
                return (status, self.log());
            }
            assert!(
                Instant::now() < deadline,
                "the app still runs after {STEP:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Quit as a logout does (SIGTERM) and wait for the exit.
    fn quit(&mut self) -> ExitStatus {
        let pid = i32::try_from(self.child.id()).expect("a pid fits an i32");
        // SAFETY: a plain kill(2) of this test's own child, which has not been waited for yet.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(
            sent,
            0,
            "cannot send SIGTERM to the app: {}",
            std::io::Error::last_os_error()
        );
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = self.child.try_wait().expect("cannot wait for the app") {
                self.drain();
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the app still runs {STEP:?} after SIGTERM\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
    }

    /// The log read so far, and what is waiting, for a failure message.
    fn log(&self) -> String {
        let waiting: Vec<String> = self.lines.try_iter().collect();
        format!(
            "--- the app's log ---\n{}\n{}",
            self.seen.join("\n"),
            waiting.join("\n")
        )
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
