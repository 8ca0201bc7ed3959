//! A private D-Bus session bus with a recording notification server, for integration tests
//! that check the desktop notifications Tidings really raises.
//!
//! [`NotificationBus::start`] launches a `dbus-daemon` child process with a minimal
//! configuration of its own (written into a temporary directory: one Unix socket in that
//! directory, EXTERNAL authentication, allow-all policy, and no service directories, so nothing
//! can ever be auto-started on it), then serves `org.freedesktop.Notifications` on that bus from a
//! dedicated thread. Every `Notify` call is recorded as a [`Recorded`], in arrival order.
//!
//! Each test gets its own bus, so tests running in parallel in one process don't see each other's
//! notifications. The test process environment is never touched: pass
//! [`NotificationBus::address`] to a child process as `DBUS_SESSION_BUS_ADDRESS`.
//!
//! ```ignore
//! let bus = NotificationBus::start();
//! let status = Command::new(tidings_bin)
//!     .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
//!     .status()
//!     .unwrap();
//! let calls = bus.wait_for(1, Duration::from_secs(10));
//! assert_eq!(calls[0].summary, "New event");
//! assert_eq!(bus.settle(Duration::from_millis(500)).len(), 1);
//! ```
//!
//! Include it with `#[path = "support/dbus.rs"] mod dbus;` (or from a `tests/support/mod.rs`).
//! It needs `dbus-daemon` (Debian package `dbus`) on `PATH`, and the crates `zbus` 6, `tempfile`
//! and `tokio` (only its runtime-independent `sync::oneshot`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

/// The well-known name the recording server owns.
pub const NOTIFICATIONS_NAME: &str = "org.freedesktop.Notifications";
/// The object path the recording server is served at.
pub const NOTIFICATIONS_PATH: &str = "/org/freedesktop/Notifications";

/// How long [`NotificationBus::start`] waits for the daemon and the server to be ready.
const START_DEADLINE: Duration = Duration::from_secs(10);
/// How long [`Drop`] waits for the server thread to finish before leaving it behind.
const STOP_DEADLINE: Duration = Duration::from_secs(5);
/// [`NotificationBus::settle`] gives up after `quiet` plus this, even if calls keep coming.
const SETTLE_CAP: Duration = Duration::from_secs(30);

/// One `org.freedesktop.Notifications.Notify` call, as the notification server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub app_name: String,
    pub replaces_id: u32,
    pub app_icon: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
    /// `hints["urgency"]` if it is present and a byte (`y`), as the specification requires:
    /// 0 low, 1 normal, 2 critical. A wrongly typed urgency hint shows up as `None` here while
    /// `"urgency"` is still listed in [`Recorded::hints`].
    pub urgency: Option<u8>,
    /// The names of the hints present, sorted.
    pub hints: Vec<String>,
    pub expire_timeout: i32,
}

/// A private session bus (a `dbus-daemon` child process) with a recording notification server
/// on it.
pub struct NotificationBus {
    address: String,
    shared: Arc<Shared>,
    daemon: Child,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    /// Holds the configuration, the socket and the daemon's log; removed last, on drop.
    dir: tempfile::TempDir,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    calls: Vec<Recorded>,
    /// When each call arrived (wall clock, to compare with timestamps other processes wrote).
    arrived: Vec<SystemTime>,
    last_call: Option<Instant>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock can only come from a bug in this module; the data is a
        // plain list, still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_timeout<'a>(&self, guard: MutexGuard<'a, State>, timeout: Duration) -> MutexGuard<'a, State> {
        match self.changed.wait_timeout(guard, timeout) {
            Ok((guard, _)) => guard,
            Err(e) => e.into_inner().0,
        }
    }
}

impl NotificationBus {
    /// Start a private bus and the recording server; returns once the name
    /// `org.freedesktop.Notifications` is owned on that bus by the server (within ~10 s).
    ///
    /// Panics with a clear message if `dbus-daemon` is missing ("install the dbus package"), or
    /// if the daemon or the server fails to come up, with the daemon's log.
    pub fn start() -> NotificationBus {
        let deadline = Instant::now() + START_DEADLINE;
        let dir = tempfile::Builder::new()
            .prefix("tidings-dbus-")
            .tempdir()
            .expect("NotificationBus: cannot create a temporary directory");
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, bus_config(dir.path()))
            .expect("NotificationBus: cannot write the dbus-daemon configuration");
        let log_path = dir.path().join("dbus-daemon.log");
        let log = File::create(&log_path).expect("NotificationBus: cannot create the daemon log");

        // `--session` would load /usr/share/dbus-1/session.conf and cannot be combined with
        // `--config-file`; our configuration declares `<type>session</type>` itself.
        let mut daemon = match Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .arg("--print-address=1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == io::ErrorKind::NotFound => panic!(
                "NotificationBus: `dbus-daemon` was not found on PATH; install the dbus package \
                 (Debian/Ubuntu: `apt-get install dbus`) to run the notification tests"
            ),
            Err(e) => panic!("NotificationBus: cannot start dbus-daemon: {e}"),
        };

        let address = match read_address(&mut daemon, deadline) {
            Ok(address) => address,
            Err(why) => {
                stop_daemon(&mut daemon);
                panic!(
                    "NotificationBus: dbus-daemon did not report its address: {why}\n\
                     dbus-daemon log:\n{}",
                    read_log(&log_path)
                );
            }
        };

        let shared = Arc::new(Shared::default());
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = {
            let shared = Arc::clone(&shared);
            let address = address.clone();
            thread::Builder::new()
                .name("notification-bus".into())
                .spawn(move || serve(&address, shared, ready_tx, stop_rx))
                .expect("NotificationBus: cannot spawn the server thread")
        };

        let mut bus = NotificationBus {
            address,
            shared,
            daemon,
            stop: Some(stop_tx),
            server: Some(server),
            dir,
        };
        // Poll both the server's report and the daemon, so a daemon that dies is reported at once.
        let failure = loop {
            match ready_rx.recv_timeout(Duration::from_millis(20)) {
                Ok(Ok(())) => break None,
                Ok(Err(why)) => break Some(why),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    break Some("the server thread ended without reporting".to_owned());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Ok(Some(status)) = bus.daemon.try_wait() {
                break Some(format!("dbus-daemon exited ({status})"));
            }
            if Instant::now() >= deadline {
                break Some(format!("{NOTIFICATIONS_NAME} was not owned within {START_DEADLINE:?}"));
            }
        };
        if let Some(why) = failure {
            let log = read_log(&bus.dir.path().join("dbus-daemon.log"));
            let address = bus.address.clone();
            drop(bus);
            panic!(
                "NotificationBus: the notification server did not start on {address}: {why}\n\
                 dbus-daemon log:\n{log}"
            );
        }
        bus
    }

    /// The bus address, to pass to a child process as `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Snapshot of the calls recorded so far, in order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared.lock().calls.clone()
    }

    /// Snapshot of the calls recorded so far with the wall-clock time each arrived (benchmarks
    /// measure latency with it).
    pub fn recorded_with_times(&self) -> Vec<(SystemTime, Recorded)> {
        let state = self.shared.lock();
        state.arrived.iter().copied().zip(state.calls.iter().cloned()).collect()
    }

    /// Wait until at least `n` calls were recorded or `timeout` passes; returns the snapshot
    /// either way.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            let now = Instant::now();
            if state.calls.len() >= n || now >= deadline {
                return state.calls.clone();
            }
            state = self.shared.wait_timeout(state, deadline - now);
        }
    }

    /// Wait until `quiet` has passed with no new call arriving (the wait restarts at each new
    /// call), then return the snapshot. Used to assert that no more notifications come. Gives up
    /// waiting after `quiet` + 30 s if calls keep arriving.
    pub fn settle(&self, quiet: Duration) -> Vec<Recorded> {
        let start = Instant::now();
        let cap = start + quiet + SETTLE_CAP;
        let mut state = self.shared.lock();
        loop {
            let since = state.last_call.map_or(start, |last| last.max(start));
            let until = (since + quiet).min(cap);
            let now = Instant::now();
            if now >= until {
                return state.calls.clone();
            }
            state = self.shared.wait_timeout(state, until - now);
        }
    }
}

impl Drop for NotificationBus {
    /// Stops the server thread, kills `dbus-daemon`, then removes the temporary directory.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            // Join only a thread known to be finished: a stuck server must not hang the test.
            let deadline = Instant::now() + STOP_DEADLINE;
            while !server.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            if server.is_finished() {
                let _ = server.join();
            }
        }
        stop_daemon(&mut self.daemon);
    }
}

/// The daemon configuration: like a session bus, minus service activation and `session.d`.
pub fn bus_config(dir: &Path) -> String {
    let dir = xml_escape(&dir.display().to_string());
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Read the first line `dbus-daemon --print-address=1` writes, then keep draining its stdout
/// on a helper thread until the daemon exits.
pub fn read_address(daemon: &mut Child, deadline: Instant) -> Result<String, String> {
    let stdout = daemon.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel::<io::Result<String>>();
    thread::Builder::new()
        .name("dbus-daemon-stdout".into())
        .spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let result = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send(result);
            let _ = io::copy(&mut reader, &mut io::sink());
        })
        .map_err(|e| format!("cannot spawn a reader thread: {e}"))?;
    let timeout = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(timeout) {
        Ok(Ok(line)) if !line.trim().is_empty() => Ok(line.trim().to_owned()),
        Ok(Ok(_)) => Err(match daemon.try_wait() {
            Ok(Some(status)) => format!("it exited ({status})"),
            _ => "it closed its stdout".to_owned(),
        }),
        Ok(Err(e)) => Err(format!("reading its stdout failed: {e}")),
        Err(_) => Err(format!("nothing within {START_DEADLINE:?}")),
    }
}

pub fn stop_daemon(daemon: &mut Child) {
    if let Ok(None) = daemon.try_wait() {
        let _ = daemon.kill();
    }
    let _ = daemon.wait();
}

pub fn read_log(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(log) if log.trim().is_empty() => "(empty)".to_owned(),
        Ok(log) => log,
        Err(e) => format!("(unreadable: {e})"),
    }
}

/// The server thread: connect, serve, own the name, report, then run until told to stop.
///
/// `zbus::block_on` gives this thread a runtime of its own that drives the connection, so the
/// server works the same whether the test is a plain `#[test]` or a `#[tokio::test]`.
fn serve(
    address: &str,
    shared: Arc<Shared>,
    ready: mpsc::Sender<Result<(), String>>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    zbus::block_on(async move {
        let connection = match connect(address, shared).await {
            Ok(connection) => connection,
            Err(e) => {
                let _ = ready.send(Err(e.to_string()));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        // Either a stop request or the `NotificationBus` (hence the sender) being dropped.
        let _ = stop.await;
        let _ = connection.close().await;
    });
}

async fn connect(address: &str, shared: Arc<Shared>) -> zbus::Result<zbus::Connection> {
    let recorder = Recorder { shared, next_id: 1 };
    let connection = zbus::connection::Builder::address(address)
        .serve_at(NOTIFICATIONS_PATH, recorder)
        .name(NOTIFICATIONS_NAME)
        .build()
        .await?;
    // The name was requested while building; confirm the bus now routes it to us.
    let dbus = zbus::fdo::DBusProxy::new(&connection).await?;
    let owner = dbus.get_name_owner(NOTIFICATIONS_NAME.try_into()?).await?;
    let ours = connection.unique_name().map(|name| name.as_str());
    if ours != Some(owner.as_str()) {
        return Err(zbus::Error::Failure(format!(
            "{NOTIFICATIONS_NAME} is owned by {owner}, not by the server ({ours:?})"
        )));
    }
    Ok(connection)
}

/// The recording `org.freedesktop.Notifications` implementation.
struct Recorder {
    shared: Arc<Shared>,
    next_id: u32,
}

// `spawn = false`: calls are handled one at a time, in the order they arrive.
#[zbus::interface(name = "org.freedesktop.Notifications", spawn = false)]
impl Recorder {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        app_name: String,
        replaces_id: u32,
        app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, zbus::OwnedVariant>,
        expire_timeout: i32,
    ) -> u32 {
        let urgency = hints.get("urgency").and_then(|value| u8::try_from(value).ok());
        let mut hint_names: Vec<String> = hints.into_keys().collect();
        hint_names.sort();
        // Like real servers: a replacement keeps its id, a new notification gets the next one.
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            let id = self.next_id;
            self.next_id += 1;
            id
        };

        let arrived = SystemTime::now();
        let mut state = self.shared.lock();
        state.arrived.push(arrived);
        state.calls.push(Recorded {
            app_name,
            replaces_id,
            app_icon,
            summary,
            body,
            actions,
            urgency,
            hints: hint_names,
            expire_timeout,
        });
        state.last_call = Some(Instant::now());
        drop(state);
        self.shared.changed.notify_all();
        id
    }

    fn get_capabilities(&self) -> Vec<String> {
        ["body", "body-markup", "actions"]
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[zbus(out_args("name", "vendor", "version", "spec_version"))]
    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "tidings-test".to_owned(),
            "tidings".to_owned(),
            "1".to_owned(),
            "1.2".to_owned(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}
