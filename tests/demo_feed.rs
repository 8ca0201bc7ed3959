//! The demo feed over real HTTP: a real server on a free port, read with reqwest.
//!
//! SSE is read with a tiny line splitter below (enough for what the demo sends), not `tidings::sse::parser`.

use std::time::Duration;

use serde_json::Value;
use tidings::demo::{DemoOptions, DemoServer};
use tokio::time::timeout;

/// Generous bound for anything that should happen "soon".
const SOON: Duration = Duration::from_secs(10);

fn options(interval_ms: u64, history: usize) -> DemoOptions {
    DemoOptions {
        interval: Duration::from_millis(interval_ms),
        history,
        seed: 12345,
    }
}

fn client() -> reqwest::Client {
    // No proxy: the server is on loopback, whatever the environment says.
    reqwest::Client::builder().no_proxy().build().expect("reqwest client")
}

/// One SSE block: its fields, in the order they came.
#[derive(Debug, Default, Clone)]
struct Frame {
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
    retry: Option<String>,
    comments: Vec<String>,
}

/// Reads SSE blocks from a streaming response.
struct Reader {
    response: reqwest::Response,
    buffer: String,
    ended: bool,
}

#[derive(Debug)]
struct DemoEvent {
    id: u64,
    kind: String,
    data: Value,
}

impl Reader {
    async fn connect(url: &str, last_event_id: Option<&str>) -> Reader {
        let mut request = client().get(url);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = timeout(SOON, request.send())
            .await
            .expect("connect in time")
            .expect("connect");
        assert_eq!(response.status(), 200);
        Reader {
            response,
            buffer: String::new(),
            ended: false,
        }
    }

    /// The next complete line (without its line end), or None at end of body.
    async fn line(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buffer.find('\n') {
                let mut line: String = self.buffer.drain(..=end).collect();
                line.pop();
                if line.ends_with('\r') {
                    line.pop();
                }
                return Some(line);
            }
            if self.ended {
                return None;
            }
            match self.response.chunk().await.expect("read body") {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).expect("UTF-8 body")),
                None => self.ended = true,
            }
        }
    }

    /// The next block (fields up to a blank line), or None at end of body.
    async fn frame(&mut self) -> Option<Frame> {
        let mut frame = Frame::default();
        let mut any = false;
        loop {
            let line = self.line().await?;
            if line.is_empty() {
                if any {
                    return Some(frame);
                }
                continue;
            }
            any = true;
            let (name, value) = line.split_once(':').unwrap_or((line.as_str(), ""));
            let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
            match name {
                "" => frame.comments.push(value),
                "id" => frame.id = Some(value),
                "event" => frame.event = Some(value),
                "data" => {
                    assert!(frame.data.is_none(), "demo data is one line");
                    frame.data = Some(value);
                }
                "retry" => frame.retry = Some(value),
                other => panic!("unexpected field {other:?}"),
            }
        }
    }

    /// The next event (skipping comment-only blocks), or None at end of body.
    async fn event(&mut self) -> Option<DemoEvent> {
        loop {
            let frame = self.frame().await?;
            if let Some(data) = frame.data {
                let id = frame.id.expect("every event has an id");
                return Some(DemoEvent {
                    id: id.parse().expect("numeric id"),
                    kind: frame.event.expect("every event has a type"),
                    data: serde_json::from_str(&data).expect("JSON data"),
                });
            }
        }
    }

    /// The next event within `SOON`; panics on end of body.
    async fn next_event(&mut self) -> DemoEvent {
        timeout(SOON, self.event())
            .await
            .expect("an event in time")
            .expect("stream still open")
    }
}

fn check_event(event: &DemoEvent) {
    assert!(["build", "deploy", "alert"].contains(&event.kind.as_str()), "{event:?}");
    for field in ["title", "message", "link", "severity", "at"] {
        let value = event.data[field].as_str();
        assert!(value.is_some_and(|v| !v.is_empty()), "{field} in {event:?}");
    }
    assert!(
        event.data["link"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://example.com/"))
    );
    assert!(["info", "warning", "critical"].contains(&event.data["severity"].as_str().unwrap_or("")));
    humantime::parse_rfc3339(event.data["at"].as_str().unwrap_or("")).expect("RFC 3339 time");
}

#[tokio::test]
async fn first_event_arrives_at_once_with_sse_headers() {
    // The default 3 s interval: a new client must not wait for the next tick.
    let server = DemoServer::start(
        0,
        DemoOptions {
            seed: 1,
            ..DemoOptions::default()
        },
    )
    .await
    .expect("start");
    assert_eq!(server.url(), format!("http://{}/events", server.addr()));
    assert!(server.addr().ip().is_loopback());

    let mut first = Reader::connect(&server.url(), None).await;
    let headers = first.response.headers();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-store");

    let opening = timeout(SOON, first.frame())
        .await
        .expect("opening in time")
        .expect("opening block");
    assert_eq!(opening.retry.as_deref(), Some("2000"));
    assert!(!opening.comments.is_empty(), "{opening:?}");
    assert!(opening.data.is_none());

    let event = timeout(Duration::from_millis(1500), first.event())
        .await
        .expect("first event within about a second")
        .expect("stream open");
    check_event(&event);

    // A later visitor still gets something at once (the most recent event), long before the next tick.
    let mut second = Reader::connect(&server.url(), None).await;
    let event = timeout(Duration::from_millis(1500), second.event())
        .await
        .expect("first event within about a second")
        .expect("stream open");
    check_event(&event);

    timeout(SOON, server.shutdown()).await.expect("shutdown");
}

#[tokio::test]
async fn events_have_increasing_ids_and_json_data() {
    let server = DemoServer::start(0, options(20, 1000)).await.expect("start");
    let mut reader = Reader::connect(&server.url(), None).await;
    let mut previous: Option<u64> = None;
    let mut kinds = std::collections::HashSet::new();
    for _ in 0..40 {
        let event = reader.next_event().await;
        check_event(&event);
        if let Some(previous) = previous {
            assert_eq!(event.id, previous + 1, "consecutive ids");
        }
        previous = Some(event.id);
        kinds.insert(event.kind);
    }
    assert!(kinds.len() >= 2, "a mix of event types: {kinds:?}");
    timeout(SOON, server.shutdown()).await.expect("shutdown");
}

#[tokio::test]
async fn all_clients_see_the_same_live_events() {
    let server = DemoServer::start(0, options(30, 1000)).await.expect("start");
    let mut a = Reader::connect(&server.url(), None).await;
    let mut b = Reader::connect(&server.url(), None).await;
    let mut a_events = Vec::new();
    let mut b_events = Vec::new();
    for _ in 0..8 {
        let e = a.next_event().await;
        a_events.push((e.id, e.data));
        let e = b.next_event().await;
        b_events.push((e.id, e.data));
    }
    // Both may start from a different most-recent event; from the common id on, they agree.
    let start = a_events[0].0.max(b_events[0].0);
    let a_tail: Vec<_> = a_events.iter().filter(|(id, _)| *id >= start).collect();
    let b_tail: Vec<_> = b_events.iter().filter(|(id, _)| *id >= start).collect();
    let common = a_tail.len().min(b_tail.len());
    assert!(common >= 6);
    assert_eq!(a_tail[..common], b_tail[..common]);
    timeout(SOON, server.shutdown()).await.expect("shutdown");
}

#[tokio::test]
async fn reconnect_with_last_event_id_resumes_without_gap_or_repeat() {
    let server = DemoServer::start(0, options(50, 1000)).await.expect("start");
    let url = server.url();

    let mut first = Reader::connect(&url, None).await;
    let e1 = first.next_event().await;
    let e2 = first.next_event().await;
    assert_eq!(e2.id, e1.id + 1);
    drop(first);

    // Let events pile up while disconnected, watching with another client so no fixed sleep is needed.
    let mut watcher = Reader::connect(&url, None).await;
    let missed_until = loop {
        let e = watcher.next_event().await;
        if e.id >= e2.id + 6 {
            break e.id;
        }
    };

    let mut resumed = Reader::connect(&url, Some(&e2.id.to_string())).await;
    let mut expected = e2.id + 1;
    // Through the replayed events and well into live ones.
    while expected <= missed_until + 8 {
        let e = resumed.next_event().await;
        check_event(&e);
        assert_eq!(e.id, expected, "no gap, no repeat");
        expected += 1;
    }
    timeout(SOON, server.shutdown()).await.expect("shutdown");
}

#[tokio::test]
async fn unknown_or_bad_last_event_id_replays_everything_kept() {
    let history = 10;
    let server = DemoServer::start(0, options(100, history)).await.expect("start");
    let url = server.url();

    let mut watcher = Reader::connect(&url, None).await;
    let first = watcher.next_event().await.id;
    let seen = loop {
        let e = watcher.next_event().await;
        if e.id >= first + history as u64 + 2 {
            break e.id;
        }
    };

    for last_event_id in ["not-a-number", "99999999999999999999999", "18446744073709551615"] {
        let mut reader = Reader::connect(&url, Some(last_event_id)).await;
        let replay_start = reader.next_event().await.id;
        // The oldest kept event: older than what the watcher had already seen, so it came from history.
        assert!(replay_start <= seen, "{last_event_id}: {replay_start} > {seen}");
        let mut expected = replay_start + 1;
        while expected <= seen + 2 {
            assert_eq!(reader.next_event().await.id, expected, "{last_event_id}");
            expected += 1;
        }
    }
    timeout(SOON, server.shutdown()).await.expect("shutdown");
}

#[tokio::test]
async fn shutdown_ends_open_streams() {
    let server = DemoServer::start(0, options(50, 1000)).await.expect("start");
    let url = server.url();
    let mut reader = Reader::connect(&url, None).await;
    reader.next_event().await;

    let drain = async {
        // Events may still arrive; then the body must end.
        while reader.event().await.is_some() {}
    };
    let (shutdown, drained) = tokio::join!(timeout(SOON, server.shutdown()), timeout(SOON, drain));
    shutdown.expect("shutdown returns");
    drained.expect("the open stream ends");

    let after = timeout(SOON, client().get(&url).send()).await.expect("answer in time");
    assert!(after.is_err(), "nothing listens after shutdown");
}

#[tokio::test]
async fn index_page_and_404() {
    let server = DemoServer::start(0, options(1000, 10)).await.expect("start");
    let base = format!("http://{}", server.addr());

    let index = timeout(SOON, client().get(format!("{base}/")).send())
        .await
        .expect("in time")
        .expect("GET /");
    assert_eq!(index.status(), 200);
    assert!(
        index.headers()["content-type"]
            .to_str()
            .expect("text")
            .starts_with("text/plain")
    );
    let text = index.text().await.expect("body");
    assert!(text.contains(&server.url()), "{text}");

    let missing = timeout(SOON, client().get(format!("{base}/nope")).send())
        .await
        .expect("in time")
        .expect("GET /nope");
    assert_eq!(missing.status(), 404);

    timeout(SOON, server.shutdown()).await.expect("shutdown");
}

#[tokio::test]
async fn taken_port_names_the_port_and_suggests_the_flag() {
    let server = DemoServer::start(0, options(1000, 10)).await.expect("start");
    let port = server.addr().port();
    let error = DemoServer::start(port, options(1000, 10))
        .await
        .expect_err("port is taken");
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    let message = error.to_string();
    assert!(message.contains(&port.to_string()), "{message}");
    assert!(message.contains("--port"), "{message}");
    timeout(SOON, server.shutdown()).await.expect("shutdown");
}

#[test]
fn default_options() {
    let options = DemoOptions::default();
    assert_eq!(options.interval, Duration::from_secs(3));
    assert_eq!(options.history, 1000);
}
