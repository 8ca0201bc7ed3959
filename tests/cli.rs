//! The `tidings` command line as a user sees it: what `tail` prints and how it exits, what `feed` and `events`
//! show, the messages for wrong URLs, wrong servers and a damaged database, `--help`, and where the data lives.
//! Every test runs the real binary against servers on 127.0.0.1 and a data directory of its own.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use support::server::{Conn, Server};
use support::{tidings, tidings_output};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// How long any one command may take before the test fails instead of hanging.
const WAIT: Duration = Duration::from_secs(30);
const MIB: usize = 1024 * 1024;

/// `tidings ARGS` as a user runs it (default logging, so stderr holds only what a user would read), to
/// completion within [`WAIT`]; returns (exit code, stdout, stderr).
async fn cli(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut command = tidings(dir);
    command.env_remove("RUST_LOG").args(args);
    let output = tokio::time::timeout(WAIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("`tidings {}` did not exit within {WAIT:?}", args.join(" ")))
        .expect("run tidings");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Each stdout line parsed as JSON.
fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}")))
        .collect()
}

/// The object's keys, sorted.
fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// A `tail` line: `{"id": …, "type": …, "data": …}` and nothing else.
fn tail_event(value: &Value) -> (Option<&str>, &str, &str) {
    assert_eq!(keys(value), BTreeSet::from(["id", "type", "data"]), "{value}");
    let id = match &value["id"] {
        Value::Null => None,
        Value::String(id) => Some(id.as_str()),
        other => panic!("`id` is neither a string nor null: {other}"),
    };
    (
        id,
        value["type"].as_str().expect("`type` is a string"),
        value["data"].as_str().expect("`data` is a string"),
    )
}

/// The `data` of each `tail` line.
fn printed_data(stdout: &str) -> Vec<String> {
    json_lines(stdout)
        .iter()
        .map(|line| tail_event(line).2.to_string())
        .collect()
}

type Lines = tokio::io::Lines<BufReader<tokio::process::ChildStdout>>;

/// Start `tidings ARGS` as a user runs it, stdout and stderr piped; returns the child and its stdout lines.
fn spawn_cli(dir: &Path, args: &[&str]) -> (tokio::process::Child, Lines) {
    let mut command = tidings(dir);
    command
        .env_remove("RUST_LOG")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start tidings");
    let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, stdout)
}

/// The next stdout line, within [`WAIT`].
async fn next_line(lines: &mut Lines) -> String {
    tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("tidings prints a line")
        .unwrap()
        .expect("a line before the end of stdout")
}

// ---------------------------------------------------------------------------------------------------------
// tail

#[tokio::test]
async fn tail_n_prints_that_many_json_lines_and_exits_while_the_stream_stays_open() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send("data: first\n\nid: 7\nevent: build\ndata: second\ndata: line two\n\nid: 8\ndata: third\n\n")
            .await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &server.url("/events"), "-n", "2"]).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    let lines = json_lines(&stdout);
    assert_eq!(lines.len(), 2, "exactly two lines: {stdout}");
    assert_eq!(tail_event(&lines[0]), (None, "message", "first"));
    assert_eq!(tail_event(&lines[1]), (Some("7"), "build", "second\nline two"));
}

#[tokio::test]
async fn tail_without_reconnect_exits_0_when_the_server_closes_cleanly() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        // The last event is unfinished (no blank line): the spec discards it.
        conn.send("id: 1\ndata: one\n\nid: 2\ndata: two\n\nid: 3\ndata: unfinished\n")
            .await;
        conn.close().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &server.url("/events"), "--no-reconnect"]).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(stderr, "", "nothing to complain about");
    assert_eq!(
        printed_data(&stdout),
        ["one", "two"],
        "an unfinished last event is not printed"
    );
    assert_eq!(server.requests().len(), 1, "--no-reconnect never reconnects");
}

#[tokio::test]
async fn tail_without_reconnect_exits_1_with_one_line_when_the_connection_is_reset() {
    // The server resets the connection only once tidings has printed the first event, so the test does not
    // depend on how fast anything is.
    let printed = Arc::new(Notify::new());
    let server = Server::start({
        let printed = printed.clone();
        move |mut conn: Conn| {
            let printed = printed.clone();
            async move {
                conn.sse().await;
                conn.send("id: 1\ndata: one\n\nid: 2\ndata: half of an ev").await;
                printed.notified().await;
                conn.reset();
            }
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (child, mut stdout) = spawn_cli(dir.path(), &["tail", &server.url("/events"), "--no-reconnect"]);
    let first = next_line(&mut stdout).await;
    assert_eq!(tail_event(&json_lines(&first)[0]), (Some("1"), "message", "one"));
    printed.notify_one();
    let mut rest = Vec::new();
    let output = tokio::time::timeout(WAIT, async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            rest.push(line);
        }
        child.wait_with_output().await.unwrap()
    })
    .await
    .expect("tail exits after the reset");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(rest.is_empty(), "the half-sent event is not printed: {rest:?}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr:?}");
    assert!(
        lines[0].starts_with("tidings: ") && lines[0].contains("connection"),
        "{stderr:?}"
    );
    assert_eq!(server.requests().len(), 1, "--no-reconnect never reconnects");
}

#[tokio::test]
async fn tail_without_reconnect_exits_1_when_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/events");
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &url, "--no-reconnect"]).await;
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

#[tokio::test]
async fn tail_without_reconnect_exits_1_when_the_stream_stalls() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send("id: 1\ndata: one\n\n").await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let url = server.url("/events");
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &url, "--no-reconnect", "--stall-timeout", "1s"]).await;
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(tail_event(&json_lines(&stdout)[0]), (Some("1"), "message", "one"));
    assert!(stderr.contains("nothing arrived for 1 s"), "{stderr}");
}

#[tokio::test]
async fn tail_sends_the_last_event_id_and_the_headers_given() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send("id: 42\ndata: next\n\n").await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let url = server.url("/events");
    let args = ["tail", &url, "--last-event-id", "41", "-H", "X-Token: abc", "-n", "1"];
    let (code, stdout, stderr) = cli(dir.path(), &args).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(tail_event(&json_lines(&stdout)[0]), (Some("42"), "message", "next"));
    let request = &server.requests()[0];
    assert_eq!(request.header("last-event-id"), Some("41"));
    assert_eq!(request.header("x-token"), Some("abc"));
}

#[tokio::test]
async fn tail_of_an_event_without_an_id_after_a_given_last_event_id_keeps_that_id() {
    // The README: `id` is the *last event id*, which persists; a given --last-event-id is where it starts.
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send("data: no id of its own\n\n").await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let url = server.url("/events");
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &url, "--last-event-id", "41", "-n", "1"]).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(
        tail_event(&json_lines(&stdout)[0]),
        (Some("41"), "message", "no id of its own")
    );
}

#[tokio::test]
async fn tail_of_a_web_page_fails_saying_it_is_not_an_event_stream() {
    let server = Server::start(|conn: Conn| async move {
        conn.respond(
            200,
            &[("Content-Type", "text/html; charset=utf-8")],
            "<html>hello</html>",
        )
        .await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &server.url("/")]).await;
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("not an event stream"), "{stderr}");
    assert!(stderr.contains("text/html"), "says what the server answered: {stderr}");
    assert!(stderr.contains("check that the URL"), "{stderr}");
    assert_eq!(server.requests().len(), 1, "a web page is not retried");
}

#[tokio::test]
async fn tail_of_a_missing_page_fails_saying_to_check_the_url() {
    let server = Server::start(|conn: Conn| async move {
        conn.respond(404, &[("Content-Type", "text/plain")], "not found").await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &server.url("/nothing-here")]).await;
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("404"), "{stderr}");
    assert!(stderr.contains("check the URL"), "{stderr}");
    assert_eq!(server.requests().len(), 1, "a 404 is not retried");
}

#[tokio::test]
async fn tail_of_a_url_without_scheme_fails_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["tail", "example.com"]).await;
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("no scheme"), "{stderr}");
    assert!(stderr.contains("example.com"), "names the URL: {stderr}");
}

#[tokio::test]
async fn unknown_flags_and_missing_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["tail", "--bogus", "http://127.0.0.1:9/events"][..],
        &["tail"],
        &["feed", "list", "--bogus"],
        &["events", "--limit", "many"],
        &["nonsense"],
    ] {
        let (code, stdout, stderr) = cli(dir.path(), args).await;
        assert_eq!(code, 2, "`tidings {}`: stderr {stderr}", args.join(" "));
        assert_eq!(stdout, "", "`tidings {}`", args.join(" "));
        assert!(!stderr.is_empty(), "`tidings {}` says what is wrong", args.join(" "));
    }
}

/// A server for one connection: an event stream that starts with `start`, then 100 MiB made of `chunk` (64 KiB
/// at a time) until a write fails because the client went away. The task returns how many of those bytes it
/// wrote.
async fn serve_100_mib(start: &'static str, chunk: Vec<u8>) -> (String, tokio::task::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
                _ => return 0,
            }
        }
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
        if stream.write_all(format!("{head}{start}").as_bytes()).await.is_err() {
            return 0;
        }
        let mut written = 0;
        while written < 100 * MIB {
            if stream.write_all(&chunk).await.is_err() {
                break;
            }
            written += chunk.len();
        }
        written
    });
    (url, task)
}

/// Run `tail URL --no-reconnect` against [`serve_100_mib`]: it must exit 1 with `message` on stderr, having
/// printed the event before, and hang up long before the 100 MiB were sent.
async fn tail_gives_up_on_100_mib(start: &'static str, chunk: Vec<u8>, message: &str) {
    let (url, server) = serve_100_mib(start, chunk).await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &url, "--no-reconnect"]).await;
    assert_eq!(code, 1, "stderr: {stderr}");
    assert!(stderr.contains(message), "{stderr}");
    assert_eq!(printed_data(&stdout), ["before"], "the event before is printed");
    let written = tokio::time::timeout(WAIT, server)
        .await
        .expect("the server's writes fail once tidings is gone")
        .unwrap();
    assert!(
        written < 100 * MIB,
        "tidings hung up before all of it was sent (the server wrote {written} bytes)"
    );
}

#[tokio::test]
async fn tail_of_a_100_mb_line_exits_1_saying_the_line_is_too_long() {
    let x = vec![b'x'; 64 * 1024];
    tail_gives_up_on_100_mib("id: 1\ndata: before\n\ndata: ", x, "longer than 4194304 bytes").await;
}

#[tokio::test]
async fn tail_of_a_100_mb_event_of_short_lines_exits_1_saying_the_event_is_too_large() {
    let line = format!("data: {}\n", "x".repeat(1017));
    let lines = line.repeat(64 * 1024 / line.len()).into_bytes();
    tail_gives_up_on_100_mib("id: 1\ndata: before\n\n", lines, "larger than 4194304 bytes").await;
}

#[tokio::test]
async fn tail_reconnects_with_last_event_id_when_the_stream_ends() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        if conn.index == 0 {
            conn.send("retry: 50\nid: 1\ndata: one\n\n").await;
            conn.close().await;
        } else {
            conn.send("id: 2\ndata: two\n\n").await;
            conn.hold().await;
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &server.url("/events"), "-n", "2"]).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(printed_data(&stdout), ["one", "two"]);
    assert_eq!(server.requests()[1].header("last-event-id"), Some("1"));
    assert!(stderr.contains("retrying"), "says it is reconnecting: {stderr}");
}

#[tokio::test]
async fn tail_into_a_pipe_that_closes_exits_0_quietly() {
    // `tidings tail URL | head -n 1`: once the reader is gone, the next events end tail without a word.
    let reader_gone = Arc::new(Notify::new());
    let server = Server::start({
        let reader_gone = reader_gone.clone();
        move |mut conn: Conn| {
            let reader_gone = reader_gone.clone();
            async move {
                conn.sse().await;
                conn.send("id: 1\ndata: one\n\n").await;
                reader_gone.notified().await;
                // Keep the stream going: the write that meets the closed pipe ends tail. (One write may still
                // succeed: a process that another test is spawning can hold a copy of the reader for a moment.)
                for id in 2..2000 {
                    conn.send(format!("id: {id}\ndata: more\n\n")).await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (child, mut stdout) = spawn_cli(dir.path(), &["tail", &server.url("/events")]);
    assert_eq!(tail_event(&json_lines(&next_line(&mut stdout).await)[0]).2, "one");
    drop(stdout);
    reader_gone.notify_one();
    let output = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("tail exits once its reader is gone")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "", "a closed pipe is not an error");
}

#[tokio::test]
async fn tail_stops_with_exit_0_on_ctrl_c_or_sigterm() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send("id: 1\ndata: one\n\n").await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    for signal in ["-INT", "-TERM"] {
        let (child, mut stdout) = spawn_cli(dir.path(), &["tail", &server.url("/events")]);
        assert_eq!(tail_event(&json_lines(&next_line(&mut stdout).await)[0]).2, "one");
        let pid = child.id().expect("tail is running").to_string();
        let sent = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill {signal} {pid}");
        let output = tokio::time::timeout(WAIT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("tail stops on kill {signal}"))
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(0),
            "kill {signal}: {} and stderr {stderr}",
            output.status
        );
        assert_eq!(stderr, "", "kill {signal}");
    }
}

#[tokio::test]
async fn tail_with_an_invalid_header_fails_saying_how_to_write_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["tail", "http://127.0.0.1:9/events", "-H", "no colon"]).await;
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("Name: value"), "{stderr}");
}

#[tokio::test]
async fn tail_replaces_invalid_utf8_in_data() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send(b"data: a\xFFb\n\n").await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &server.url("/events"), "-n", "1"]).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(tail_event(&json_lines(&stdout)[0]), (None, "message", "a\u{FFFD}b"));
}

// ---------------------------------------------------------------------------------------------------------
// feed

/// A `feed list --json` object's state label. The binary prints the state as an object tagged by `kind`:
/// `"state":{"kind":"retrying","attempt":3,…}` (and `"kind":"sse"` at the top level is the protocol).
fn state(feed: &Value) -> &str {
    feed["state"]["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("no state.kind in {feed}"))
}

/// `feed list --json`, one object per line.
async fn feed_list(dir: &Path) -> Vec<Value> {
    let (code, stdout, stderr) = tidings_output(dir, &["feed", "list", "--json"]).await;
    assert_eq!(code, 0, "feed list: {stderr}");
    json_lines(&stdout)
}

#[tokio::test]
async fn feeds_are_added_listed_paused_resumed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let url = "http://127.0.0.1:9/events";
    let (code, stdout, stderr) = tidings_output(dir.path(), &["feed", "add", url, "--name", "x"]).await;
    assert_eq!((code, stdout.as_str()), (0, "x\n"), "stderr: {stderr}");

    let (code, stdout, stderr) = tidings_output(dir.path(), &["feed", "add", url, "--name", "x"]).await;
    assert_eq!(code, 1, "adding the same name again fails");
    assert_eq!(stdout, "");
    assert!(stderr.contains("`x` already exists"), "{stderr}");

    let feeds = feed_list(dir.path()).await;
    assert_eq!(feeds.len(), 1, "{feeds:?}");
    let feed = &feeds[0];
    for key in ["name", "url", "state", "last_event_id", "unread"] {
        assert!(feed.get(key).is_some(), "`{key}` in {feed}");
    }
    assert_eq!(feed["name"], "x");
    assert_eq!(feed["url"], url);
    assert_eq!(state(feed), "idle", "nothing is following the feeds: {feed}");
    assert_eq!(feed["last_event_id"], Value::Null);
    assert_eq!(feed["unread"], 0);

    let (code, _, stderr) = tidings_output(dir.path(), &["feed", "pause", "x"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(state(&feed_list(dir.path()).await[0]), "paused");

    let (code, _, stderr) = tidings_output(dir.path(), &["feed", "resume", "x"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(state(&feed_list(dir.path()).await[0]), "idle");

    let (code, _, stderr) = tidings_output(dir.path(), &["feed", "rm", "x"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(feed_list(dir.path()).await, Vec::<Value>::new());

    let (code, _, stderr) = tidings_output(dir.path(), &["feed", "rm", "nope"]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("no feed named `nope`"), "{stderr}");
}

#[tokio::test]
async fn a_feed_without_a_name_is_named_after_its_host_and_last_path_segment() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = tidings_output(dir.path(), &["feed", "add", "http://127.0.0.1:9/alerts/sse"]).await;
    assert_eq!((code, stdout.as_str()), (0, "127.0.0.1/sse\n"), "stderr: {stderr}");
    assert_eq!(feed_list(dir.path()).await[0]["name"], "127.0.0.1/sse");
}

#[tokio::test]
async fn pausing_resuming_and_removing_an_unknown_feed_say_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["pause", "resume", "rm"] {
        let (code, _, stderr) = cli(dir.path(), &["feed", command, "nope"]).await;
        assert_eq!(code, 1, "feed {command}: {stderr}");
        assert!(stderr.contains("no feed named `nope`"), "feed {command}: {stderr}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// events (after `run`)

/// `events --json ARGS`, one object per line.
async fn events(dir: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["events", "--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = tidings_output(dir, &all).await;
    assert_eq!(code, 0, "events {args:?}: {stderr}");
    json_lines(&stdout)
}

fn data_of(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["data"].as_str().expect("`data` is a string"))
        .collect()
}

#[tokio::test]
async fn events_show_what_run_stored_and_filter_by_search_feed_and_limit() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        if conn.request.path == "/builds" {
            conn.send(concat!(
                "id: b1\nevent: build\ndata: {\"title\":\"Build 7 passed\",\"message\":\"main is green\"}\n\n",
                "id: b2\nevent: build\ndata: {\"title\":\"Build 8 failed\",\"message\":\"main is red\"}\n\n",
            ))
            .await;
        } else {
            conn.send("data: disk almost full on db1\n\n").await;
        }
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    for (name, path) in [("builds", "/builds"), ("alerts", "/alerts")] {
        let (code, _, stderr) = tidings_output(dir.path(), &["feed", "add", &server.url(path), "--name", name]).await;
        assert_eq!(code, 0, "{stderr}");
    }
    let mut run = tidings(dir.path())
        .args(["run", "--no-notify"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tidings run");
    let started = tokio::time::Instant::now();
    let mut all = Vec::new();
    while all.len() < 3 {
        assert!(started.elapsed() < WAIT, "run stored only {:?}", data_of(&all));
        if let Ok(Some(status)) = run.try_wait() {
            panic!("tidings run exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        all = events(dir.path(), &[]).await;
    }
    run.kill().await.expect("stop tidings run");
    let before = std::time::SystemTime::now();

    assert_eq!(all.len(), 3, "{all:?}");
    for event in &all {
        assert_eq!(
            keys(event),
            BTreeSet::from(["feed", "id", "type", "data", "received_at", "title", "body", "read"]),
            "{event}"
        );
        let received = event["received_at"].as_str().expect("`received_at` is a string");
        let at = humantime::parse_rfc3339(received).unwrap_or_else(|e| panic!("{received:?} is not RFC 3339: {e}"));
        let age = before.duration_since(at).unwrap_or_default();
        assert!(age < Duration::from_secs(600), "{received} is when the event arrived");
        assert_eq!(event["read"], false);
    }
    let b2 = all.iter().find(|e| e["id"] == "b2").expect("event b2");
    assert_eq!(b2["feed"], "builds");
    assert_eq!(b2["type"], "build");
    assert_eq!(b2["title"], "Build 8 failed");
    assert_eq!(b2["body"], "main is red");
    let alert = all.iter().find(|e| e["feed"] == "alerts").expect("the alert");
    assert_eq!(alert["id"], Value::Null, "an event without an id");
    assert_eq!(alert["type"], "message");
    assert_eq!(alert["data"], "disk almost full on db1");
    assert_eq!(alert["title"], "alerts: message");
    assert_eq!(alert["body"], "disk almost full on db1");
    let b1 = all.iter().position(|e| e["id"] == "b1").unwrap();
    let b2 = all.iter().position(|e| e["id"] == "b2").unwrap();
    assert!(b2 < b1, "newest first: {:?}", data_of(&all));

    assert_eq!(
        data_of(&events(dir.path(), &["--search", "disk"]).await),
        ["disk almost full on db1"]
    );
    assert_eq!(events(dir.path(), &["--search", "nowhere"]).await, Vec::<Value>::new());
    assert_eq!(
        data_of(&events(dir.path(), &["--search", "db1 full"]).await),
        ["disk almost full on db1"],
        "every word must match, in any order"
    );
    assert_eq!(
        events(dir.path(), &["--search", "disk nowhere"]).await,
        Vec::<Value>::new()
    );
    let builds = events(dir.path(), &["--feed", "builds"]).await;
    assert_eq!(builds.len(), 2, "{builds:?}");
    assert!(builds.iter().all(|e| e["feed"] == "builds"), "{builds:?}");
    let (code, _, stderr) = tidings_output(dir.path(), &["events", "--feed", "nope"]).await;
    assert_eq!(code, 1, "an unknown feed is an error, not an empty list");
    assert!(stderr.contains("no feed named `nope`"), "{stderr}");
    let alerts = events(dir.path(), &["--feed", "alerts"]).await;
    assert_eq!(data_of(&alerts), ["disk almost full on db1"]);
    let limited = events(dir.path(), &["--limit", "2"]).await;
    assert_eq!(limited, all[..2], "--limit keeps the newest");
    assert_eq!(
        events(dir.path(), &["--limit", "1", "--feed", "builds"]).await,
        builds[..1]
    );
}

#[tokio::test]
async fn run_shows_the_feed_live_in_feed_list_and_sigterm_stops_it_cleanly() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send("id: 5\ndata: hello\n\n").await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = tidings_output(dir.path(), &["feed", "add", &server.url("/e"), "--name", "f"]).await;
    assert_eq!(code, 0, "{stderr}");
    let mut run = tidings(dir.path())
        .args(["run", "--no-notify"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tidings run");
    let started = tokio::time::Instant::now();
    let feed = loop {
        let feeds = feed_list(dir.path()).await;
        if state(&feeds[0]) == "live" && feeds[0]["last_event_id"] == "5" {
            break feeds[0].clone();
        }
        assert!(
            started.elapsed() < WAIT,
            "the feed never became live with id 5: {feeds:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(feed["unread"], 1, "{feed}");

    // SIGTERM, as a service manager sends it: `run` stops cleanly and the feed is no longer followed.
    let pid = run.id().expect("run is running").to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(signalled.success(), "kill -TERM {pid}");
    let status = tokio::time::timeout(WAIT, run.wait())
        .await
        .expect("run stops after SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0), "a requested stop is a success");
    let feeds = feed_list(dir.path()).await;
    assert_eq!(state(&feeds[0]), "idle", "{feeds:?}");
    assert_eq!(feeds[0]["last_event_id"], "5", "{feeds:?}");
}

// ---------------------------------------------------------------------------------------------------------
// the data directory

#[tokio::test]
async fn a_corrupt_database_is_named_with_advice_to_move_it_aside() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tidings.db");
    let garbage = b"this is not a database, only some text\n".repeat(200);
    std::fs::write(&db, &garbage).unwrap();
    for args in [
        &["feed", "list"][..],
        &["feed", "list", "--json"],
        &["feed", "add", "http://127.0.0.1:9/e", "--name", "x"],
        &["events", "--json"],
        &["run", "--no-notify"],
    ] {
        let (code, stdout, stderr) = cli(dir.path(), args).await;
        let command = args.join(" ");
        assert_eq!(code, 1, "`{command}`: stderr {stderr}");
        assert_eq!(stdout, "", "`{command}`");
        assert!(
            stderr.contains(&db.display().to_string()),
            "`{command}` names the file: {stderr}"
        );
        assert!(stderr.contains("move it aside"), "`{command}`: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "`{command}`: one line: {stderr:?}");
    }
    assert_eq!(
        std::fs::read(&db).unwrap(),
        garbage,
        "the damaged file is left as it was"
    );
}

#[tokio::test]
async fn tail_needs_no_database() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send("data: fine\n\n").await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tidings.db"), b"not a database\n".repeat(200)).unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["tail", &server.url("/events"), "-n", "1"]).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(tail_event(&json_lines(&stdout)[0]), (None, "message", "fine"));
}

#[tokio::test]
async fn a_data_directory_that_is_a_file_is_named_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let (code, stdout, stderr) = cli(&file, &["feed", "list"]).await;
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(&file.display().to_string()),
        "names the directory: {stderr}"
    );
    assert!(stderr.contains("--data-dir"), "says how to choose another: {stderr}");
}

#[tokio::test]
async fn the_data_directory_comes_from_tidings_data_dir_unless_data_dir_is_given() {
    let from_env = tempfile::tempdir().unwrap();
    let from_flag = tempfile::tempdir().unwrap();
    // A home of its own, so that a binary ignoring TIDINGS_DATA_DIR writes into it, never into a real home.
    let home = tempfile::tempdir().unwrap();
    let bare = |args: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tidings"));
        command
            .env("TIDINGS_DATA_DIR", from_env.path())
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("RUST_LOG")
            .args(args)
            .kill_on_drop(true);
        command
    };
    let names = |feeds: Vec<Value>| -> Vec<String> {
        feeds
            .iter()
            .map(|f| f["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };

    let output = bare(&["feed", "add", "http://127.0.0.1:9/e", "--name", "via-env"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        from_env.path().join("tidings.db").exists(),
        "the database is in TIDINGS_DATA_DIR"
    );
    assert_eq!(names(feed_list(from_env.path()).await), ["via-env"]);
    let output = bare(&["feed", "list", "--json"]).output().await.unwrap();
    let listed = names(json_lines(&String::from_utf8_lossy(&output.stdout)));
    assert_eq!(listed, ["via-env"], "every command reads TIDINGS_DATA_DIR");

    let flag = from_flag.path().to_str().unwrap();
    let args = [
        "--data-dir",
        flag,
        "feed",
        "add",
        "http://127.0.0.1:9/e",
        "--name",
        "via-flag",
    ];
    let output = bare(&args).output().await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(names(feed_list(from_flag.path()).await), ["via-flag"]);
    assert_eq!(
        names(feed_list(from_env.path()).await),
        ["via-env"],
        "--data-dir wins over TIDINGS_DATA_DIR"
    );
    assert!(
        !home.path().join("data").exists(),
        "nothing went to the default data directory"
    );
}

// ---------------------------------------------------------------------------------------------------------
// help

/// The names in the `Commands:` section of a help text.
fn commands(help: &str) -> Vec<&str> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .collect()
}

#[tokio::test]
async fn help_lists_every_command_and_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (code, help, stderr) = cli(dir.path(), &["--help"]).await;
    assert_eq!(code, 0, "{stderr}");
    let listed = commands(&help);
    for command in ["tail", "feed", "run", "events", "demo"] {
        assert!(listed.contains(&command), "`{command}` in {help}");
    }
    let exit_codes: Vec<&str> = help.lines().skip_while(|l| *l != "Exit codes:").collect();
    for (code, meaning) in [("0", "success"), ("1", "failure"), ("2", "invalid arguments")] {
        assert!(
            exit_codes
                .iter()
                .any(|line| line.trim_start().starts_with(code) && line.contains(meaning)),
            "exit code {code} ({meaning}) in {help}"
        );
    }

    let (code, help, stderr) = cli(dir.path(), &["feed", "--help"]).await;
    assert_eq!(code, 0, "{stderr}");
    let listed = commands(&help);
    for command in ["add", "list", "rm", "pause", "resume"] {
        assert!(listed.contains(&command), "`feed {command}` in {help}");
    }
}
