//! A demo Server-Sent Events feed served on loopback, so a newcomer sees realistic events and desktop
//! notifications within seconds, without a server of their own.
//!
//! The CLI's `tidings demo [--port P]` command and the desktop app's "try the demo feed" button both call
//! [`DemoServer::start`], point a feed at [`DemoServer::url`], and call [`DemoServer::shutdown`] when done.
//!
//! # What it serves
//! - `GET /events`: `text/event-stream`, `Cache-Control: no-store`. The stream opens with `retry: 2000` and a
//!   comment, then carries events from a small made-up CI/ops world: builds of a few repositories started,
//!   passed or failed (`event: build`), deploys to staging and production (`event: deploy`) and monitoring
//!   alerts firing and resolved (`event: alert`). Each event has an increasing integer `id:` and one line of
//!   JSON `data:` with at least `title`, `message`, `link`, `severity` (`info`, `warning` or `critical`) and
//!   `at` (RFC 3339). A `: keepalive` comment goes out after 15 s without an event.
//! - `GET /`: a short plain-text page saying what this is and where the feed is.
//! - Anything else: 404.
//!
//! # Events, history and replay
//! One generator task makes an event at once, then one every [`DemoOptions::interval`] (with a little
//! jitter), whatever the number of clients; every connected client gets the same live events through a
//! broadcast channel, and the last [`DemoOptions::history`] events are kept for replay:
//! - with `Last-Event-ID: N` (a known id), a client first gets every kept event with id > N, then the live
//!   ones, with no gap and no repeat between the two;
//! - with an unknown (newer than any event sent) or non-numeric `Last-Event-ID`, it gets everything kept;
//! - without `Last-Event-ID` (or with an empty one), it gets the most recent event at once, so a new visitor
//!   sees something immediately instead of waiting for the next tick.
//!
//! Ids start at the server's start time in milliseconds since the Unix epoch and go up by one per event, so
//! the ids of a restarted demo are greater than those of earlier runs: a store that keys events by id never
//! mistakes a new run's events for ones it already has, and a saved Last-Event-ID from an earlier run simply
//! replays what this run has kept.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{Stream, StreamExt, stream};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

mod keeper;
pub use keeper::{DEMO_FEED, DEMO_PORT, DemoKeeper};

/// The reconnection delay suggested to clients in the stream's first line.
const RETRY: Duration = Duration::from_millis(2000);
/// A `: keepalive` comment is sent after this long without anything else on a stream.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// The shortest interval the generator accepts, so a zero interval cannot spin.
const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// Live events buffered per client before it counts as lagging (it then catches up from history).
const BROADCAST_CAPACITY: usize = 256;
/// How long `shutdown` waits for open connections to finish before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// The comment sent right after `retry:` at the start of every stream.
const GREETING: &str = "tidings demo feed: made-up CI builds, deploys and alerts";

/// How the demo feed behaves.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Time between events (default 3 s).
    pub interval: Duration,
    /// How many past events are kept for replay to a client that sends Last-Event-ID (default 1000).
    pub history: usize,
    /// Seed for the pseudo-random content (default: from the clock); tests pass a fixed one.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x5eed_7d1d_1a65);
        DemoOptions {
            interval: Duration::from_secs(3),
            history: 1000,
            seed,
        }
    }
}

/// A running demo feed. Dropping it does not stop it; call `shutdown`.
#[derive(Debug)]
pub struct DemoServer {
    addr: SocketAddr,
    token: CancellationToken,
    server: JoinHandle<()>,
    generator: JoinHandle<()>,
}

impl DemoServer {
    /// Bind 127.0.0.1:`port` (0 = any free port) and start serving in a spawned task on the current tokio runtime.
    /// Error when the port is taken: say which port and suggest `--port`.
    pub async fn start(port: u16, options: DemoOptions) -> std::io::Result<DemoServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|e| bind_error(port, e))?;
        let addr = listener.local_addr()?;
        let token = CancellationToken::new();
        let interval = options.interval.max(MIN_INTERVAL);

        let hub = Arc::new(Hub::new(options.history));
        let generator = tokio::spawn(generate(
            Arc::clone(&hub),
            World::new(options.seed),
            first_id(),
            interval,
            token.clone(),
        ));

        let app = Arc::new(App {
            hub,
            token: token.clone(),
            url: events_url(addr),
            interval,
        });
        let router = Router::new()
            .route("/", get(index))
            .route("/events", get(events))
            .fallback(not_found)
            .with_state(app);
        let shutdown = token.clone().cancelled_owned();
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                tracing::warn!(%addr, error = %e, "demo feed server stopped with an error");
            }
        });

        tracing::info!(url = %events_url(addr), "demo feed started");
        Ok(DemoServer {
            addr,
            token,
            server,
            generator,
        })
    }

    /// The feed's URL, e.g. "http://127.0.0.1:43125/events".
    pub fn url(&self) -> String {
        events_url(self.addr)
    }

    /// The address the server is bound to (always on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, close open streams, wait for the server task to end.
    ///
    /// Connections get [`SHUTDOWN_GRACE`] (5 s) to finish; a client that stopped reading is then cut off.
    pub async fn shutdown(self) {
        let DemoServer {
            addr,
            token,
            mut server,
            generator,
        } = self;
        token.cancel();
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
            Ok(joined) => log_join("server", joined),
            Err(_) => {
                tracing::warn!(%addr, "demo feed connections did not close in time; cutting them off");
                server.abort();
                let _ = server.await;
            }
        }
        log_join("generator", generator.await);
        tracing::info!(%addr, "demo feed stopped");
    }
}

fn log_join(task: &str, joined: Result<(), tokio::task::JoinError>) {
    if let Err(e) = joined {
        tracing::warn!(task, error = %e, "demo feed task ended abnormally");
    }
}

fn events_url(addr: SocketAddr) -> String {
    format!("http://{addr}/events")
}

/// Turn a bind failure into a message that says which port and what to do about it.
fn bind_error(port: u16, e: std::io::Error) -> std::io::Error {
    let message = match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "port {port} on 127.0.0.1 is already in use; choose another with --port (or --port 0 for any free port)"
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "not allowed to listen on port {port} of 127.0.0.1 ({e}); choose another with --port (ports above 1023 need no privileges)"
        ),
        _ => format!("cannot listen on 127.0.0.1:{port}: {e}; choose another port with --port"),
    };
    std::io::Error::new(e.kind(), message)
}

/// The first id of this run: milliseconds since the Unix epoch, so ids keep increasing across restarts.
fn first_id() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
        .max(1)
}

// ---------------------------------------------------------------------------------------------------------
// Shared state: history and the live broadcast.

/// One generated event, shared by every client that sends it.
#[derive(Debug)]
struct DemoEvent {
    id: u64,
    kind: &'static str,
    /// One line of JSON.
    data: String,
}

impl DemoEvent {
    fn to_sse(&self) -> Event {
        Event::default()
            .id(self.id.to_string())
            .event(self.kind)
            .data(&self.data)
    }
}

/// Kept events plus the live channel. Publishing happens under the history lock, so a client that
/// subscribes and then snapshots the history misses nothing: an event is either in its snapshot or
/// (also) in its receiver, and duplicates are skipped by id.
struct Hub {
    inner: Mutex<History>,
    live: broadcast::Sender<Arc<DemoEvent>>,
}

struct History {
    kept: VecDeque<Arc<DemoEvent>>,
    capacity: usize,
    /// The id of the newest event ever published, kept or not.
    newest: Option<u64>,
}

/// What a connecting client asked for, from its Last-Event-ID header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    /// No header (or an empty one): a new visitor.
    Fresh,
    /// A numeric id.
    After(u64),
    /// A header that is not a decimal number (or is not valid text).
    Unreadable,
}

impl Resume {
    fn from_headers(headers: &HeaderMap) -> Resume {
        match headers.get("last-event-id").map(HeaderValue::to_str) {
            None => Resume::Fresh,
            Some(Err(_)) => Resume::Unreadable,
            Some(Ok(text)) => {
                let text = text.trim();
                if text.is_empty() {
                    Resume::Fresh
                } else {
                    text.parse().map_or(Resume::Unreadable, Resume::After)
                }
            }
        }
    }
}

impl Hub {
    fn new(history: usize) -> Hub {
        let (live, _) = broadcast::channel(BROADCAST_CAPACITY);
        Hub {
            inner: Mutex::new(History {
                kept: VecDeque::with_capacity(history.min(4096)),
                capacity: history,
                newest: None,
            }),
            live,
        }
    }

    fn history(&self) -> std::sync::MutexGuard<'_, History> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, event: DemoEvent) {
        let event = Arc::new(event);
        let mut history = self.history();
        history.newest = Some(event.id);
        if history.capacity > 0 {
            while history.kept.len() >= history.capacity {
                history.kept.pop_front();
            }
            history.kept.push_back(Arc::clone(&event));
        }
        // An error only means nobody is listening right now.
        let _ = self.live.send(event);
    }

    /// Subscribe to live events, then pick what to replay. Returns the receiver, the events to replay in
    /// order, and the id up to which the client has (or will have) everything: live events at or below it
    /// are repeats.
    fn join(&self, resume: Resume) -> (broadcast::Receiver<Arc<DemoEvent>>, VecDeque<Arc<DemoEvent>>, u64) {
        let receiver = self.live.subscribe();
        let history = self.history();
        let (replay, seen): (VecDeque<_>, u64) = match resume {
            Resume::Fresh => (history.kept.back().cloned().into_iter().collect(), 0),
            Resume::After(n) if history.newest.is_some_and(|newest| n <= newest) => {
                (history.kept.iter().filter(|e| e.id > n).cloned().collect(), n)
            }
            // Unknown or unreadable: everything kept.
            Resume::After(_) | Resume::Unreadable => (history.kept.iter().cloned().collect(), 0),
        };
        let seen = replay.back().map_or(seen, |e| e.id.max(seen));
        (receiver, replay, seen)
    }

    /// Kept events newer than `seen`, for a client that fell behind the live channel.
    fn since(&self, seen: u64) -> VecDeque<Arc<DemoEvent>> {
        self.history().kept.iter().filter(|e| e.id > seen).cloned().collect()
    }
}

/// The generator: one event at once, then one per interval (±10 %), until cancelled.
async fn generate(hub: Arc<Hub>, mut world: World, first_id: u64, interval: Duration, token: CancellationToken) {
    let mut id = first_id;
    loop {
        let (kind, data) = world.next_event(SystemTime::now());
        hub.publish(DemoEvent { id, kind, data });
        id = id.saturating_add(1);
        let delay = interval.mul_f64(0.9 + 0.2 * world.rng.f64());
        tokio::select! {
            () = token.cancelled() => break,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP.

struct App {
    hub: Arc<Hub>,
    token: CancellationToken,
    url: String,
    interval: Duration,
}

async fn index(State(app): State<Arc<App>>) -> String {
    format!(
        "Tidings demo feed\n\
         \n\
         This is a demo Server-Sent Events feed served by `tidings demo`: made-up CI builds, deploys and\n\
         monitoring alerts, one about every {interval}, so you can see Tidings' events and notifications\n\
         without a server of your own.\n\
         \n\
         Feed URL: {url}\n\
         \n\
         Follow it with Tidings, or watch it raw with: curl -N {url}\n",
        interval = humantime::format_duration(app.interval),
        url = app.url,
    )
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "not found: the demo feed is at /events\n")
}

async fn events(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let resume = Resume::from_headers(&headers);
    let (receiver, replay, seen) = app.hub.join(resume);
    tracing::debug!(?resume, replay = replay.len(), "demo feed client connected");
    let client = Client {
        hub: Arc::clone(&app.hub),
        receiver,
        replay,
        seen,
        token: app.token.clone(),
    };
    let greeting = Event::default().retry(RETRY).comment(GREETING);
    let body = stream::once(async move { Ok::<_, Infallible>(greeting) }).chain(client.into_stream());
    let sse = Sse::new(body).keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive"));
    ([(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], sse).into_response()
}

/// One connected client: replay first, then live events, until the server shuts down.
struct Client {
    hub: Arc<Hub>,
    receiver: broadcast::Receiver<Arc<DemoEvent>>,
    replay: VecDeque<Arc<DemoEvent>>,
    /// The newest id this client has been sent (or had already).
    seen: u64,
    token: CancellationToken,
}

impl Client {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
        stream::unfold(self, |mut client| async move {
            let event = client.next().await?;
            Some((Ok(event.to_sse()), client))
        })
    }

    async fn next(&mut self) -> Option<Arc<DemoEvent>> {
        loop {
            if self.token.is_cancelled() {
                return None;
            }
            if let Some(event) = self.replay.pop_front() {
                self.seen = event.id;
                return Some(event);
            }
            let received = tokio::select! {
                () = self.token.cancelled() => return None,
                received = self.receiver.recv() => received,
            };
            match received {
                Ok(event) if event.id <= self.seen => continue,
                Ok(event) => {
                    self.seen = event.id;
                    return Some(event);
                }
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    tracing::debug!(skipped, "demo feed client lagged; catching up from history");
                    self.replay = self.hub.since(self.seen);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The made-up world.

const REPOS: [&str; 3] = ["api", "web", "billing"];
const PEOPLE: [&str; 6] = ["ana", "bo", "chen", "dana", "eli", "farah"];
const BRANCHES: [&str; 4] = ["main", "main", "main", "release"];
const HOSTS: [&str; 6] = ["api-1", "api-2", "web-1", "web-2", "billing-1", "db-1"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Env {
    Staging,
    Production,
}

impl Env {
    fn name(self) -> &'static str {
        match self {
            Env::Staging => "staging",
            Env::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Cpu,
    Disk,
    Latency,
}

/// Something that happens later, as a consequence of an earlier event.
#[derive(Debug, Clone)]
enum FollowUp {
    BuildDone {
        repo: usize,
        build: u32,
        branch: &'static str,
        commit: String,
    },
    DeployStart {
        repo: usize,
        version: String,
        env: Env,
    },
    DeployDone {
        repo: usize,
        version: String,
        env: Env,
    },
}

#[derive(Debug, Clone)]
struct Alert {
    metric: Metric,
    host: &'static str,
    critical: bool,
}

struct Repo {
    next_build: u32,
    version: (u32, u32, u32),
}

/// The CI/ops world the events come from: a few repositories whose builds lead to deploys, and hosts whose
/// alerts fire and later resolve. Everything is drawn from one seeded generator, so a seed gives the same story.
struct World {
    rng: fastrand::Rng,
    repos: Vec<Repo>,
    pending: VecDeque<FollowUp>,
    firing: Vec<Alert>,
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = fastrand::Rng::with_seed(seed);
        let repos = REPOS
            .iter()
            .map(|_| Repo {
                next_build: rng.u32(100..400),
                version: (1, rng.u32(0..12), rng.u32(0..9)),
            })
            .collect();
        World {
            rng,
            repos,
            pending: VecDeque::new(),
            firing: Vec::new(),
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.usize(..items.len())]
    }

    /// The next event: its SSE type and its one-line JSON data.
    fn next_event(&mut self, now: SystemTime) -> (&'static str, String) {
        let at = humantime::format_rfc3339_seconds(now).to_string();
        // Often the story goes on (a build finishes, a deploy proceeds), always when a few threads are open, so
        // the queue stays short; otherwise something new happens: mostly a build, sometimes an alert firing
        // or clearing.
        let go_on = match self.pending.len() {
            0 => false,
            1..=2 => self.rng.bool(),
            _ => true,
        };
        let follow_up = if go_on { self.pending.pop_front() } else { None };
        let roll = self.rng.u8(..100);
        let (kind, data) = match follow_up {
            Some(follow_up) => self.follow_up(follow_up),
            None if roll < 20 && !self.firing.is_empty() => self.alert_resolved(),
            None if roll < 40 && self.firing.len() < 3 => self.alert_fired(),
            None => self.build_started(),
        };
        (kind, render(data, at))
    }

    fn follow_up(&mut self, follow_up: FollowUp) -> (&'static str, Value) {
        match follow_up {
            FollowUp::BuildDone {
                repo,
                build,
                branch,
                commit,
            } => self.build_done(repo, build, branch, commit),
            FollowUp::DeployStart { repo, version, env } => self.deploy_started(repo, version, env),
            FollowUp::DeployDone { repo, version, env } => self.deploy_done(repo, version, env),
        }
    }

    fn build_started(&mut self) -> (&'static str, Value) {
        let repo = self.rng.usize(..REPOS.len());
        let name = REPOS[repo];
        let build = self.repos[repo].next_build;
        self.repos[repo].next_build += 1;
        let branch = self.pick(&BRANCHES);
        let author = self.pick(&PEOPLE);
        let commit: String = (0..7)
            .map(|_| char::from_digit(self.rng.u32(0..16), 16).unwrap_or('0'))
            .collect();
        self.pending.push_back(FollowUp::BuildDone {
            repo,
            build,
            branch,
            commit: commit.clone(),
        });
        let data = json!({
            "title": format!("build #{build} of {name} started"),
            "message": format!("Build #{build} of {name} started on {branch} for commit {commit} by {author}."),
            "link": format!("https://example.com/ci/{name}/builds/{build}"),
            "severity": "info",
            "repo": name,
            "build": build,
            "status": "started",
            "branch": branch,
            "commit": commit,
        });
        ("build", data)
    }

    fn build_done(&mut self, repo: usize, build: u32, branch: &'static str, commit: String) -> (&'static str, Value) {
        let name = REPOS[repo];
        let minutes = self.rng.u32(1..9);
        let seconds = self.rng.u32(0..60);
        let passed = self.rng.u8(..100) < 80;
        let link = format!("https://example.com/ci/{name}/builds/{build}");
        let data = if passed {
            let version = self.bump(repo);
            if branch == "main" || branch == "release" {
                self.pending.push_back(FollowUp::DeployStart {
                    repo,
                    version: version.clone(),
                    env: Env::Staging,
                });
            }
            json!({
                "title": format!("build #{build} of {name} passed"),
                "message": format!("Build #{build} of {name} passed in {minutes}m {seconds}s and produced {name} v{version}."),
                "link": link,
                "severity": "info",
                "repo": name,
                "build": build,
                "status": "passed",
                "branch": branch,
                "commit": commit,
                "version": version,
            })
        } else {
            let failures = self.rng.u32(1..5);
            let suite = self.pick(&["unit", "integration", "lint", "e2e"]);
            let tests = if failures == 1 { "check" } else { "checks" };
            json!({
                "title": format!("build #{build} of {name} failed"),
                "message": format!("Build #{build} of {name} failed after {minutes}m {seconds}s: {failures} {suite} {tests} did not pass."),
                "link": link,
                "severity": "warning",
                "repo": name,
                "build": build,
                "status": "failed",
                "branch": branch,
                "commit": commit,
            })
        };
        ("build", data)
    }

    /// The next version of a repository, after a passing build.
    fn bump(&mut self, repo: usize) -> String {
        let version = &mut self.repos[repo].version;
        if self.rng.u8(..100) < 15 {
            version.1 += 1;
            version.2 = 0;
        } else {
            version.2 += 1;
        }
        format!("{}.{}.{}", version.0, version.1, version.2)
    }

    fn deploy_started(&mut self, repo: usize, version: String, env: Env) -> (&'static str, Value) {
        let name = REPOS[repo];
        let who = self.pick(&PEOPLE);
        let env_name = env.name();
        self.pending.push_back(FollowUp::DeployDone {
            repo,
            version: version.clone(),
            env,
        });
        let data = json!({
            "title": format!("deploying {name} v{version} to {env_name}"),
            "message": format!("{who} started deploying {name} v{version} to {env_name}."),
            "link": format!("https://example.com/deploys/{env_name}/{name}-v{version}"),
            "severity": "info",
            "repo": name,
            "version": version,
            "environment": env_name,
            "status": "started",
        });
        ("deploy", data)
    }

    fn deploy_done(&mut self, repo: usize, version: String, env: Env) -> (&'static str, Value) {
        let name = REPOS[repo];
        let env_name = env.name();
        let link = format!("https://example.com/deploys/{env_name}/{name}-v{version}");
        let ok = self.rng.u8(..100) < if env == Env::Staging { 90 } else { 93 };
        let data = match (ok, env) {
            (true, Env::Staging) => {
                self.pending.push_back(FollowUp::DeployStart {
                    repo,
                    version: version.clone(),
                    env: Env::Production,
                });
                json!({
                    "title": format!("{name} v{version} deployed to staging"),
                    "message": format!("{name} v{version} is live on staging and its smoke tests passed."),
                    "link": link,
                    "severity": "info",
                    "repo": name,
                    "version": version,
                    "environment": env_name,
                    "status": "succeeded",
                })
            }
            (true, Env::Production) => {
                let instances = self.rng.u32(3..13);
                json!({
                    "title": format!("{name} v{version} deployed to production"),
                    "message": format!("{name} v{version} is live on production across {instances} instances."),
                    "link": link,
                    "severity": "info",
                    "repo": name,
                    "version": version,
                    "environment": env_name,
                    "status": "succeeded",
                })
            }
            (false, Env::Staging) => json!({
                "title": format!("deploy of {name} v{version} to staging failed"),
                "message": format!("The staging deploy of {name} v{version} failed its health checks, so it will not go to production."),
                "link": link,
                "severity": "warning",
                "repo": name,
                "version": version,
                "environment": env_name,
                "status": "failed",
            }),
            (false, Env::Production) => json!({
                "title": format!("deploy of {name} v{version} to production rolled back"),
                "message": format!("Error rates rose after {name} v{version} reached production, so it was rolled back automatically."),
                "link": link,
                "severity": "critical",
                "repo": name,
                "version": version,
                "environment": env_name,
                "status": "rolled_back",
            }),
        };
        ("deploy", data)
    }

    fn alert_fired(&mut self) -> (&'static str, Value) {
        let metric = self.pick(&[Metric::Cpu, Metric::Disk, Metric::Latency]);
        let host = self.pick(&HOSTS);
        if let Some(index) = self.firing.iter().position(|a| a.metric == metric && a.host == host) {
            // Already firing: this is the moment it clears instead.
            return self.resolve(index);
        }
        let critical = self.rng.u8(..100) < 30;
        let (title, message, value) = match metric {
            Metric::Cpu => {
                let percent = if critical {
                    self.rng.u32(95..100)
                } else {
                    self.rng.u32(85..95)
                };
                (
                    format!("CPU at {percent}% on {host}"),
                    format!("CPU usage on {host} has been above 85% for 5 minutes (now {percent}%)."),
                    format!("{percent}%"),
                )
            }
            Metric::Disk => {
                let percent = if critical {
                    self.rng.u32(95..100)
                } else {
                    self.rng.u32(85..95)
                };
                (
                    format!("disk {percent}% full on {host}"),
                    format!("The data volume on {host} is {percent}% full and still growing."),
                    format!("{percent}%"),
                )
            }
            Metric::Latency => {
                let millis = if critical {
                    self.rng.u32(2000..5000)
                } else {
                    self.rng.u32(800..2000)
                };
                let shown = format!("{:.1} s", f64::from(millis) / 1000.0);
                (
                    format!("p99 latency {shown} on {host}"),
                    format!("The 99th percentile response time on {host} rose to {shown} (target 500 ms)."),
                    shown,
                )
            }
        };
        let alert = Alert { metric, host, critical };
        let data = json!({
            "title": title,
            "message": message,
            "link": alert_link(&alert),
            "severity": if critical { "critical" } else { "warning" },
            "alert": metric_name(metric),
            "host": host,
            "status": "firing",
            "value": value,
        });
        self.firing.push(alert);
        ("alert", data)
    }

    fn alert_resolved(&mut self) -> (&'static str, Value) {
        let index = self.rng.usize(..self.firing.len().max(1));
        self.resolve(index)
    }

    fn resolve(&mut self, index: usize) -> (&'static str, Value) {
        if index >= self.firing.len() {
            return self.build_started();
        }
        let alert = self.firing.remove(index);
        let host = alert.host;
        let minutes = self.rng.u32(2..40);
        let (title, message) = match alert.metric {
            Metric::Cpu => (
                format!("CPU back to normal on {host}"),
                format!("CPU usage on {host} is back under 70% after {minutes} minutes."),
            ),
            Metric::Disk => (
                format!("disk space recovered on {host}"),
                format!(
                    "Old logs were rotated on {host} and the data volume is back under 75% after {minutes} minutes."
                ),
            ),
            Metric::Latency => (
                format!("latency back to normal on {host}"),
                format!("The 99th percentile response time on {host} is back under 500 ms after {minutes} minutes."),
            ),
        };
        let data = json!({
            "title": title,
            "message": message,
            "link": alert_link(&alert),
            "severity": "info",
            "alert": metric_name(alert.metric),
            "host": host,
            "status": "resolved",
            "was": if alert.critical { "critical" } else { "warning" },
        });
        ("alert", data)
    }
}

/// An event's JSON with the fields every client relies on first, in a fixed order, then the details.
#[derive(Serialize)]
struct Payload {
    title: Value,
    message: Value,
    link: Value,
    severity: Value,
    at: String,
    #[serde(flatten)]
    details: Map<String, Value>,
}

/// One line of JSON for an event's `data:`; `at` is the event's time.
fn render(data: Value, at: String) -> String {
    let mut details = match data {
        Value::Object(fields) => fields,
        other => Map::from_iter([("details".to_owned(), other)]),
    };
    let mut take = |field: &str| details.remove(field).unwrap_or(Value::Null);
    let payload = Payload {
        title: take("title"),
        message: take("message"),
        link: take("link"),
        severity: take("severity"),
        at,
        details,
    };
    // Serializing strings and JSON values cannot fail.
    serde_json::to_string(&payload).unwrap_or_else(|_| "{}".to_owned())
}

fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Cpu => "cpu",
        Metric::Disk => "disk",
        Metric::Latency => "latency",
    }
}

fn alert_link(alert: &Alert) -> String {
    format!(
        "https://example.com/monitoring/alerts/{}-{}",
        metric_name(alert.metric),
        alert.host
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(data: &str) -> Value {
        serde_json::from_str(data).expect("valid JSON")
    }

    #[test]
    fn events_have_the_required_fields() {
        let mut world = World::new(7);
        let mut kinds = std::collections::HashSet::new();
        for _ in 0..500 {
            let (kind, data) = world.next_event(SystemTime::now());
            assert!(!data.contains('\n'), "one line: {data}");
            assert!(data.starts_with("{\"title\":"), "title first: {data}");
            kinds.insert(kind);
            let value = parse(&data);
            for field in ["title", "message", "link", "severity", "at"] {
                assert!(value[field].is_string(), "{field} missing in {data}");
            }
            assert!(value["link"].as_str().unwrap().starts_with("https://example.com/"));
            assert!(["info", "warning", "critical"].contains(&value["severity"].as_str().unwrap()));
            humantime::parse_rfc3339(value["at"].as_str().unwrap()).expect("RFC 3339");
        }
        assert_eq!(kinds.len(), 3, "{kinds:?}");
    }

    #[test]
    fn same_seed_same_story() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut a = World::new(42);
        let mut b = World::new(42);
        for _ in 0..50 {
            assert_eq!(a.next_event(now), b.next_event(now));
        }
    }

    fn event(id: u64) -> DemoEvent {
        DemoEvent {
            id,
            kind: "build",
            data: "{}".to_owned(),
        }
    }

    fn ids(events: &VecDeque<Arc<DemoEvent>>) -> Vec<u64> {
        events.iter().map(|e| e.id).collect()
    }

    #[test]
    fn replay_choices() {
        let hub = Hub::new(3);
        for id in 10..=15 {
            hub.publish(event(id));
        }
        let (_, replay, seen) = hub.join(Resume::Fresh);
        assert_eq!((ids(&replay), seen), (vec![15], 15));
        let (_, replay, seen) = hub.join(Resume::After(13));
        assert_eq!((ids(&replay), seen), (vec![14, 15], 15));
        let (_, replay, seen) = hub.join(Resume::After(15));
        assert_eq!((ids(&replay), seen), (vec![], 15));
        let (_, replay, seen) = hub.join(Resume::After(2));
        assert_eq!((ids(&replay), seen), (vec![13, 14, 15], 15));
        let (_, replay, seen) = hub.join(Resume::After(99));
        assert_eq!((ids(&replay), seen), (vec![13, 14, 15], 15));
        let (_, replay, _) = hub.join(Resume::Unreadable);
        assert_eq!(ids(&replay), vec![13, 14, 15]);
    }

    #[test]
    fn zero_history_keeps_nothing() {
        let hub = Hub::new(0);
        hub.publish(event(1));
        let (_, replay, seen) = hub.join(Resume::Unreadable);
        assert_eq!((ids(&replay), seen), (vec![], 0));
    }

    #[test]
    fn last_event_id_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(Resume::from_headers(&headers), Resume::Fresh);
        headers.insert("last-event-id", HeaderValue::from_static(""));
        assert_eq!(Resume::from_headers(&headers), Resume::Fresh);
        headers.insert("last-event-id", HeaderValue::from_static(" 42 "));
        assert_eq!(Resume::from_headers(&headers), Resume::After(42));
        headers.insert("last-event-id", HeaderValue::from_static("abc"));
        assert_eq!(Resume::from_headers(&headers), Resume::Unreadable);
        headers.insert("last-event-id", HeaderValue::from_static("-1"));
        assert_eq!(Resume::from_headers(&headers), Resume::Unreadable);
    }
}
