//! Searching the stored events as the UI's search box does: `Engine::events` (what the `list_events` command
//! calls) with the typed text and the UI's page size, so without IPC.

use std::path::Path;
use std::time::{Duration, Instant};

use tidings::Engine;
use tidings::store::events::EventQuery;

/// What people type: common and rare words, two-word searches, a number, and a word that matches nothing.
pub const QUERIES: &[&str] = &[
    "failed",
    "web failed",
    "deploy billing",
    "runner-7",
    "4242",
    "timed out",
    "worker cancelled",
    "alert auth flaky",
    "bui",
    "nothing-matches-this",
];
/// The UI's page size (`Dashboard.pageSize`).
pub const PAGE: usize = 200;

/// Every query `rounds` times (after one round to warm up); each search's time.
pub fn run(dir: &Path, rounds: usize) -> Result<Vec<Duration>, String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let engine = Engine::open(dir).map_err(|e| e.to_string())?;
        let mut times = Vec::new();
        for round in 0..=rounds {
            for query in QUERIES {
                let query = EventQuery {
                    search: Some(query.to_string()),
                    limit: PAGE,
                    ..EventQuery::default()
                };
                let started = Instant::now();
                let found = engine.events(query).await.map_err(|e| e.to_string())?;
                std::hint::black_box(found);
                if round > 0 {
                    times.push(started.elapsed());
                }
            }
        }
        Ok(times)
    })
}
