//! The command line for WebSocket channels, mapping, rules, hooks and sharing setups, as a user runs it.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::server::{Conn, Server};
use support::ws::{WsConn, WsServer, accept_all};
use support::{tidings, tidings_output, wait_until};
use tidings::Engine;
use tidings::store::events::EventQuery;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn tail_sends_websocket_messages_in_the_order_given() {
    let server = WsServer::start(accept_all, |mut conn: WsConn| async move {
        let first = conn.recv_text().await.unwrap_or_default();
        conn.send_text("ready").await;
        let second = conn.recv_text().await.unwrap_or_default();
        let third = conn.recv_text().await.unwrap_or_default();
        conn.send_text(format!(r#"{{"got":["{first}","{second}","{third}"]}}"#))
            .await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let url = server.url("/ws");
    let args = [
        "tail",
        &url,
        "--send",
        "hello",
        "--send-after",
        "^ready$=auth",
        "--send",
        "sub",
        "-n",
        "1",
    ];
    let (code, stdout, stderr) = tidings_output(dir.path(), &args).await;
    assert_eq!(code, 0, "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["data"], r#"{"got":["hello","auth","sub"]}"#);
    assert_eq!(line["type"], "message");
}

#[tokio::test]
async fn send_after_without_an_equals_sign_is_refused_with_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = tidings_output(dir.path(), &["tail", "ws://127.0.0.1:9/", "--send-after", "ready"]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("expected REGEX=TEXT"), "{stderr}");
}

#[tokio::test]
async fn a_mistake_in_a_rule_is_refused_when_the_feed_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["feed", "add", "https://example.com/e", "--skip-when", "/priority > "];
    let (code, _, stderr) = tidings_output(dir.path(), &args).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("invalid --skip-when"), "{stderr}");
    assert!(
        stderr.contains("at byte"),
        "the message points at the mistake: {stderr}"
    );
    let (_, stdout, _) = tidings_output(dir.path(), &["feed", "list", "--json"]).await;
    assert!(stdout.trim().is_empty(), "nothing was saved");
}

#[tokio::test]
async fn edit_changes_only_what_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "feed",
        "add",
        "https://example.com/e",
        "--name",
        "ci",
        "-H",
        "X-Trace: 1",
        "--body",
        "{{/message}}",
    ];
    assert_eq!(tidings_output(dir.path(), &args).await.0, 0);
    let (code, _, stderr) = tidings_output(dir.path(), &["feed", "edit", "ci", "--title", "{{/title}}"]).await;
    assert_eq!(code, 0, "{stderr}");
    let (_, export, _) = tidings_output(dir.path(), &["feed", "export"]).await;
    let feeds: serde_json::Value = serde_json::from_str(&export).unwrap();
    let mapping = &feeds[0]["mapping"];
    assert_eq!(mapping["title"], "{{/title}}");
    assert_eq!(mapping["body"], "{{/message}}", "untouched options stay");
    assert_eq!(feeds[0]["headers"][0]["value"], "1");
}

#[tokio::test]
async fn an_export_leaves_secrets_out_and_imports_into_another_setup() {
    let first = tempfile::tempdir().unwrap();
    let args = [
        "feed",
        "add",
        "https://ci.example/stream",
        "--name",
        "ci",
        "-H",
        "Authorization: Bearer s3cret",
        "-H",
        "X-Team: web",
        "--skip-when",
        r#"type == "keepalive""#,
        // No keyring in this test: the user chose plain text.
        "--plaintext-secrets",
    ];
    assert_eq!(tidings_output(first.path(), &args).await.0, 0);
    let file = first.path().join("feeds.json");
    let (code, _, stderr) = tidings_output(first.path(), &["feed", "export", "-o", file.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("s3cret"), "the token never leaves: {text}");

    let second = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = tidings_output(second.path(), &["feed", "import", file.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), "ci");
    assert!(stderr.contains("needs its Authorization header back"), "{stderr}");
    let engine = Engine::open(second.path()).unwrap();
    let config = engine.store().feed("ci").unwrap().config;
    assert_eq!(config.headers.len(), 1);
    assert_eq!(config.headers[0].name, "X-Team");
    assert_eq!(config.skip_when[0].as_str(), r#"type == "keepalive""#);
}

#[tokio::test]
async fn a_websocket_feed_exports_its_fail_rule_but_not_a_header_marked_secret() {
    let first = tempfile::tempdir().unwrap();
    let args = [
        "feed",
        "add",
        "wss://hooks.example/socket",
        "--name",
        "hooks",
        "-H",
        "X-Signature: s1gned",
        "--secret-header",
        "X-Signature",
        "--fail-when",
        "not_allowed",
        // No keyring in this test: the user chose plain text.
        "--plaintext-secrets",
    ];
    let (code, _, stderr) = tidings_output(first.path(), &args).await;
    assert_eq!(code, 0, "{stderr}");
    let (code, export, stderr) = tidings_output(first.path(), &["feed", "export"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !export.contains("s1gned"),
        "a header marked secret never leaves: {export}"
    );

    let second = tempfile::tempdir().unwrap();
    let file = second.path().join("feeds.json");
    std::fs::write(&file, &export).unwrap();
    let (code, _, stderr) = tidings_output(second.path(), &["feed", "import", file.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("X-Signature"),
        "the import names the secret to supply: {stderr}"
    );
    let config = Engine::open(second.path())
        .unwrap()
        .store()
        .feed("hooks")
        .unwrap()
        .config;
    assert_eq!(config.fail_when.as_deref(), Some("not_allowed"));
    assert_eq!(config.secret_headers, ["X-Signature"]);
}

#[tokio::test]
async fn fail_when_is_refused_on_an_sse_feed() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["feed", "add", "https://ci.example/stream", "--fail-when", "denied"];
    let (code, _, stderr) = tidings_output(dir.path(), &args).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("--skip-when"),
        "points at what SSE feeds use instead: {stderr}"
    );
    let (_, stdout, _) = tidings_output(dir.path(), &["feed", "list", "--json"]).await;
    assert!(stdout.trim().is_empty(), "nothing was saved");
}

#[tokio::test]
async fn quiet_hours_are_set_shown_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        tidings_output(dir.path(), &["dnd", "schedule", "22:00-07:30"]).await.0,
        0
    );
    let (_, stdout, _) = tidings_output(dir.path(), &["dnd", "status"]).await;
    assert_eq!(stdout.trim(), "off (quiet hours 22:00-07:30)");
    let (code, _, stderr) = tidings_output(dir.path(), &["dnd", "schedule", "late"]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("22:00-07:30"),
        "the error shows the expected form: {stderr}"
    );
    assert_eq!(tidings_output(dir.path(), &["dnd", "schedule", "off"]).await.0, 0);
    let (_, stdout, _) = tidings_output(dir.path(), &["dnd", "status"]).await;
    assert_eq!(stdout.trim(), "off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_runs_for_each_passing_event_with_its_text_in_variables_never_as_a_command() {
    let server = Server::start(|mut conn: Conn| async move {
        conn.sse().await;
        conn.send("event: keepalive\ndata: {}\n\n").await;
        conn.send("id: 1\ndata: {\"title\":\"$(touch pwned)\",\"message\":\"m\"}\n\n")
            .await;
        conn.send("id: 2\ndata: {\"title\":\"second; touch pwned\"}\n\n").await;
        conn.hold().await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("hook.log");
    let script = format!(
        "printf '%s|%s|%s\\n' \"$TIDINGS_ID\" \"$TIDINGS_TYPE\" \"$TIDINGS_TITLE\" >> {}",
        log.display()
    );
    let url = server.url("/events");
    let args = [
        "feed",
        "add",
        &url,
        "--name",
        "hooks",
        "--skip-when",
        r#"type == "keepalive""#,
        "--exec",
        "sh",
        "-c",
        &script,
    ];
    let (code, _, stderr) = tidings_output(dir.path(), &args).await;
    assert_eq!(code, 0, "{stderr}");
    let mut run = tidings(dir.path())
        .args(["run", "--no-notify"])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = wait_until(WAIT, "the hook to run twice", || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        (text.lines().count() >= 2).then_some(text)
    })
    .await;
    run.kill().await.unwrap();
    let mut lines: Vec<&str> = lines.lines().collect();
    lines.sort();
    assert_eq!(lines, ["1|message|$(touch pwned)", "2|message|second; touch pwned"]);
    assert!(!dir.path().join("pwned").exists(), "event text never runs as a command");
    let engine = Engine::open(dir.path()).unwrap();
    assert_eq!(
        engine.store().events(&EventQuery::default()).unwrap().len(),
        2,
        "the keepalive was not stored"
    );
}

#[tokio::test]
async fn mute_and_snooze_show_in_the_feed_list() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        let url = format!("https://example.com/{name}");
        assert_eq!(
            tidings_output(dir.path(), &["feed", "add", &url, "--name", name])
                .await
                .0,
            0
        );
    }
    assert_eq!(tidings_output(dir.path(), &["feed", "mute", "a"]).await.0, 0);
    assert_eq!(tidings_output(dir.path(), &["feed", "snooze", "b", "2h"]).await.0, 0);
    let (_, stdout, _) = tidings_output(dir.path(), &["feed", "list"]).await;
    assert!(
        stdout.lines().any(|l| l.starts_with("a ") && l.contains("(muted)")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("b ") && l.contains("(snoozed)")),
        "{stdout}"
    );
    let (code, _, stderr) = tidings_output(dir.path(), &["feed", "snooze", "nope", "1h"]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("no feed named `nope`"), "{stderr}");
}

#[tokio::test]
async fn a_preset_fills_in_the_service_and_keeps_the_token_secret() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "feed",
        "add",
        "--preset",
        "gotify",
        "http://127.0.0.1:9",
        "--token",
        "tok3n",
        "--plaintext-secrets",
    ];
    let (code, stdout, stderr) = tidings_output(dir.path(), &args).await;
    assert_eq!(code, 0, "{stderr}");
    let name = stdout.trim().to_string();
    let (_, export, _) = tidings_output(dir.path(), &["feed", "export"]).await;
    let feeds: serde_json::Value = serde_json::from_str(&export).unwrap();
    assert_eq!(feeds[0]["url"], "ws://127.0.0.1:9/stream");
    assert_eq!(feeds[0]["headers"][0]["name"], "X-Gotify-Key");
    assert!(!export.contains("tok3n"), "{export}");
    let (_, list, _) = tidings_output(dir.path(), &["feed", "list", "--json"]).await;
    assert!(list.contains(&format!("\"name\":\"{name}\"")), "{list}");
    let (code, _, stderr) = tidings_output(dir.path(), &["feed", "add", "--preset", "nope", "http://x"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("ntfy"), "the error lists the presets: {stderr}");
}
