//! A full disk, for real: the data directory lives on a small tmpfs that is filled up while events stream in.
//! The feed must say the disk is full, lose nothing, and store everything exactly once when space returns.
//!
//! Mounting needs root, so the test is ignored in a plain `cargo test`; `scripts/test` (and CI, as root) runs
//! it with `--include-ignored`.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::server::{Conn, Server};
use support::wait_until;
use tidings::feed::FeedSpec;
use tidings::store::events::EventQuery;
use tidings::{Change, Engine, FeedState, FollowOptions};

const EVENTS: u64 = 2000;
const WAIT: Duration = Duration::from_secs(60);

/// A tmpfs mounted for the test's lifetime.
struct Tmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "this test mounts a small tmpfs to fill a disk for real: run it as root (scripts/test and CI do)"
        );
        Tmpfs {
            path: dir.path().to_path_buf(),
            _dir: dir,
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Fill the file system holding `dir` until only `leave` bytes are free.
fn fill(dir: &Path, leave: u64) -> PathBuf {
    let filler = dir.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        if free_bytes(dir) <= leave + block.len() as u64 {
            break;
        }
        if file.write_all(&block).is_err() {
            break;
        }
    }
    file.sync_all().unwrap();
    filler
}

fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root: mounts a tmpfs (scripts/test runs it)"]
async fn a_full_disk_loses_nothing_and_the_feed_resumes_when_space_returns() {
    let server = Server::start(|mut conn: Conn| async move {
        let after: u64 = conn
            .request
            .header("last-event-id")
            .and_then(|id| id.parse().ok())
            .unwrap_or(0);
        conn.sse().await;
        let padding = "p".repeat(400);
        for id in after + 1..=EVENTS {
            conn.send(format!("id: {id}\ndata: {{\"n\":{id},\"pad\":\"{padding}\"}}\n\n"))
                .await;
            if id % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        conn.hold().await;
    })
    .await;

    let disk = Tmpfs::mount("32m");
    let engine = Engine::open(disk.path.join("data")).unwrap();
    engine
        .add_feed(FeedSpec {
            url: server.url("/events"),
            name: Some("big".into()),
            ..FeedSpec::default()
        })
        .await
        .unwrap();
    let filler = fill(&disk.path, 256 * 1024);
    let mut changes = engine.subscribe();
    let options = FollowOptions {
        notifications: false,
        ..FollowOptions::default()
    };
    let following = engine.follow(options).await.unwrap();

    let complaint = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(Change::FeedState {
                state: FeedState::Retrying { last_error, .. },
                ..
            }) = changes.recv().await
            {
                return last_error;
            }
        }
    })
    .await
    .expect("the feed reports the full disk");
    assert!(complaint.contains("is full"), "{complaint}");
    assert!(complaint.contains("No event is lost"), "{complaint}");

    std::fs::remove_file(filler).unwrap();
    let query = EventQuery {
        limit: 100_000,
        ..EventQuery::default()
    };
    let stored = wait_until(WAIT, "every event stored once space returned", || {
        let events = engine.store().events(&query).unwrap();
        (events.len() as u64 >= EVENTS).then_some(events)
    })
    .await;
    let mut ids: Vec<u64> = stored
        .iter()
        .map(|e| e.event_id.as_deref().unwrap().parse().unwrap())
        .collect();
    ids.reverse();
    assert_eq!(
        ids,
        (1..=EVENTS).collect::<Vec<_>>(),
        "each event exactly once, in order"
    );
    following.shutdown().await;
}
