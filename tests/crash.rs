//! `kill -9` of `tidings run` in the middle of a stream, then a restart: every event is stored exactly once,
//! and the cursor saved at the moment of the kill is never ahead of the stored events.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::server::{Conn, Server};
use support::{tidings, tidings_output, wait_until};
use tidings::Engine;
use tidings::store::events::EventQuery;

const EVENTS: u64 = 3000;
const WAIT: Duration = Duration::from_secs(60);

/// A server that resumes after Last-Event-ID and trickles the rest of its events out.
async fn trickling_server() -> Server {
    Server::start(|mut conn: Conn| async move {
        let after: u64 = conn
            .request
            .header("last-event-id")
            .and_then(|id| id.parse().ok())
            .unwrap_or(0);
        conn.sse().await;
        let mut next = after + 1;
        while next <= EVENTS {
            let mut chunk = String::new();
            for id in next..(next + 10).min(EVENTS + 1) {
                chunk.push_str(&format!("id: {id}\nevent: tick\ndata: {{\"n\": {id}}}\n\n"));
            }
            next += 10;
            conn.send(chunk).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        conn.hold().await;
    })
    .await
}

fn stored_ids(engine: &Engine) -> Vec<u64> {
    let query = EventQuery {
        limit: 100_000,
        ..EventQuery::default()
    };
    let mut ids: Vec<u64> = engine
        .store()
        .events(&query)
        .unwrap()
        .iter()
        .map(|e| e.event_id.as_deref().unwrap().parse().unwrap())
        .collect();
    ids.reverse();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_resumes_without_losing_or_repeating_an_event() {
    let server = trickling_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) =
        tidings_output(dir.path(), &["feed", "add", &server.url("/events"), "--name", "ticks"]).await;
    assert_eq!(code, 0, "{stderr}");
    let engine = Engine::open(dir.path()).unwrap();

    let mut run = tidings(dir.path())
        .args(["run", "--no-notify"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(WAIT, "some events stored", || {
        (stored_ids(&engine).len() >= 500).then_some(())
    })
    .await;
    run.start_kill().unwrap(); // SIGKILL: no clean shutdown, no last commit
    run.wait().await.unwrap();
    let connections_before_restart = server.requests().len();

    let at_kill = stored_ids(&engine);
    assert!(
        (at_kill.len() as u64) < EVENTS,
        "the kill came too late to test anything"
    );
    assert_eq!(
        at_kill,
        (1..=at_kill.len() as u64).collect::<Vec<_>>(),
        "stored in order, no gap"
    );
    let feed_id = engine.store().feed("ticks").unwrap().id;
    let cursor = engine.store().cursor(feed_id).unwrap().unwrap();
    assert_eq!(
        cursor,
        at_kill.last().unwrap().to_string(),
        "the cursor is exactly the last stored event"
    );

    let mut run = tidings(dir.path())
        .args(["run", "--no-notify"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(WAIT, "every event stored", || {
        (stored_ids(&engine).len() as u64 >= EVENTS).then_some(())
    })
    .await;
    run.start_kill().unwrap();
    run.wait().await.unwrap();

    assert_eq!(
        stored_ids(&engine),
        (1..=EVENTS).collect::<Vec<_>>(),
        "each event exactly once"
    );
    let resumed = server
        .requests()
        .into_iter()
        .nth(connections_before_restart)
        .expect("a new connection");
    assert_eq!(resumed.header("last-event-id"), Some(cursor.as_str()));
}
