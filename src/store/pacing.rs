//! When the writer extends the full-text index: in its quiet moments, not between the parts of a flood.
//!
//! The index is written behind the events (`super::fts`), by the writer, one small batch at a time. In a
//! flood the next part of a burst is a few milliseconds away whenever the writer's queue runs dry, and a
//! batch indexed in that gap delays it: the flood is stored more slowly for work that can wait, since search
//! also finds what is not indexed yet. So after a write the writer waits a little for more before indexing.
//! So that a feed writing just often enough to keep that wait from ending cannot starve the index, a batch is
//! indexed at least once in a while regardless.

use std::time::{Duration, Instant};

/// After a write, wait this long for more to write before indexing.
pub(crate) const QUIET: Duration = Duration::from_millis(10);
/// While writes keep coming, still index one batch this often.
pub(crate) const INDEX_AT_LEAST_EVERY: Duration = Duration::from_secs(1);

/// The writer's record of when it last wrote and last indexed.
#[derive(Debug, Clone)]
pub(crate) struct IndexPacing {
    quiet: Duration,
    at_least_every: Duration,
    last_write: Option<Instant>,
    last_index: Instant,
}

impl IndexPacing {
    /// Wait `quiet` after a write before indexing, but index at least every `at_least_every`.
    pub(crate) fn new(quiet: Duration, at_least_every: Duration, now: Instant) -> Self {
        IndexPacing {
            quiet,
            at_least_every,
            last_write: None,
            last_index: now,
        }
    }

    /// A write transaction ended at `now`.
    pub(crate) fn wrote(&mut self, now: Instant) {
        self.last_write = Some(now);
    }

    /// A batch was indexed at `now`.
    pub(crate) fn indexed(&mut self, now: Instant) {
        self.last_index = now;
    }

    /// How long to wait for something to write before indexing the next batch (zero: index now).
    pub(crate) fn wait_before_indexing(&self, now: Instant) -> Duration {
        if now.saturating_duration_since(self.last_index) >= self.at_least_every {
            return Duration::ZERO;
        }
        self.last_write.map_or(Duration::ZERO, |wrote| {
            self.quiet.saturating_sub(now.saturating_duration_since(wrote))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn indexing_waits_for_a_quiet_moment_after_a_write() {
        let start = Instant::now();
        let mut pacing = IndexPacing::new(10 * MS, 1000 * MS, start);
        assert_eq!(
            pacing.wait_before_indexing(start),
            Duration::ZERO,
            "nothing written yet"
        );
        pacing.wrote(start + 5 * MS);
        assert_eq!(pacing.wait_before_indexing(start + 5 * MS), 10 * MS);
        assert_eq!(pacing.wait_before_indexing(start + 12 * MS), 3 * MS);
        assert_eq!(pacing.wait_before_indexing(start + 15 * MS), Duration::ZERO);
        // Once quiet, batch after batch goes on without waiting.
        pacing.indexed(start + 16 * MS);
        assert_eq!(pacing.wait_before_indexing(start + 17 * MS), Duration::ZERO);
    }

    #[test]
    fn writes_that_never_pause_still_let_a_batch_be_indexed_now_and_then() {
        let start = Instant::now();
        let mut pacing = IndexPacing::new(10 * MS, 1000 * MS, start);
        let mut indexed_at = Vec::new();
        // A write every 5 ms for three seconds: never quiet for 10 ms.
        for tick in 0..600u32 {
            let now = start + tick * 5 * MS;
            pacing.wrote(now);
            if pacing.wait_before_indexing(now + MS).is_zero() {
                pacing.indexed(now + MS);
                indexed_at.push(tick);
            }
        }
        assert_eq!(indexed_at, [200, 400], "one batch a second");
    }
}
