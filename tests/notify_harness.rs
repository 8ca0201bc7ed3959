//! Self-test of the notification test harness (`tests/support/dbus.rs`): real notifications,
//! sent by `notify-rust` from a child process, arrive on the private bus and are recorded.
//!
//! The child is this test binary itself, re-executed to run only [`harness_child`] with
//! `TIDINGS_HARNESS_CHILD` set; in a normal run that test does nothing.

#[path = "support/dbus.rs"]
mod dbus;

use std::fs::File;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use dbus::{NotificationBus, Recorded};

/// Which child mode to run: `notify` or `start`.
const CHILD_MODE: &str = "TIDINGS_HARNESS_CHILD";
/// The summary the `notify` child sends.
const CHILD_SUMMARY: &str = "TIDINGS_HARNESS_SUMMARY";

const WAIT: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(500);

/// The child side. Does nothing unless re-executed by [`run_child`].
#[test]
fn harness_child() {
    match std::env::var(CHILD_MODE).as_deref() {
        Ok("notify") => {
            let summary = std::env::var(CHILD_SUMMARY).unwrap_or_else(|_| "s".to_owned());
            let handle = notify_rust::Notification::new()
                .summary(&summary)
                .body("b &amp; c")
                .urgency(notify_rust::Urgency::Critical)
                .show()
                .expect("notify-rust could not show the notification");
            println!("notification id {}", handle.id());
        }
        Ok("start") => {
            let bus = NotificationBus::start();
            println!("started a bus at {}", bus.address());
        }
        Ok(other) => panic!("unknown {CHILD_MODE} mode {other:?}"),
        Err(_) => {}
    }
}

struct ChildOutput {
    status: ExitStatus,
    output: String,
}

/// Re-execute this test binary in child `mode`, with `envs`, and wait for it (30 s at most).
fn run_child(mode: &str, envs: &[(&str, &str)]) -> ChildOutput {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out");
    let err_path = dir.path().join("err");
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["harness_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_MODE, mode)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(std::process::Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap());
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the {mode} child did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = format!(
        "--- stdout\n{}--- stderr\n{}",
        std::fs::read_to_string(&out_path).unwrap(),
        std::fs::read_to_string(&err_path).unwrap()
    );
    ChildOutput { status, output }
}

/// Send one notification with notify-rust, from a child process, to `bus`.
fn notify_from_child(bus: &NotificationBus, summary: &str) {
    let child = run_child(
        "notify",
        &[("DBUS_SESSION_BUS_ADDRESS", bus.address()), (CHILD_SUMMARY, summary)],
    );
    assert!(
        child.status.success(),
        "the notify child failed ({}):\n{}",
        child.status,
        child.output
    );
}

fn assert_critical_notification(call: &Recorded, summary: &str) {
    assert_eq!(call.summary, summary);
    // Sent verbatim: notify-rust does not escape nor strip markup.
    assert_eq!(call.body, "b &amp; c");
    assert_eq!(call.urgency, Some(2), "Critical is urgency byte 2");
    assert_eq!(call.hints, ["urgency"]);
    assert_eq!(call.replaces_id, 0);
    assert_eq!(call.app_icon, "");
    assert!(call.actions.is_empty(), "actions: {:?}", call.actions);
    assert_eq!(call.expire_timeout, -1, "notify-rust's default timeout");
    // notify-rust's default app_name is the file name of the running executable.
    assert!(
        call.app_name.starts_with("notify_harness"),
        "app_name: {:?}",
        call.app_name
    );
}

#[test]
fn records_a_real_notify_rust_notification() {
    let bus = NotificationBus::start();
    assert!(bus.recorded().is_empty());

    notify_from_child(&bus, "s");

    let calls = bus.wait_for(1, WAIT);
    assert_eq!(calls.len(), 1, "calls: {calls:#?}");
    assert_critical_notification(&calls[0], "s");
    assert_eq!(bus.settle(QUIET), calls, "no further notification");
    assert_eq!(bus.recorded(), calls);
}

#[test]
fn parallel_buses_stay_separate() {
    let first = NotificationBus::start();
    let second = NotificationBus::start();
    assert_ne!(first.address(), second.address());

    std::thread::scope(|scope| {
        scope.spawn(|| notify_from_child(&first, "to the first bus"));
        scope.spawn(|| notify_from_child(&second, "to the second bus"));
        scope.spawn(|| notify_from_child(&second, "to the second bus"));
    });

    let first_calls = first.wait_for(1, WAIT);
    let second_calls = second.wait_for(2, WAIT);
    let first_calls_settled = first.settle(QUIET);
    assert_eq!(first_calls_settled, first_calls);
    assert_eq!(second.settle(QUIET), second_calls);

    assert_eq!(first_calls.len(), 1, "first bus: {first_calls:#?}");
    assert_critical_notification(&first_calls[0], "to the first bus");
    assert_eq!(second_calls.len(), 2, "second bus: {second_calls:#?}");
    for call in &second_calls {
        assert_critical_notification(call, "to the second bus");
    }
}

#[tokio::test]
async fn works_from_a_tokio_test() {
    let bus = NotificationBus::start();
    let address = bus.address().to_owned();
    let status = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["harness_child", "--exact", "--test-threads=1"])
        .env(CHILD_MODE, "notify")
        .env(CHILD_SUMMARY, "from tokio")
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .unwrap();
    assert!(status.success(), "the notify child failed ({status})");

    let calls = tokio::task::spawn_blocking(move || {
        let calls = bus.wait_for(1, WAIT);
        assert_eq!(bus.settle(QUIET), calls);
        calls
    })
    .await
    .unwrap();
    assert_eq!(calls.len(), 1, "calls: {calls:#?}");
    assert_critical_notification(&calls[0], "from tokio");
}

#[zbus::proxy(
    interface = "org.freedesktop.Notifications",
    default_service = "org.freedesktop.Notifications",
    default_path = "/org/freedesktop/Notifications"
)]
trait Notifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: &str,
        replaces_id: u32,
        app_icon: &str,
        summary: &str,
        body: &str,
        actions: &[&str],
        hints: std::collections::HashMap<&str, zbus::Variant<'_>>,
        expire_timeout: i32,
    ) -> zbus::Result<u32>;
    fn get_capabilities(&self) -> zbus::Result<Vec<String>>;
    fn get_server_information(&self) -> zbus::Result<(String, String, String, String)>;
    fn close_notification(&self, id: u32) -> zbus::Result<()>;
}

#[test]
fn server_answers_like_a_notification_daemon() {
    let bus = NotificationBus::start();
    assert!(bus.wait_for(1, Duration::from_millis(100)).is_empty());

    let ids = zbus::block_on(async {
        let connection = zbus::connection::Builder::address(bus.address()).build().await.unwrap();
        let proxy = NotificationsProxy::new(&connection).await.unwrap();
        assert_eq!(
            proxy.get_capabilities().await.unwrap(),
            ["body", "body-markup", "actions"]
        );
        assert_eq!(
            proxy.get_server_information().await.unwrap(),
            (
                "tidings-test".to_owned(),
                "tidings".to_owned(),
                "1".to_owned(),
                "1.2".to_owned()
            )
        );
        let mut hints = std::collections::HashMap::new();
        hints.insert("urgency", zbus::Variant::U8(0));
        hints.insert("category", zbus::Variant::from("im"));
        let first = proxy
            .notify("app", 0, "icon", "one", "", &["go", "Go"], hints, 5000)
            .await
            .unwrap();
        let mut hints = std::collections::HashMap::new();
        // Wrongly typed: urgency must be a byte.
        hints.insert("urgency", zbus::Variant::U32(1));
        let second = proxy.notify("app", 0, "", "two", "", &[], hints, 0).await.unwrap();
        let replaced = proxy
            .notify("app", first, "", "one again", "", &[], Default::default(), -1)
            .await
            .unwrap();
        proxy.close_notification(second).await.unwrap();
        (first, second, replaced)
    });
    assert_eq!(ids, (1, 2, 1));

    let calls = bus.settle(QUIET);
    let summaries: Vec<&str> = calls.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(summaries, ["one", "two", "one again"]);
    assert_eq!(
        calls[0],
        Recorded {
            app_name: "app".to_owned(),
            replaces_id: 0,
            app_icon: "icon".to_owned(),
            summary: "one".to_owned(),
            body: String::new(),
            actions: vec!["go".to_owned(), "Go".to_owned()],
            urgency: Some(0),
            hints: vec!["category".to_owned(), "urgency".to_owned()],
            expire_timeout: 5000,
        }
    );
    assert_eq!(calls[1].urgency, None);
    assert_eq!(calls[1].hints, ["urgency"]);
    assert_eq!(calls[2].replaces_id, 1);
    assert!(calls[2].hints.is_empty());
}

#[test]
fn missing_dbus_daemon_panics_with_install_hint() {
    let child = run_child("start", &[("PATH", "/nonexistent")]);
    assert!(
        !child.status.success(),
        "start() succeeded without dbus-daemon:\n{}",
        child.output
    );
    assert!(
        child.output.contains("install the dbus package"),
        "no install hint in:\n{}",
        child.output
    );
}

/// Send one notification with a plain zbus client, `delay` from now, on another thread.
fn notify_later(bus: &NotificationBus, delay: Duration, summary: &'static str) {
    let address = bus.address().to_owned();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        zbus::block_on(async {
            let connection = zbus::connection::Builder::address(address.as_str())
                .build()
                .await
                .unwrap();
            NotificationsProxy::new(&connection)
                .await
                .unwrap()
                .notify("late", 0, "", summary, "", &[], Default::default(), -1)
                .await
                .unwrap();
        });
    });
}

#[test]
fn wait_for_and_settle_follow_late_calls() {
    let bus = NotificationBus::start();

    let started = Instant::now();
    assert!(bus.wait_for(1, Duration::from_millis(200)).is_empty());
    assert!(started.elapsed() >= Duration::from_millis(200));

    notify_later(&bus, Duration::from_millis(300), "first");
    let calls = bus.wait_for(1, WAIT);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].summary, "first");

    // A call arriving during the quiet period restarts it, and is in the snapshot.
    let started = Instant::now();
    notify_later(&bus, Duration::from_millis(300), "second");
    let calls = bus.settle(QUIET);
    let summaries: Vec<&str> = calls.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(summaries, ["first", "second"]);
    assert!(started.elapsed() >= Duration::from_millis(300) + QUIET);
}
