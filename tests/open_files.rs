//! Running out of file descriptors: `tidings run` under a low open-file limit (set with `ulimit -n` in the
//! shell that starts it, as a user's session would) says what happened and how to raise the limit, both when
//! it starts with more feeds than the limit allows and for each feed that cannot connect.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tidings::FeedSpec;

/// Low enough that a few dozen feeds run out, high enough for the runtime and the database to start.
const LIMIT: u32 = 48;
const FEEDS: usize = 80;

#[test]
fn running_out_of_descriptors_says_what_happened_and_how_to_raise_the_limit() {
    // A server that accepts connections and never answers: each feed holds its socket open.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let configs: Vec<_> = (0..FEEDS)
        .map(|i| {
            FeedSpec {
                url: format!("http://{address}/feed{i}"),
                name: Some(format!("feed-{i}")),
                ..FeedSpec::default()
            }
            .validate()
            .unwrap()
        })
        .collect();
    let file = dir.path().join("feeds.json");
    std::fs::write(&file, tidings::portable::export(&configs)).unwrap();
    let tidings = env!("CARGO_BIN_EXE_tidings");
    let data = dir.path().join("data");
    let imported = Command::new(tidings)
        .arg("--data-dir")
        .arg(&data)
        .args(["feed", "import"])
        .arg(&file)
        .env_remove("TIDINGS_DATA_DIR")
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");

    let mut run = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {LIMIT} && exec \"$0\" \"$@\""))
        .arg(tidings)
        .arg("--data-dir")
        .arg(&data)
        .args(["run", "--no-notify"])
        .env_remove("TIDINGS_DATA_DIR")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("RUST_LOG", "tidings=info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, inbox) = mpsc::channel();
    let stderr = run.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });

    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut warned, mut explained, mut log) = (false, false, Vec::new());
    while !(warned && explained) && Instant::now() < deadline {
        let Ok(line) = inbox.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        warned |=
            line.contains(&format!("{FEEDS} feeds to follow, but the open-file limit")) && line.contains("ulimit -Hn");
        explained |= line.contains(&format!("too many open files (the limit of {LIMIT} is reached"))
            && line.contains("ulimit -Hn");
        log.push(line);
    }
    let _ = run.kill();
    let _ = run.wait();
    assert!(
        warned,
        "no warning at start about the open-file limit; log:\n{}",
        log.join("\n")
    );
    assert!(
        explained,
        "no feed said it ran out of descriptors and how to raise the limit; log:\n{}",
        log.join("\n")
    );
}
