//! Deciding which notifications to raise for newly stored events, so a burst never becomes a flood.
//!
//! - Catch-up (the first events of a new connection, or events left unnotified by a crash): gathered per
//!   feed until they stop coming for a moment, then raised one by one if few, or as ONE summary
//!   ("12 new events in builds") if at least the threshold.
//! - Live: each event is raised at once, unless the feed already raised `threshold` notifications within the
//!   window; the rest fold into one summary raised when the window has passed. Many events stored at once
//!   are summarised at once.
//!
//! Pure logic: the caller passes the time in and sleeps until [`Folder::next_deadline`].

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use super::Notification;
use crate::store::events::StoredEvent;

/// When to fold.
#[derive(Debug, Clone)]
pub struct FoldPolicy {
    /// This many events (at once, or within `window`) make a summary instead of single notifications.
    pub threshold: usize,
    /// The span over which live notifications are counted.
    pub window: Duration,
    /// Catch-up gathering ends after this long without a new event…
    pub gather_quiet: Duration,
    /// …or this long after it began, whichever comes first.
    pub gather_max: Duration,
    /// While a backlog is drained (bursts of several events), the gather waits for the next burst four times
    /// as long as the last one took to store (at least `gather_max`), but never longer than this.
    pub drain_gap_max: Duration,
}

impl Default for FoldPolicy {
    fn default() -> Self {
        FoldPolicy {
            threshold: 5,
            window: Duration::from_secs(10),
            gather_quiet: Duration::from_millis(300),
            gather_max: Duration::from_secs(3),
            drain_gap_max: Duration::from_secs(30),
        }
    }
}

/// The folding state of every feed.
pub struct Folder {
    policy: FoldPolicy,
    feeds: HashMap<i64, FeedFold>,
}

#[derive(Default)]
struct FeedFold {
    /// This feed's own limit (notifications, window), when it has one.
    limit: Option<(usize, Duration)>,
    /// When each recent notification of this feed was raised.
    raised: VecDeque<Instant>,
    gathering: Vec<StoredEvent>,
    gather_started: Option<Instant>,
    gather_until: Option<Instant>,
    folded: Vec<StoredEvent>,
    fold_until: Option<Instant>,
}

impl Folder {
    pub fn new(policy: FoldPolicy) -> Folder {
        Folder {
            policy: FoldPolicy {
                threshold: policy.threshold.max(1),
                ..policy
            },
            feeds: HashMap::new(),
        }
    }

    /// Events were stored. `catch_up` marks events that may be a backlog rather than live; `rate_limit` is
    /// the feed's own limit of notifications a minute (instead of the threshold within the window);
    /// `drain_gap`, while a backlog is being drained, is how long these events took to store.
    pub fn arrive(
        &mut self,
        now: Instant,
        events: Vec<StoredEvent>,
        catch_up: bool,
        rate_limit: Option<u32>,
        drain_gap: Option<Duration>,
    ) -> Vec<Notification> {
        let mut out = Vec::new();
        for (feed_id, group) in group_by_feed(events) {
            let fold = self.feeds.entry(feed_id).or_default();
            fold.limit = rate_limit.map(|n| (n.max(1) as usize, Duration::from_secs(60)));
            let (threshold, window) = fold.limit.unwrap_or((self.policy.threshold, self.policy.window));
            let policy = FoldPolicy {
                threshold,
                window,
                ..self.policy.clone()
            };
            let policy = &policy;
            if catch_up || !fold.gathering.is_empty() {
                let started = *fold.gather_started.get_or_insert(now);
                // A backlog still being drained keeps the gather open past its maximum, waiting for the next
                // burst `gather_max`, or four times as long as this one took to store if longer (the next one
                // is bigger, and a database merge can take seconds): a slow catch-up is still one summary.
                fold.gather_until = Some(match drain_gap.filter(|_| catch_up) {
                    Some(gap) => now + (gap * 4).clamp(policy.gather_max, policy.drain_gap_max),
                    None => (now + policy.gather_quiet).min(started + policy.gather_max),
                });
                fold.gathering.extend(group);
                continue;
            }
            while fold
                .raised
                .front()
                .is_some_and(|t| now.duration_since(*t) >= policy.window)
            {
                fold.raised.pop_front();
            }
            if group.len() >= policy.threshold {
                out.push(summary(&group, ""));
                fold.raised.push_back(now);
                continue;
            }
            for event in group {
                if fold.folded.is_empty() && fold.raised.len() < policy.threshold {
                    out.push(single(&event));
                    fold.raised.push_back(now);
                } else {
                    fold.fold_until.get_or_insert(now + policy.window);
                    fold.folded.push(event);
                }
            }
        }
        out
    }

    /// Raise what has waited long enough.
    pub fn due(&mut self, now: Instant) -> Vec<Notification> {
        let mut out = Vec::new();
        for fold in self.feeds.values_mut() {
            let threshold = fold.limit.map_or(self.policy.threshold, |(n, _)| n);
            if fold.gather_until.is_some_and(|until| until <= now) {
                let gathered = std::mem::take(&mut fold.gathering);
                fold.gather_started = None;
                fold.gather_until = None;
                if gathered.len() >= threshold {
                    out.push(summary(&gathered, ""));
                    fold.raised.push_back(now);
                } else {
                    for event in &gathered {
                        out.push(single(event));
                        fold.raised.push_back(now);
                    }
                }
            }
            if fold.fold_until.is_some_and(|until| until <= now) {
                let folded = std::mem::take(&mut fold.folded);
                fold.fold_until = None;
                match folded.as_slice() {
                    [] => {}
                    [one] => out.push(single(one)),
                    many => out.push(summary(many, "more ")),
                }
                fold.raised.push_back(now);
            }
        }
        self.feeds
            .retain(|_, fold| !fold.raised.is_empty() || !fold.gathering.is_empty() || !fold.folded.is_empty());
        out
    }

    /// When [`Folder::due`] next has something to raise.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.feeds
            .values()
            .flat_map(|fold| [fold.gather_until, fold.fold_until])
            .flatten()
            .min()
    }

    /// Forget raised-notification history older than the window (keeps memory flat on long runs).
    pub fn forget_old(&mut self, now: Instant) {
        for fold in self.feeds.values_mut() {
            let window = fold.limit.map_or(self.policy.window, |(_, window)| window);
            while fold.raised.front().is_some_and(|t| now.duration_since(*t) >= window) {
                fold.raised.pop_front();
            }
        }
        self.feeds
            .retain(|_, fold| !fold.raised.is_empty() || !fold.gathering.is_empty() || !fold.folded.is_empty());
    }
}

fn group_by_feed(events: Vec<StoredEvent>) -> Vec<(i64, Vec<StoredEvent>)> {
    let mut groups: Vec<(i64, Vec<StoredEvent>)> = Vec::new();
    for event in events {
        match groups.iter_mut().find(|(id, _)| *id == event.feed_id) {
            Some((_, group)) => group.push(event),
            None => groups.push((event.feed_id, vec![event])),
        }
    }
    groups
}

fn single(event: &StoredEvent) -> Notification {
    Notification {
        feed_id: event.feed_id,
        summary: event.title.clone(),
        body: event.body.clone(),
        link: event.link.clone(),
        urgency: event.urgency,
        seqs: vec![event.seq],
    }
}

/// "12 new events in builds", with the latest titles as the body.
fn summary(events: &[StoredEvent], more: &str) -> Notification {
    let feed = events.first().map(|e| e.feed.as_str()).unwrap_or("a feed");
    const SHOWN: usize = 3;
    let mut lines: Vec<&str> = events.iter().rev().take(SHOWN).map(|e| e.title.as_str()).collect();
    let rest = events.len().saturating_sub(SHOWN);
    let and_more = format!("and {rest} more");
    if rest > 0 {
        lines.push(&and_more);
    }
    Notification {
        feed_id: events.first().map(|e| e.feed_id).unwrap_or_default(),
        summary: format!("{} {more}new events in {feed}", events.len()),
        body: lines.join("\n"),
        link: None,
        urgency: events.iter().map(|e| e.urgency).max().unwrap_or_default(),
        seqs: events.iter().map(|e| e.seq).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(feed_id: i64, seq: i64) -> StoredEvent {
        StoredEvent {
            seq,
            feed_id,
            feed: format!("feed{feed_id}"),
            event_id: Some(seq.to_string()),
            event_type: "message".into(),
            data: String::new(),
            title: format!("event {seq}"),
            body: String::new(),
            link: None,
            urgency: Default::default(),
            received_ms: 0,
            read: false,
        }
    }

    fn events(feed_id: i64, seqs: std::ops::Range<i64>) -> Vec<StoredEvent> {
        seqs.map(|seq| event(feed_id, seq)).collect()
    }

    fn summaries(out: &[Notification]) -> Vec<&str> {
        out.iter().map(|n| n.summary.as_str()).collect()
    }

    #[test]
    fn live_events_are_raised_at_once_one_by_one() {
        let mut folder = Folder::new(FoldPolicy::default());
        let t0 = Instant::now();
        let out = folder.arrive(t0, events(1, 1..3), false, None, None);
        assert_eq!(summaries(&out), ["event 1", "event 2"]);
        assert_eq!(folder.next_deadline(), None);
    }

    #[test]
    fn many_events_stored_at_once_become_one_summary() {
        let mut folder = Folder::new(FoldPolicy::default());
        let out = folder.arrive(Instant::now(), events(1, 1..13), false, None, None);
        assert_eq!(summaries(&out), ["12 new events in feed1"]);
        assert_eq!(out[0].body, "event 12\nevent 11\nevent 10\nand 9 more");
        assert_eq!(out[0].seqs.len(), 12);
    }

    #[test]
    fn a_flood_folds_past_the_threshold_and_the_rest_comes_as_one_summary_after_the_window() {
        let policy = FoldPolicy::default();
        let mut folder = Folder::new(policy.clone());
        let t0 = Instant::now();
        let mut raised = Vec::new();
        for seq in 1..=20 {
            let at = t0 + Duration::from_millis(seq as u64 * 10);
            raised.extend(folder.arrive(at, vec![event(1, seq)], false, None, None));
        }
        assert_eq!(
            summaries(&raised),
            ["event 1", "event 2", "event 3", "event 4", "event 5"]
        );
        let deadline = folder.next_deadline().unwrap();
        assert!(folder.due(deadline - Duration::from_millis(1)).is_empty());
        let out = folder.due(deadline);
        assert_eq!(summaries(&out), ["15 more new events in feed1"]);
        assert_eq!(out[0].seqs, (6..=20).collect::<Vec<_>>());
    }

    #[test]
    fn catch_up_is_gathered_across_bursts_into_one_summary() {
        let mut folder = Folder::new(FoldPolicy::default());
        let t0 = Instant::now();
        assert!(folder.arrive(t0, events(1, 1..4), true, None, None).is_empty());
        let t1 = t0 + Duration::from_millis(100);
        assert!(
            folder.arrive(t1, events(1, 4..13), false, None, None).is_empty(),
            "a gather in progress keeps gathering"
        );
        assert_eq!(folder.next_deadline(), Some(t1 + Duration::from_millis(300)));
        let out = folder.due(t1 + Duration::from_millis(300));
        assert_eq!(summaries(&out), ["12 new events in feed1"]);
    }

    #[test]
    fn a_backlog_drained_for_longer_than_the_maximum_is_still_one_summary() {
        let policy = FoldPolicy::default();
        let mut folder = Folder::new(policy.clone());
        let t0 = Instant::now();
        let mut at = t0;
        let mut seq = 1;
        // Bursts of 100 events, each taking 1 s to store (a slow disk), for twice the maximum gather.
        while at < t0 + policy.gather_max * 2 {
            let drained = events(1, seq..seq + 100);
            assert!(
                folder
                    .arrive(at, drained, true, None, Some(Duration::from_secs(1)))
                    .is_empty()
            );
            assert!(
                folder.due(at + Duration::from_millis(999)).is_empty(),
                "the gap is expected"
            );
            seq += 100;
            at += Duration::from_secs(1);
        }
        let out = folder.due(folder.next_deadline().unwrap());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].seqs.len(), (seq - 1) as usize);
    }

    #[test]
    fn a_small_catch_up_is_raised_one_by_one() {
        let mut folder = Folder::new(FoldPolicy::default());
        let t0 = Instant::now();
        folder.arrive(t0, events(1, 1..3), true, None, None);
        let out = folder.due(folder.next_deadline().unwrap());
        assert_eq!(summaries(&out), ["event 1", "event 2"]);
    }

    #[test]
    fn a_gather_that_never_goes_quiet_still_ends_at_its_maximum() {
        let policy = FoldPolicy::default();
        let mut folder = Folder::new(policy.clone());
        let t0 = Instant::now();
        let mut at = t0;
        while at < t0 + policy.gather_max {
            folder.arrive(at, vec![event(1, 1)], true, None, None);
            at += Duration::from_millis(100);
        }
        assert_eq!(folder.next_deadline(), Some(t0 + policy.gather_max));
    }

    #[test]
    fn a_feeds_own_rate_limit_counts_a_minute() {
        let mut folder = Folder::new(FoldPolicy::default());
        let t0 = Instant::now();
        let mut raised = Vec::new();
        for seq in 1..=4 {
            let at = t0 + Duration::from_secs(seq as u64 * 15 - 15);
            raised.extend(folder.arrive(at, vec![event(1, seq)], false, Some(2), None));
        }
        assert_eq!(
            summaries(&raised),
            ["event 1", "event 2"],
            "past 2 a minute, the rest fold"
        );
        let out = folder.due(t0 + Duration::from_secs(90));
        assert_eq!(summaries(&out), ["2 more new events in feed1"]);
    }

    #[test]
    fn feeds_fold_separately() {
        let mut folder = Folder::new(FoldPolicy::default());
        let t0 = Instant::now();
        let mut mixed = events(1, 1..8);
        mixed.push(event(2, 100));
        let out = folder.arrive(t0, mixed, false, None, None);
        assert_eq!(summaries(&out), ["7 new events in feed1", "event 100"]);
    }
}
