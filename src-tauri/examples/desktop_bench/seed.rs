//! A data directory like a long-time user's: feeds following the local source, with events stored through
//! the core (the engine adds the feeds; the store's writer commits the events in bursts, as when following).

use std::path::Path;

use tidings::store::events::NewEvent;
use tidings::store::writer;
use tidings::{Engine, FeedSpec};

const REPOS: &[&str] = &["api", "web", "worker", "billing", "search", "auth", "mobile", "infra"];
const OUTCOMES: &[&str] = &["passed", "failed", "cancelled", "deployed", "timed out", "flaky"];
const KINDS: &[&str] = &["build", "deploy", "alert", "message"];
const BURST: u64 = 100;

/// Add `feeds` feeds on `source` and store `events` events spread over them, in bursts of [`BURST`].
pub fn seed(dir: &Path, source: &str, feeds: u64, events: u64) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let engine = Engine::open(dir).map_err(|e| e.to_string())?;
        let mut ids = Vec::new();
        for i in 0..feeds {
            let spec = FeedSpec {
                url: format!("{source}/sse?feed={i}"),
                name: Some(format!("feed-{i:03}")),
                ..FeedSpec::default()
            };
            ids.push(engine.add_feed(spec).await.map_err(|e| e.to_string())?.id);
        }
        let (handle, thread) = writer::spawn(engine.store().path()).map_err(|e| e.to_string())?;
        let per_feed = events / feeds;
        let mut n = 0;
        for round in 0..per_feed.div_ceil(BURST) {
            for &feed_id in &ids {
                let first = round * BURST + 1;
                let last = ((round + 1) * BURST).min(per_feed);
                let burst: Vec<NewEvent> = (first..=last)
                    .map(|id| {
                        n += 1;
                        event(id, n)
                    })
                    .collect();
                handle
                    .write_burst(feed_id, 0, burst, Some(last.to_string()))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        drop(handle);
        thread.join();
        Ok(())
    })
}

/// The `n`th event overall, with id `id` in its feed: ~120 bytes of JSON and a title and body to search.
fn event(id: u64, n: u64) -> NewEvent {
    let pick = |list: &[&'static str], salt: u64| list[((n * 2_654_435_761 + salt) % list.len() as u64) as usize];
    let (repo, outcome, kind) = (pick(REPOS, 1), pick(OUTCOMES, 7), pick(KINDS, 13));
    let runner = n % 37;
    let title = format!("{kind} #{n} of {repo} {outcome}");
    let body = format!("on runner-{runner}, took {}m {}s", n % 17, n % 60);
    NewEvent {
        event_id: Some(id.to_string()),
        id_in_block: true,
        event_type: kind.into(),
        data: format!(
            r#"{{"n":{n},"repo":"{repo}","status":"{outcome}","title":"{title}","runner":"runner-{runner}"}}"#
        ),
        title,
        body,
        link: None,
        urgency: Default::default(),
        received_ms: 1_700_000_000_000 + n as i64 * 1000,
        notify: false,
    }
}
