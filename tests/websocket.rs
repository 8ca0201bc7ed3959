//! WebSocket channels against a real WebSocket server on 127.0.0.1: subscribe messages, resuming with a
//! cursor in the URL, abrupt drops, a server that stops answering pings, close codes, binary frames,
//! wait-then-send handshakes, and refused handshakes.

mod support;

use std::time::Duration;

use support::follower::{Follower, ids};
use support::ws::{WsConn, WsServer, accept_all};
use tidings::FeedState;
use tidings::feed::{FeedSpec, SendStep};
use tidings::sse::connection::Limits;

const WAIT: Duration = Duration::from_secs(15);

fn spec(url: String) -> FeedSpec {
    FeedSpec {
        url,
        cursor_pointer: Some("/id".into()),
        ..FeedSpec::default()
    }
}

fn send(text: &str) -> SendStep {
    SendStep {
        after: None,
        text: text.into(),
    }
}

#[tokio::test]
async fn a_channel_that_needs_a_subscribe_message_gets_it_first() {
    let server = WsServer::start(accept_all, |mut conn: WsConn| async move {
        let subscribe = conn.recv_text().await.unwrap_or_default();
        if subscribe != r#"{"subscribe":"alerts"}"# {
            return conn.close(1008, "subscribe first").await;
        }
        conn.send_text(r#"{"id":"a1","title":"disk full"}"#).await;
        conn.send_text(r#"{"id":"a2","title":"disk ok"}"#).await;
        conn.hold().await;
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    let mut feed = spec(server.url("/ws"));
    feed.send = vec![send(r#"{"subscribe":"alerts"}"#)];
    follower.add_spec(feed).await;
    let stored = follower.wait_stored(2).await;
    assert_eq!(ids(&stored), ["a1", "a2"]);
    assert_eq!(follower.wait_state("live").await.label(), "live");
    follower.stop().await;
}

#[tokio::test]
async fn resumes_with_the_cursor_in_the_url_and_stores_replays_once() {
    let server = WsServer::start(accept_all, |mut conn: WsConn| async move {
        match conn.index {
            0 => {
                assert!(conn.upgrade.path.ends_with("since="), "{}", conn.upgrade.path);
                conn.send_text(r#"{"id":"m1"}"#).await;
                conn.send_text(r#"{"id":"m2"}"#).await;
                conn.close(1000, "bye").await;
            }
            _ => {
                // A server that replays the last message it was asked to resume after.
                conn.send_text(r#"{"id":"m2"}"#).await;
                conn.send_text(r#"{"id":"m3"}"#).await;
                conn.hold().await;
            }
        }
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    follower.add_spec(spec(server.url("/ws?since={{cursor}}"))).await;
    let stored = follower.wait_stored(3).await;
    assert_eq!(ids(&stored), ["m1", "m2", "m3"]);
    let upgrades = server.upgrades();
    assert_eq!(upgrades[1].path, "/ws?since=m2");
    follower.stop().await;
}

#[tokio::test]
async fn an_abrupt_drop_is_retried_and_resumes() {
    let server = WsServer::start(accept_all, |mut conn: WsConn| async move {
        if conn.index == 0 {
            conn.send_text(r#"{"id":"1"}"#).await;
            // Let the client read the message before the connection vanishes.
            tokio::time::sleep(Duration::from_millis(200)).await;
            conn.drop_abruptly();
        } else {
            let resume = conn.recv_text().await.unwrap_or_default();
            conn.send_text(format!(r#"{{"id":"2","resumed_after":"{resume}"}}"#))
                .await;
            conn.hold().await;
        }
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    let mut feed = spec(server.url("/ws"));
    feed.send = vec![send("resume {{cursor}}")];
    follower.add_spec(feed).await;
    let state = follower.wait_state("retrying").await;
    assert!(
        state.describe(0).contains("1006") || state.describe(0).contains("broke"),
        "{state:?}"
    );
    let stored = follower.wait_stored(2).await;
    assert_eq!(ids(&stored), ["1", "2"]);
    assert!(stored[1].1.contains(r#""resumed_after":"resume 1""#), "{}", stored[1].1);
    follower.stop().await;
}

#[tokio::test]
async fn a_server_that_stops_answering_pings_is_replaced() {
    let server = WsServer::start(accept_all, |mut conn: WsConn| async move {
        conn.send_text(format!(r#"{{"id":"{}"}}"#, conn.index + 1)).await;
        if conn.index == 0 {
            conn.ignore_everything().await;
        } else {
            conn.hold().await;
        }
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    let mut feed = spec(server.url("/ws"));
    feed.ping_interval = Some(Duration::from_secs(1));
    feed.stall_timeout = Some(Duration::from_secs(2));
    follower.add_spec(feed).await;
    server.wait_upgrades(2, WAIT).await;
    assert_eq!(ids(&follower.wait_stored(2).await), ["1", "2"]);
    follower.stop().await;
}

#[tokio::test]
async fn a_healthy_idle_channel_answers_pings_and_stays_up() {
    let server = WsServer::start(accept_all, |mut conn: WsConn| async move {
        conn.send_text(r#"{"id":"only"}"#).await;
        conn.hold().await;
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    let mut feed = spec(server.url("/ws"));
    feed.ping_interval = Some(Duration::from_secs(1));
    feed.stall_timeout = Some(Duration::from_secs(2));
    follower.add_spec(feed).await;
    follower.wait_stored(1).await;
    // Several stall timeouts pass with no message: the pongs keep the connection alive.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(server.upgrades().len(), 1, "no reconnect while pongs arrive");
    follower.stop().await;
}

#[tokio::test]
async fn policy_closes_fail_the_feed_with_code_and_reason() {
    for code in [1008u16, 4001] {
        let server = WsServer::start(accept_all, move |conn: WsConn| conn.close(code, "token revoked")).await;
        let follower = Follower::start(Limits::default()).await;
        follower.add_spec(spec(server.url("/ws"))).await;
        let FeedState::Failed { reason } = follower.wait_state("failed").await else {
            unreachable!()
        };
        assert!(reason.contains(&format!("({code}: token revoked)")), "{reason}");
        follower.stop().await;
    }
}

#[tokio::test]
async fn server_restarts_and_overload_closes_are_retried() {
    for code in [1011u16, 1012, 1013] {
        let server = WsServer::start(accept_all, move |mut conn: WsConn| async move {
            if conn.index == 0 {
                conn.close(code, "try later").await
            } else {
                conn.send_text(r#"{"id":"back"}"#).await;
                conn.hold().await
            }
        })
        .await;
        let follower = Follower::start(Limits::default()).await;
        follower.add_spec(spec(server.url("/ws"))).await;
        assert_eq!(ids(&follower.wait_stored(1).await), ["back"], "close code {code}");
        follower.stop().await;
    }
}

#[tokio::test]
async fn binary_frames_are_stored_as_base64() {
    let server = WsServer::start(accept_all, |mut conn: WsConn| async move {
        conn.send_binary(vec![0, 159, 146, 150]).await;
        conn.hold().await;
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    follower.add(&server.url("/ws"), None).await;
    let stored = follower.wait_stored(1).await;
    assert_eq!(stored[0].1, "AJ+Slg==");
    let events = follower.engine.store().events(&Default::default()).unwrap();
    assert_eq!(events[0].event_type, "binary");
    follower.stop().await;
}

#[tokio::test]
async fn a_message_can_wait_for_the_server_to_ask_for_it() {
    let server = WsServer::start(accept_all, |mut conn: WsConn| async move {
        conn.send_text(r#"{"type":"auth_required"}"#).await;
        let auth = conn.recv_text().await.unwrap_or_default();
        if auth != r#"{"type":"auth","access_token":"t"}"# {
            return conn.close(1008, "auth first").await;
        }
        conn.send_text(r#"{"type":"auth_ok"}"#).await;
        let subscribe = conn.recv_text().await.unwrap_or_default();
        if !subscribe.contains("subscribe_events") {
            return conn.close(1008, "subscribe").await;
        }
        conn.send_text(r#"{"id":"e1","type":"event"}"#).await;
        conn.hold().await;
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    let mut feed = spec(server.url("/api/websocket"));
    feed.send = vec![
        SendStep {
            after: Some("auth_required".into()),
            text: r#"{"type":"auth","access_token":"t"}"#.into(),
        },
        SendStep {
            after: Some("auth_ok".into()),
            text: r#"{"id":1,"type":"subscribe_events"}"#.into(),
        },
    ];
    follower.add_spec(feed).await;
    let stored = follower.wait_stored(1).await;
    assert_eq!(ids(&stored), ["e1"], "handshake frames are not events");
    follower.stop().await;
}

#[tokio::test]
async fn refused_handshakes_fail_or_retry_by_status() {
    for (status, expect) in [(401u16, "failed"), (403, "failed"), (404, "failed"), (503, "retrying")] {
        let refuse: fn(usize) -> Option<u16> = match status {
            401 => |_| Some(401),
            403 => |_| Some(403),
            404 => |_| Some(404),
            _ => |_| Some(503),
        };
        let server = WsServer::start(refuse, |conn: WsConn| conn.hold()).await;
        let follower = Follower::start(Limits::default()).await;
        follower.add(&server.url("/ws"), None).await;
        let state = follower.wait_state(expect).await;
        assert!(
            state.describe(0).contains(&format!("HTTP {status}")),
            "{status}: {state:?}"
        );
        follower.stop().await;
    }
}
