//! Real desktop notifications: `tidings run` against a private D-Bus session whose notification server
//! records every `Notify` call, so each test asserts what the user would see.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::dbus::{NotificationBus, Recorded};
use support::server::{Conn, Server};
use support::{tidings, tidings_output, wait_until};
use tidings::Engine;
use tidings::store::events::{EventQuery, NewEvent};
use tidings::store::writer;
use tidings::supervisor::now_ms;
use tokio::io::AsyncReadExt;
use tokio::process::Child;

const WAIT: Duration = Duration::from_secs(15);
/// Long enough for any gathered or folded notification to have been raised.
const QUIET: Duration = Duration::from_millis(1500);

async fn add_feed(dir: &std::path::Path, url: &str, name: &str) {
    let (code, _, stderr) = tidings_output(dir, &["feed", "add", url, "--name", name]).await;
    assert_eq!(code, 0, "{stderr}");
}

fn run_with_bus(dir: &std::path::Path, bus: &NotificationBus) -> Child {
    tidings(dir)
        .args(["run"])
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn summaries(recorded: &[Recorded]) -> Vec<&str> {
    recorded.iter().map(|n| n.summary.as_str()).collect()
}

fn event(id: u32, title: &str) -> String {
    format!("id: {id}\ndata: {{\"title\":\"{title}\",\"message\":\"about {title}\"}}\n\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_notification_per_new_event_and_none_for_replays() {
    let bus = NotificationBus::start();
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        if conn.index == 0 {
            conn.send(format!("retry: 50\n{}{}", event(1, "one"), event(2, "two")))
                .await;
            conn.close().await;
        } else {
            // This server replays what the client already has, then sends one new event.
            conn.send(format!("{}{}{}", event(1, "one"), event(2, "two"), event(3, "three")))
                .await;
            conn.hold().await;
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    add_feed(dir.path(), &server.url("/events"), "ci").await;
    let mut run = run_with_bus(dir.path(), &bus);
    server.wait_requests(2, WAIT).await;
    let recorded = blocking(|| {
        bus.wait_for(3, WAIT);
        bus.settle(QUIET)
    });
    assert_eq!(summaries(&recorded), ["one", "two", "three"]);
    assert_eq!(recorded[2].body, "about three");
    assert_eq!(recorded[0].app_name, "Tidings");
    run.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_becomes_one_summary() {
    let bus = NotificationBus::start();
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        let burst: String = (1..=12).map(|id| event(id, &format!("build {id} passed"))).collect();
        conn.send(burst).await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    add_feed(dir.path(), &server.url("/events"), "builds").await;
    let mut run = run_with_bus(dir.path(), &bus);
    let recorded = blocking(|| {
        bus.wait_for(1, WAIT);
        bus.settle(QUIET)
    });
    assert_eq!(summaries(&recorded), ["12 new events in builds"]);
    assert!(
        recorded[0].body.starts_with("build 12 passed\nbuild 11 passed"),
        "{}",
        recorded[0].body
    );
    run.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_text_is_escaped_for_notification_markup() {
    let bus = NotificationBus::start();
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send("id: 1\ndata: <img src=x onerror=alert(1)> & <b>bold</b>\u{202E}\u{7}\n\n")
            .await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    add_feed(dir.path(), &server.url("/events"), "web").await;
    let mut run = run_with_bus(dir.path(), &bus);
    let recorded = blocking(|| bus.wait_for(1, WAIT));
    assert_eq!(recorded[0].summary, "web: message");
    assert_eq!(
        recorded[0].body,
        "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    );
    run.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_a_crash_left_unnotified_are_raised_after_restart_if_recent() {
    let bus = NotificationBus::start();
    let dir = tempfile::tempdir().unwrap();
    // A feed whose server is gone: only what is already stored can be notified.
    add_feed(dir.path(), "http://127.0.0.1:9/events", "alerts").await;
    let engine = Engine::open(dir.path()).unwrap();
    let feed_id = engine.store().feed("alerts").unwrap().id;
    // The state a crash leaves: events committed, their notifications never raised.
    let (handle, thread) = writer::spawn(engine.store().path()).unwrap();
    let new = |id: &str, title: &str, received_ms| NewEvent {
        event_id: Some(id.into()),
        id_in_block: true,
        event_type: "message".into(),
        data: String::new(),
        title: title.into(),
        body: String::new(),
        link: None,
        urgency: Default::default(),
        received_ms,
        notify: true,
    };
    let old = new("1", "disk full an hour ago", now_ms() - 60 * 60 * 1000);
    let recent = new("2", "disk full just now", now_ms() - 1000);
    handle.write_burst(feed_id, 0, vec![old, recent], None).await.unwrap();
    drop(handle);
    blocking(|| thread.join());

    let mut run = run_with_bus(dir.path(), &bus);
    let recorded = blocking(|| {
        bus.wait_for(1, WAIT);
        bus.settle(QUIET)
    });
    assert_eq!(summaries(&recorded), ["disk full just now"]);
    run.kill().await.unwrap();

    // Raised once: a second restart raises nothing.
    let mut run = run_with_bus(dir.path(), &bus);
    let recorded = blocking(|| bus.settle(Duration::from_secs(2)));
    assert_eq!(recorded.len(), 1);
    run.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_notification_service_events_are_stored_and_it_is_said_once() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        for id in 1..=3 {
            conn.send(event(id, &format!("event {id}"))).await;
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    add_feed(dir.path(), &server.url("/events"), "quiet").await;
    let mut run = tidings(dir.path())
        .arg("run")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    let query = EventQuery::default();
    wait_until(WAIT, "3 stored events", || {
        (engine.store().events(&query).unwrap().len() == 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_with_sigterm(&run);
    let status = tokio::time::timeout(WAIT, run.wait())
        .await
        .expect("exits on SIGTERM")
        .unwrap();
    assert!(status.success(), "a clean stop exits 0: {status:?}");
    let mut stderr = String::new();
    run.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
    assert_eq!(
        stderr.matches("cannot show desktop notifications").count(),
        1,
        "{stderr}"
    );
}

fn stop_with_sigterm(child: &Child) {
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn do_not_disturb_stores_events_but_shows_nothing_until_turned_off() {
    let bus = NotificationBus::start();
    let (release, released) = tokio::sync::watch::channel(0u32);
    let server = Server::start(move |mut conn: Conn| {
        let mut released = released.clone();
        async move {
            conn.sse().await;
            // Each time the test bumps the counter, one more event goes out.
            let mut sent = 0;
            while released.changed().await.is_ok() {
                let wanted = *released.borrow();
                while sent < wanted {
                    sent += 1;
                    conn.send(event(sent, &format!("alert {sent}"))).await;
                }
            }
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    add_feed(dir.path(), &server.url("/events"), "alerts").await;
    let (code, _, stderr) = tidings_output(dir.path(), &["dnd", "on"]).await;
    assert_eq!(code, 0, "{stderr}");
    let mut run = run_with_bus(dir.path(), &bus);
    server.wait_requests(1, WAIT).await;
    release.send(1).unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    wait_until(WAIT, "the event stored", || {
        (engine.store().events(&EventQuery::default()).unwrap().len() == 1).then_some(())
    })
    .await;
    assert!(
        blocking(|| bus.settle(QUIET)).is_empty(),
        "nothing is shown while do not disturb is on"
    );

    // Turned off by another process while `run` goes on: the next event is shown, the quiet one never.
    let (code, stdout, _) = tidings_output(dir.path(), &["dnd", "status"]).await;
    assert_eq!((code, stdout.trim()), (0, "on"));
    tidings_output(dir.path(), &["dnd", "off"]).await;
    // The follower notices within a second or so: keep sending until something is shown.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut next = 2;
    let recorded = loop {
        release.send(next).unwrap();
        let recorded = blocking(|| bus.wait_for(1, Duration::from_millis(300)));
        if !recorded.is_empty() {
            break recorded;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing was shown after do not disturb was turned off"
        );
        next += 1;
    };
    // Shown alone or folded into a summary, the event stored while quiet is never among them.
    let shown: Vec<&str> = recorded[0].body.lines().chain([recorded[0].summary.as_str()]).collect();
    assert!(
        !shown.contains(&"alert 1"),
        "an event stored while quiet is never shown later: {shown:?}"
    );
    assert!(shown.iter().any(|line| line.starts_with("alert ")), "{shown:?}");
    run.kill().await.unwrap();
}
