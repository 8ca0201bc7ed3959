//! Running a desktop program (the app or the hello-world window) the way a person starts it, in a fresh home
//! (so WebKit's caches start cold), and watching its log for the paint marks.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// The log line of the first frame on screen, and of the first one with the data.
pub const SHELL: &str = "window painted: shell";
pub const LOADED: &str = "window painted: loaded";

pub struct Running {
    child: Child,
    started: Instant,
    lines: Receiver<(Instant, String)>,
    _home: tempfile::TempDir,
}

impl Running {
    /// Start `program` with `args` on the data directory `data`.
    pub fn start(program: &Path, args: &[&str], data: &Path) -> Result<Running, String> {
        let home = tempfile::tempdir().map_err(|e| e.to_string())?;
        let started = Instant::now();
        let mut child = Command::new(program)
            .args(args)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_CACHE_HOME", home.path().join(".cache"))
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .env("TIDINGS_DATA_DIR", data)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        Ok(Running {
            child,
            started,
            lines,
            _home: home,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The time from the start until a log line containing `mark`, waiting at most `limit`.
    pub fn wait_for(&mut self, mark: &str, limit: Duration) -> Result<Duration, String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) if line.contains(mark) => return Ok(at - self.started),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => return Err(format!("no `{mark}` within {limit:?}")),
                Err(RecvTimeoutError::Disconnected) => return Err(format!("the program exited before `{mark}`")),
            }
        }
    }

    /// Quit as a logout does (SIGTERM) and wait for the exit.
    pub fn quit(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
