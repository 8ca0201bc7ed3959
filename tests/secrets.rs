//! Secrets as a user meets them: a token given to `feed add` lives in a real keyring (GNOME Keyring on a
//! private D-Bus session bus), never in the database file or an export, and the feed still connects with it;
//! with no keyring the user must choose `--plaintext-secrets`; a keyring item gone missing fails the feed
//! with the command that enters it again. Each test has its own bus, keyring daemon and data directory.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use support::keyring::KeyringBus;
use support::server::{Conn, Server};
use support::tidings;

const WAIT: Duration = Duration::from_secs(30);
const TOKEN: &str = "tok-5f1c0ffee-guarded";

/// `feed add URL --name guarded -H "Authorization: Bearer TOKEN"`, then `extra`.
fn add_guarded(url: &str, extra: &[&str]) -> Vec<String> {
    let header = format!("Authorization: Bearer {TOKEN}");
    let add = ["feed", "add", url, "--name", "guarded", "-H", &header];
    add.iter().chain(extra).map(|arg| arg.to_string()).collect()
}

/// `tidings ARGS` on the test's bus; returns (exit code, stdout, stderr).
async fn cli(bus: &KeyringBus, dir: &Path, args: &[impl AsRef<std::ffi::OsStr>]) -> (i32, String, String) {
    let output = tidings(dir)
        .envs(bus.env())
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .await
        .expect("run tidings");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `tidings run --no-notify` on the test's bus, until dropped.
fn run(bus: &KeyringBus, dir: &Path) -> tokio::process::Child {
    tidings(dir)
        .envs(bus.env())
        .args(["run", "--no-notify"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tidings run")
}

/// An event stream that answers only requests carrying `Authorization: Bearer TOKEN`, others with 401.
async fn guarded_server() -> Server {
    Server::start(|mut conn: Conn| async move {
        if conn.request.header("authorization") == Some(&format!("Bearer {TOKEN}")) {
            conn.sse().await;
            conn.send("id: 1\ndata: hello\n\n").await;
            conn.hold().await;
        } else {
            conn.respond(401, &[], "who are you?").await;
        }
    })
    .await
}

/// A bus with a keyring, a data directory, and the guarded server with the feed `guarded` saved for it
/// (`feed add` with the Authorization header, then `extra`).
async fn guarded_feed_saved(extra: &[&str]) -> (KeyringBus, tempfile::TempDir, Server) {
    let bus = KeyringBus::with_keyring();
    let dir = tempfile::tempdir().unwrap();
    let server = guarded_server().await;
    let args = add_guarded(&server.url("/events"), extra);
    let (code, _, stderr) = cli(&bus, dir.path(), &args).await;
    assert_eq!(code, 0, "{stderr}");
    (bus, dir, server)
}

/// Every byte the data directory holds (database, WAL, lock), to look for a secret in.
fn data_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the data directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_file() {
            all.extend(std::fs::read(&path).unwrap_or_default());
        }
    }
    all
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|window| window == text.as_bytes())
}

async fn the_feed(bus: &KeyringBus, dir: &Path) -> Value {
    let (code, stdout, stderr) = cli(bus, dir, &["feed", "list", "--json"]).await;
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(stdout.lines().next().unwrap_or("null")).expect("feed list --json")
}

/// Wait until the (only) feed's state is `kind`; returns the feed.
async fn wait_state(bus: &KeyringBus, dir: &Path, kind: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let feed = the_feed(bus, dir).await;
        if feed["state"]["kind"] == kind {
            return feed;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the feed never became {kind}: {feed}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until the (only) feed has failed; returns why.
async fn wait_failure(bus: &KeyringBus, dir: &Path) -> String {
    let feed = wait_state(bus, dir, "failed").await;
    feed["state"]["reason"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_lives_in_the_keyring_and_the_feed_connects_with_it() {
    let (bus, dir, server) = guarded_feed_saved(&["-H", "X-Trace: 7"]).await;

    let items = bus.items();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].0, "Tidings: the Authorization header of feed `guarded`");
    assert!(!holds(&data_bytes(dir.path()), TOKEN), "the token is in the database");
    let (code, export, stderr) = cli(&bus, dir.path(), &["feed", "export"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(!export.contains(TOKEN) && !export.contains("keyring:"), "{export}");
    assert!(export.contains("<secret>") && export.contains("X-Trace"), "{export}");

    let mut follower = run(&bus, dir.path());
    server.wait_requests(1, WAIT).await;
    let feed = wait_state(&bus, dir.path(), "live").await;
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))),
        "{requests:?}"
    );
    assert_eq!(feed["headers"][0], "Authorization: <secret>", "{feed}");
    let deadline = tokio::time::Instant::now() + WAIT;
    while the_feed(&bus, dir.path()).await["last_event_id"] != "1" {
        assert!(tokio::time::Instant::now() < deadline, "the event was not stored");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    follower.kill().await.unwrap();
    assert!(
        !holds(&data_bytes(dir.path()), TOKEN),
        "the token reached the database while following"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_and_removing_a_feed_carry_its_keyring_items_along() {
    let bus = KeyringBus::with_keyring();
    let dir = tempfile::tempdir().unwrap();
    let add = [
        "feed",
        "add",
        "http://127.0.0.1:9/events",
        "--name",
        "mine",
        "--secret-header",
        "X-Api-Handle",
        "-H",
        "X-Api-Handle: handle-one-0xabc",
    ];
    let (code, _, stderr) = cli(&bus, dir.path(), &add).await;
    assert_eq!(code, 0, "{stderr}");
    let first = bus.items();
    assert_eq!(
        first.len(),
        1,
        "a header marked --secret-header is kept in the keyring: {first:?}"
    );
    assert!(!holds(&data_bytes(dir.path()), "handle-one-0xabc"));

    let (code, _, stderr) = cli(&bus, dir.path(), &["feed", "edit", "mine", "--name", "ours"]).await;
    assert_eq!(code, 0, "{stderr}");
    let renamed = bus.items();
    assert_eq!(renamed.len(), 1, "{renamed:?}");
    assert_eq!(renamed[0].0, "Tidings: the X-Api-Handle header of feed `ours`");
    assert_eq!(renamed[0].1, first[0].1, "the same item, relabelled");

    let edit = ["feed", "edit", "ours", "-H", "X-Api-Handle: handle-two-0xdef"];
    let (code, _, stderr) = cli(&bus, dir.path(), &edit).await;
    assert_eq!(code, 0, "{stderr}");
    let replaced = bus.items();
    assert_eq!(replaced.len(), 1, "the old value left the keyring: {replaced:?}");
    assert_ne!(replaced[0].1, first[0].1);
    assert!(!holds(&data_bytes(dir.path()), "handle-two-0xdef"));

    let (code, _, stderr) = cli(&bus, dir.path(), &["feed", "rm", "ours"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        bus.items(),
        Vec::<(String, String)>::new(),
        "removing the feed removes its secrets"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keyring_the_user_chooses_plaintext_or_a_secret_service() {
    let bus = KeyringBus::without_keyring();
    let dir = tempfile::tempdir().unwrap();
    let server = guarded_server().await;
    let url = server.url("/events");
    let (code, stdout, stderr) = cli(&bus, dir.path(), &add_guarded(&url, &[])).await;
    assert_eq!(code, 1, "{stdout}");
    for said in [
        "cannot keep the Authorization header of feed `guarded` in a keyring",
        "no Secret Service is running on the session bus",
        "start a Secret Service",
        "GNOME Keyring",
        "KeePassXC",
        "--plaintext-secrets",
        "plain text in the Tidings database",
    ] {
        assert!(stderr.contains(said), "`{said}` in {stderr}");
    }
    assert!(!stderr.contains(TOKEN), "{stderr}");
    let (_, list, _) = cli(&bus, dir.path(), &["feed", "list", "--json"]).await;
    assert_eq!(list, "", "nothing was saved");

    let (code, _, stderr) = cli(
        &bus,
        dir.path(),
        &["feed", "add", "http://127.0.0.1:9/e", "--name", "open"],
    )
    .await;
    assert_eq!(code, 0, "a feed without secrets needs no keyring: {stderr}");
    let (code, _, stderr) = cli(&bus, dir.path(), &["feed", "rm", "open"]).await;
    assert_eq!(code, 0, "{stderr}");

    let plaintext = add_guarded(&url, &["--plaintext-secrets"]);
    let (code, _, stderr) = cli(&bus, dir.path(), &plaintext).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(holds(&data_bytes(dir.path()), TOKEN), "stored in plain text, as chosen");
    let (code, _, stderr) = cli(&bus, dir.path(), &["feed", "edit", "guarded", "--title", "{{data}}"]).await;
    assert_eq!(
        code, 0,
        "a secret held in plain text stays so when edited without a keyring: {stderr}"
    );
    let other = ["feed", "edit", "guarded", "-H", "Authorization: Bearer typed-anew"];
    let (code, _, stderr) = cli(&bus, dir.path(), &other).await;
    assert_eq!(code, 1, "a new secret needs a keyring or the flag");
    assert!(stderr.contains("--plaintext-secrets"), "{stderr}");
    let mut follower = run(&bus, dir.path());
    wait_state(&bus, dir.path(), "live").await;
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))),
        "{requests:?}"
    );
    follower.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyring_item_gone_missing_fails_the_feed_with_what_to_enter() {
    let (bus, dir, server) = guarded_feed_saved(&[]).await;
    bus.delete_items();

    let mut follower = run(&bus, dir.path());
    let reason = wait_failure(&bus, dir.path()).await;
    assert!(reason.contains("no longer holds the Authorization header"), "{reason}");
    assert!(
        reason.contains("tidings feed edit \"guarded\" -H 'Authorization: …'"),
        "{reason}"
    );
    assert!(server.requests().is_empty(), "no attempt without the token");

    // Entering it again is what the message says to do; the running follower picks the feed up.
    let header = format!("Authorization: Bearer {TOKEN}");
    let (code, _, stderr) = cli(&bus, dir.path(), &["feed", "edit", "guarded", "-H", &header]).await;
    assert_eq!(code, 0, "{stderr}");
    wait_state(&bus, dir.path(), "live").await;
    assert_eq!(bus.items().len(), 1);
    follower.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_assistant_token_in_its_auth_message_is_kept_in_the_keyring() {
    let bus = KeyringBus::with_keyring();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "feed",
        "add",
        "--preset",
        "home-assistant",
        "http://127.0.0.1:9",
        "--name",
        "home",
        "--token",
        TOKEN,
    ];
    let (code, _, stderr) = cli(&bus, dir.path(), &args).await;
    assert_eq!(code, 0, "{stderr}");
    let items = bus.items();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        items[0].0,
        "Tidings: the access_token field of message 1 of feed `home`"
    );
    assert!(!holds(&data_bytes(dir.path()), TOKEN), "the token is in the database");
    let (_, export, _) = cli(&bus, dir.path(), &["feed", "export"]).await;
    assert!(!export.contains(TOKEN), "{export}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_saved_in_plain_text_moves_into_the_keyring_when_edited() {
    let (bus, dir, server) = guarded_feed_saved(&["--plaintext-secrets"]).await;
    assert!(bus.items().is_empty());

    let (code, _, stderr) = cli(&bus, dir.path(), &["feed", "edit", "guarded"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(bus.items().len(), 1, "moved into the keyring");
    let (_, export, _) = cli(&bus, dir.path(), &["feed", "export"]).await;
    assert!(!export.contains(TOKEN));
    assert!(
        !holds(&data_bytes(dir.path()), TOKEN),
        "no copy left in the database file"
    );

    let mut follower = run(&bus, dir.path());
    wait_state(&bus, dir.path(), "live").await;
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))),
        "{requests:?}"
    );
    follower.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_the_url_is_kept_in_the_keyring_and_sent_when_connecting() {
    let bus = KeyringBus::with_keyring();
    let dir = tempfile::tempdir().unwrap();
    // Gotify's stream takes its client token in the query.
    let server = Server::start(|mut conn: Conn| async move {
        if conn.request.path == format!("/stream?token={TOKEN}") {
            conn.sse().await;
            conn.send("id: 1\ndata: hello\n\n").await;
            conn.hold().await;
        } else {
            conn.respond(401, &[], "who are you?").await;
        }
    })
    .await;
    let url = format!("{}?token={TOKEN}", server.url("/stream"));
    let (code, _, stderr) = cli(&bus, dir.path(), &["feed", "add", &url, "--name", "gotify"]).await;
    assert_eq!(code, 0, "{stderr}");

    let items = bus.items();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].0, "Tidings: the token parameter of the URL of feed `gotify`");
    assert!(!holds(&data_bytes(dir.path()), TOKEN), "the token is in the database");
    let listed = the_feed(&bus, dir.path()).await;
    assert!(
        listed["url"].as_str().unwrap_or("").contains("token=keyring:"),
        "{listed}"
    );

    let mut follower = run(&bus, dir.path());
    wait_state(&bus, dir.path(), "live").await;
    let requests = server.requests();
    assert!(
        requests.iter().all(|r| r.path == format!("/stream?token={TOKEN}")),
        "{requests:?}"
    );
    follower.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_keyring_fails_the_feed_with_what_to_do_instead_of_hanging() {
    let (bus, dir, server) = guarded_feed_saved(&[]).await;
    // The screen locked, or the keyring timed out, before Tidings started.
    bus.lock();

    let mut follower = run(&bus, dir.path());
    let reason = wait_failure(&bus, dir.path()).await;
    assert!(reason.contains("cannot read the Authorization header"), "{reason}");
    assert!(reason.contains("unlock the keyring"), "{reason}");
    assert!(reason.contains("tidings feed resume \"guarded\""), "{reason}");
    assert!(server.requests().is_empty(), "no attempt without the token");

    // Unlocked, the feed resumes when told to, as the message says.
    bus.unlock();
    assert_eq!(bus.items().len(), 1, "unlocked");
    let (code, _, stderr) = cli(&bus, dir.path(), &["feed", "resume", "guarded"]).await;
    assert_eq!(code, 0, "{stderr}");
    wait_state(&bus, dir.path(), "live").await;
    follower.kill().await.unwrap();
}
