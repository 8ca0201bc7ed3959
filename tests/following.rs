//! Following feeds through the engine against real servers on 127.0.0.1: resuming with Last-Event-ID after
//! every kind of drop, storing each event exactly once, stalls, oversized lines, and feeds that stop or fail.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use support::follower::{Follower, ids};
use support::server::{Conn, Server};
use support::wait_until;
use tidings::feed::FeedSpec;
use tidings::sse::connection::Limits;
use tidings::{Engine, FeedState, FollowOptions};

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn resumes_after_a_clean_close_with_last_event_id() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        match conn.index {
            0 => {
                conn.send("retry: 50\nid: 1\ndata: one\n\nid: 2\ndata: two\n\n").await;
                conn.close().await;
            }
            _ => {
                assert_eq!(conn.request.header("last-event-id"), Some("2"));
                conn.send("id: 3\ndata: three\n\n").await;
                conn.hold().await;
            }
        }
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    follower.add(&server.url("/events"), None).await;
    let stored = follower.wait_stored(3).await;
    assert_eq!(ids(&stored), ["1", "2", "3"]);
    let requests = server.requests();
    assert_eq!(requests[1].header("last-event-id"), Some("2"));
    follower.stop().await;
}

#[tokio::test]
async fn resumes_after_a_reset_in_the_middle_of_an_event_without_its_id() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        match conn.index {
            0 => {
                conn.send("retry: 50\nid: 1\ndata: one\n\nid: 2\ndata: tw").await;
                // Give the client time to read what was sent before the reset discards it.
                tokio::time::sleep(Duration::from_millis(200)).await;
                conn.reset();
            }
            _ => {
                conn.send("id: 2\ndata: two\n\nid: 3\ndata: three\n\n").await;
                conn.hold().await;
            }
        }
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    follower.add(&server.url("/events"), None).await;
    let stored = follower.wait_stored(3).await;
    assert_eq!(ids(&stored), ["1", "2", "3"]);
    assert_eq!(
        stored[1].1, "two",
        "the half-sent event is discarded, the resent one kept"
    );
    assert_eq!(
        server.requests()[1].header("last-event-id"),
        Some("1"),
        "the id of an incomplete event is never sent"
    );
    follower.stop().await;
}

#[tokio::test]
async fn a_server_that_replays_everything_does_not_create_duplicates() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        // This server ignores Last-Event-ID and sends its whole history on every connection.
        let mut history = String::from("retry: 50\n");
        for id in 1..=conn.index + 2 {
            history.push_str(&format!("id: {id}\ndata: event {id}\n\n"));
        }
        conn.send(history).await;
        if conn.index < 2 {
            conn.close().await;
        } else {
            conn.hold().await;
        }
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    follower.add(&server.url("/events"), None).await;
    server.wait_requests(3, WAIT).await;
    let stored = follower.wait_stored(4).await;
    assert_eq!(ids(&stored), ["1", "2", "3", "4"]);
    follower.stop().await;
}

#[tokio::test]
async fn events_without_ids_repeat_within_a_connection_but_not_across_a_replay() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send("retry: 50\ndata: ping\n\ndata: ping\n\ndata: other\n\n")
            .await;
        if conn.index == 0 {
            conn.close().await;
        } else {
            conn.hold().await;
        }
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    follower.add(&server.url("/events"), None).await;
    server.wait_requests(2, WAIT).await;
    // The second connection replays the same three events: none of them is new.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let data: Vec<String> = follower.stored().into_iter().map(|(_, d)| d).collect();
    assert_eq!(data, ["ping", "ping", "other"]);
    follower.stop().await;
}

#[tokio::test]
async fn a_stalled_connection_is_replaced() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        let id = conn.index + 1;
        conn.send(format!("id: {id}\ndata: event {id}\n\n")).await;
        conn.hold().await;
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    follower.add(&server.url("/events"), Some(Duration::from_secs(1))).await;
    let requests = server.wait_requests(2, WAIT).await;
    assert_eq!(requests[1].header("last-event-id"), Some("1"));
    follower.wait_stored(2).await;
    follower.stop().await;
}

#[tokio::test]
async fn an_oversized_line_drops_the_connection_and_the_feed_goes_on() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        if conn.index == 0 {
            conn.send("id: 1\ndata: small\n\n").await;
            let chunk = "x".repeat(64 * 1024);
            conn.send("data: ").await;
            for _ in 0..64 {
                conn.send(&chunk).await;
            }
            conn.hold().await;
        } else {
            conn.send("id: 2\ndata: after\n\n").await;
            conn.hold().await;
        }
    })
    .await;
    let limits = Limits {
        max_event_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let follower = Follower::start(limits).await;
    follower.add(&server.url("/events"), None).await;
    let state = follower.wait_state("retrying").await;
    let FeedState::Retrying { last_error, .. } = state else {
        unreachable!()
    };
    assert!(last_error.contains("longer than 1048576 bytes"), "{last_error}");
    let stored = follower.wait_stored(2).await;
    assert_eq!(ids(&stored), ["1", "2"]);
    assert_eq!(server.requests()[1].header("last-event-id"), Some("1"));
    follower.stop().await;
}

#[tokio::test]
async fn a_204_stops_the_feed_until_it_is_resumed() {
    let server = Server::start(|mut conn: Conn| async move {
        if conn.index == 0 {
            conn.respond(204, &[], "").await
        } else {
            conn.sse().await;
            conn.send("id: 1\ndata: back\n\n").await;
            conn.hold().await
        }
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    follower.add(&server.url("/events"), None).await;
    let state = follower.wait_state("stopped").await;
    assert!(
        state.describe(0).contains("ended the feed (HTTP 204 No Content)"),
        "{state:?}"
    );
    // Longer than the first retry would wait: a stopped feed is not retried.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(server.requests().len(), 1);
    follower.engine.resume_feed("feed").await.unwrap();
    assert_eq!(ids(&follower.wait_stored(1).await), ["1"]);
    follower.stop().await;
}

#[tokio::test]
async fn a_feed_that_fails_stays_failed_across_a_restart() {
    let server = Server::start(|conn: Conn| conn.respond(404, &[], "not here")).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    let options = || FollowOptions {
        notifications: false,
        ..FollowOptions::default()
    };
    engine
        .add_feed(FeedSpec {
            url: server.url("/events"),
            ..FeedSpec::default()
        })
        .await
        .unwrap();
    let following = engine.follow(options()).await.unwrap();
    wait_until(WAIT, "the feed to fail", || {
        let feeds = engine.store().feed_statuses(true).unwrap();
        (feeds[0].state.label() == "failed").then_some(())
    })
    .await;
    following.shutdown().await;
    let following = engine.follow(options()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.requests().len(), 1, "a failed feed waits for the user");
    let feeds = engine.feeds().await.unwrap();
    assert!(feeds[0].state.describe(0).contains("HTTP 404"), "{:?}", feeds[0].state);
    following.shutdown().await;
}

#[tokio::test]
async fn feeds_edited_by_another_process_are_picked_up() {
    let closed = Arc::new(AtomicBool::new(false));
    let seen_close = closed.clone();
    let server = Server::start(move |mut conn: Conn| {
        let closed = seen_close.clone();
        async move {
            conn.sse().await;
            conn.send("id: 1\ndata: hi\n\n").await;
            conn.hold().await;
            closed.store(true, Ordering::SeqCst);
        }
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    // Another handle on the same directory stands for the CLI running beside the app.
    let other = Engine::open(follower.engine.data_dir()).unwrap();
    other
        .add_feed(FeedSpec {
            url: server.url("/events"),
            name: Some("added-elsewhere".into()),
            ..FeedSpec::default()
        })
        .await
        .unwrap();
    follower.wait_stored(1).await;
    other.pause_feed("added-elsewhere").await.unwrap();
    wait_until(WAIT, "the paused feed's connection to close", || {
        closed.load(Ordering::SeqCst).then_some(())
    })
    .await;
    follower.stop().await;
}

#[tokio::test]
async fn only_one_process_follows_a_directory() {
    let follower = Follower::start(Limits::default()).await;
    let other = Engine::open(follower.engine.data_dir()).unwrap();
    let refused = other.follow(FollowOptions::default()).await.err().expect("refused");
    assert!(refused.to_string().contains("already following"), "{refused}");
    follower.stop().await;
}

#[tokio::test]
async fn editing_a_feed_with_its_shown_headers_keeps_the_hidden_secret() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.hold().await
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    follower
        .add_spec(FeedSpec {
            url: server.url("/events"),
            headers: vec!["Authorization: Bearer s3cret".into(), "X-Team: web".into()],
            // No keyring in this test: the user chose plain text.
            plaintext_secrets: true,
            ..FeedSpec::default()
        })
        .await;
    server.wait_requests(1, Duration::from_secs(15)).await;
    let shown = follower.engine.feeds().await.unwrap().remove(0);
    assert_eq!(
        shown.headers,
        ["Authorization: <secret>", "X-Team: web"],
        "a credential is never shown"
    );
    // The UI sends back what it showed, with a new name.
    let edited = FeedSpec {
        url: shown.url.clone(),
        name: Some("renamed".into()),
        headers: shown.headers.clone(),
        ..FeedSpec::default()
    };
    follower.engine.edit_feed("feed", edited).await.unwrap();
    let requests = server.wait_requests(2, Duration::from_secs(15)).await;
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer s3cret"),
        "the saved secret is kept"
    );
    follower.stop().await;
}
