//! Each row of the HTTP policy against a real server on 127.0.0.1: what a response means for a feed.

mod support;

use std::time::Duration;

use support::server::{Conn, Server};
use tidings::feed::{FeedConfig, FeedSpec};
use tidings::source::{Connection, Dispatch, Failure};
use tidings::sse::connection::{Limits, http_client};

fn config(url: &str, headers: &[&str]) -> FeedConfig {
    FeedSpec {
        url: url.into(),
        name: Some("policy".into()),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        ..FeedSpec::default()
    }
    .validate()
    .unwrap()
}

async fn open(url: &str, headers: &[&str]) -> Result<Connection, Failure> {
    Connection::open(&http_client().unwrap(), &config(url, headers), "", &Limits::default()).await
}

/// A server that answers every request with `status`, `headers` and a short body.
async fn answering(status: u16, headers: &'static [(&'static str, &'static str)]) -> Server {
    Server::start(move |conn: Conn| conn.respond(status, headers, "<html>hello</html>")).await
}

#[tokio::test]
async fn each_status_means_what_the_policy_says() {
    enum Expect {
        Retry,
        Fatal(&'static str),
        Stopped,
    }
    type Row = (u16, &'static [(&'static str, &'static str)], Expect);
    let rows: &[Row] = &[
        (
            200,
            &[("Content-Type", "text/html; charset=utf-8")],
            Expect::Fatal("text/html, not an event stream"),
        ),
        (200, &[], Expect::Fatal("without a Content-Type")),
        (204, &[], Expect::Stopped),
        (401, &[], Expect::Fatal("refused access (HTTP 401 Unauthorized)")),
        (403, &[], Expect::Fatal("refused access (HTTP 403 Forbidden)")),
        (404, &[], Expect::Fatal("no feed at this URL (HTTP 404 Not Found)")),
        (410, &[], Expect::Fatal("no feed at this URL (HTTP 410 Gone)")),
        (418, &[], Expect::Fatal("HTTP 418")),
        (408, &[], Expect::Retry),
        (429, &[], Expect::Retry),
        (500, &[], Expect::Retry),
        (502, &[], Expect::Retry),
        (503, &[], Expect::Retry),
    ];
    for (status, headers, expect) in rows {
        let server = answering(*status, headers).await;
        let got = open(&server.url("/events"), &[]).await.err();
        match (expect, &got) {
            (Expect::Retry, Some(Failure::Retry { message, .. })) => {
                assert!(message.contains(&format!("HTTP {status}")), "{status}: {message}")
            }
            (Expect::Fatal(text), Some(Failure::Fatal { message })) => {
                assert!(message.contains(text), "{status}: `{message}` should say `{text}`")
            }
            (Expect::Stopped, Some(Failure::Stopped { message })) => {
                assert!(message.contains("ended the feed"), "{message}")
            }
            _ => panic!("HTTP {status} {headers:?}: unexpected outcome {got:?}"),
        }
    }
}

#[tokio::test]
async fn an_event_stream_with_parameters_is_live() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.head(200, &[("Content-Type", "Text/Event-Stream; charset=UTF-8")])
            .await;
        conn.send("data: hello\n\n").await;
        conn.hold().await;
    })
    .await;
    let mut connection = open(&server.url("/events"), &[]).await.expect("live");
    let items = connection.next().await.unwrap().unwrap();
    assert!(
        matches!(&items[..], [Dispatch::Event(e)] if e.data == "hello"),
        "{items:?}"
    );
    let request = &server.requests()[0];
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert_eq!(request.header("last-event-id"), None, "no id yet, so no Last-Event-ID");
}

#[tokio::test]
async fn retry_after_is_passed_on() {
    let server = answering(503, &[("Retry-After", "7")]).await;
    match open(&server.url("/"), &[]).await.err() {
        Some(Failure::Retry { retry_after, .. }) => assert_eq!(retry_after, Some(Duration::from_secs(7))),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_refused_connection_is_retried_and_says_why() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    match open(&format!("http://127.0.0.1:{port}/events"), &[]).await.err() {
        Some(Failure::Retry { message, .. }) => assert!(message.contains("cannot connect"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn every_redirect_status_is_followed_relative_or_absolute() {
    for status in [301u16, 302, 303, 307, 308] {
        let server = Server::start(move |mut conn: Conn| async move {
            match conn.request.path.as_str() {
                "/start" => conn.respond(status, &[("Location", "/middle")], "").await,
                "/middle" => {
                    let absolute = format!("http://{}/events", conn.request.header("host").unwrap_or(""));
                    conn.respond(status, &[("Location", &absolute)], "").await
                }
                _ => {
                    conn.sse().await;
                    conn.send("data: arrived\n\n").await;
                    conn.hold().await
                }
            }
        })
        .await;
        let mut connection = open(&server.url("/start"), &["Authorization: Bearer t"])
            .await
            .expect("followed");
        let items = connection.next().await.unwrap().unwrap();
        assert_eq!(items.len(), 1, "HTTP {status}");
        let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
        assert_eq!(paths, ["/start", "/middle", "/events"], "HTTP {status}");
        let last = server.requests().pop().unwrap();
        assert_eq!(
            last.header("authorization"),
            Some("Bearer t"),
            "same origin keeps credentials"
        );
    }
}

#[tokio::test]
async fn too_many_redirects_fail() {
    let server = Server::start(|conn: Conn| async move {
        let next = format!("/hop{}", conn.index + 1);
        conn.respond(302, &[("Location", &next)], "").await
    })
    .await;
    match open(&server.url("/hop0"), &[]).await.err() {
        Some(Failure::Fatal { message }) => assert!(message.contains("more than 10"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 11, "the original request and 10 redirects");
}

#[tokio::test]
async fn credentials_are_dropped_when_a_redirect_changes_origin() {
    let other = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.hold().await
    })
    .await;
    let target = other.url("/events");
    let first = Server::start(move |conn: Conn| {
        let target = target.clone();
        async move { conn.respond(307, &[("Location", &target)], "").await }
    })
    .await;
    let headers = [
        "Authorization: Bearer secret",
        "Cookie: session=1",
        "X-Signature: marked",
        "X-Trace: kept",
    ];
    let mut config = config(&first.url("/events"), &headers);
    config.secret_headers = vec!["x-signature".into()];
    Connection::open(&http_client().unwrap(), &config, "", &Limits::default())
        .await
        .expect("followed");
    let at_first = &first.requests()[0];
    assert_eq!(at_first.header("authorization"), Some("Bearer secret"));
    let at_other = &other.requests()[0];
    assert_eq!(
        at_other.header("authorization"),
        None,
        "Authorization must not reach another origin"
    );
    assert_eq!(at_other.header("cookie"), None, "Cookie must not reach another origin");
    assert_eq!(at_first.header("x-signature"), Some("marked"));
    assert_eq!(
        at_other.header("x-signature"),
        None,
        "a header marked --secret-header must not reach another origin"
    );
    assert_eq!(at_other.header("x-trace"), Some("kept"));
}
