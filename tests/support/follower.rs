//! An engine following feeds in-process for a test: its own data directory, notifications off, and helpers
//! to wait for stored events and feed states with a deadline.

#![allow(dead_code)]

use std::time::Duration;

use tidings::feed::FeedSpec;
use tidings::sse::connection::Limits;
use tidings::store::events::EventQuery;
use tidings::{Engine, FeedState, FollowOptions, Following};

use super::wait_until;

const WAIT: Duration = Duration::from_secs(15);

pub struct Follower {
    pub engine: Engine,
    following: Option<Following>,
    _dir: tempfile::TempDir,
}

impl Follower {
    pub async fn start(limits: Limits) -> Follower {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let options = FollowOptions {
            notifications: false,
            limits,
            ..FollowOptions::default()
        };
        let following = engine.follow(options).await.unwrap();
        Follower {
            engine,
            following: Some(following),
            _dir: dir,
        }
    }

    /// Add a feed named `feed` at `url`, with a stall timeout if given.
    pub async fn add(&self, url: &str, stall: Option<Duration>) {
        self.add_spec(FeedSpec {
            url: url.into(),
            stall_timeout: stall,
            ..FeedSpec::default()
        })
        .await;
    }

    /// Add a feed as specified; its name defaults to `feed`. Its secrets stay in the database: these tests
    /// must never reach the keyring of whoever runs them (tests/secrets.rs starts a keyring of its own).
    pub async fn add_spec(&self, mut spec: FeedSpec) {
        spec.name.get_or_insert_with(|| "feed".into());
        spec.plaintext_secrets = true;
        self.engine.add_feed(spec).await.unwrap();
    }

    /// (event id, data) of every stored event, oldest first.
    pub fn stored(&self) -> Vec<(Option<String>, String)> {
        let query = EventQuery {
            limit: 10_000,
            ..EventQuery::default()
        };
        let mut events = self.engine.store().events(&query).unwrap();
        events.reverse();
        events.into_iter().map(|e| (e.event_id, e.data)).collect()
    }

    pub async fn wait_stored(&self, n: usize) -> Vec<(Option<String>, String)> {
        wait_until(WAIT, &format!("{n} stored events"), || {
            let stored = self.stored();
            (stored.len() >= n).then_some(stored)
        })
        .await
    }

    /// Wait until the (first) feed's state is `label`, and return it.
    pub async fn wait_state(&self, label: &str) -> FeedState {
        let mut last = None;
        let found = tokio::time::timeout(WAIT, async {
            loop {
                let feeds = self.engine.feeds().await.unwrap();
                if let Some(feed) = feeds.first() {
                    if feed.state.label() == label {
                        return feed.state.clone();
                    }
                    last = Some(feed.state.clone());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("the feed never became {label}; last state {last:?}"))
    }

    pub async fn stop(mut self) {
        if let Some(following) = self.following.take() {
            following.shutdown().await;
        }
    }
}

/// The ids of stored events, `-` for none.
pub fn ids(stored: &[(Option<String>, String)]) -> Vec<&str> {
    stored.iter().map(|(id, _)| id.as_deref().unwrap_or("-")).collect()
}
