//! How long to wait before the next connection attempt: exponential backoff with jitter.
//!
//! Pure arithmetic: the caller passes the attempt number and a jitter value in `[0, 1)`, so the policy is
//! tested without waiting or randomness. The supervisor owns the attempt counter and the random source.

use std::time::Duration;

/// The first delay, when the server gave no `retry:`.
pub const INITIAL_DELAY: Duration = Duration::from_secs(1);
/// No exponential delay grows past this.
pub const MAX_DELAY: Duration = Duration::from_secs(5 * 60);
/// A server's `Retry-After` is honoured up to this long (a longer one is most likely a mistake).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// The delay before attempt number `attempt` (1 for the first retry).
///
/// - `reconnection_time` is the server's latest `retry:` value; it replaces [`INITIAL_DELAY`] as the base.
/// - The base doubles with each failed attempt, up to [`MAX_DELAY`].
/// - `jitter` in `[0, 1)` spreads the delay over ±25 % so many clients do not return at the same instant.
/// - A `Retry-After` from the server is a floor: Tidings never comes back sooner than asked.
pub fn delay(
    attempt: u32,
    reconnection_time: Option<Duration>,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Duration {
    let base = reconnection_time.unwrap_or(INITIAL_DELAY);
    let doublings = attempt.saturating_sub(1).min(20);
    let exponential = base.saturating_mul(1 << doublings).min(MAX_DELAY);
    let spread = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    let jittered = exponential.mul_f64(spread).min(MAX_DELAY);
    match retry_after {
        Some(asked) => jittered.max(asked.min(MAX_RETRY_AFTER)),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIDDLE: f64 = 0.5;

    #[test]
    fn doubles_from_one_second_up_to_five_minutes() {
        let delays: Vec<u64> = (1..=12).map(|n| delay(n, None, None, MIDDLE).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    }

    #[test]
    fn jitter_spreads_a_quarter_each_way_but_never_past_the_cap() {
        assert_eq!(delay(3, None, None, 0.0), Duration::from_secs(3));
        assert_eq!(delay(3, None, None, 0.999_999).as_millis(), 4_999);
        assert_eq!(delay(30, None, None, 0.999), MAX_DELAY);
    }

    #[test]
    fn the_servers_retry_field_sets_the_base() {
        let retry = Some(Duration::from_millis(200));
        assert_eq!(delay(1, retry, None, MIDDLE), Duration::from_millis(200));
        assert_eq!(delay(4, retry, None, MIDDLE), Duration::from_millis(1600));
    }

    #[test]
    fn retry_after_is_a_floor_within_reason() {
        let asked = Some(Duration::from_secs(120));
        assert_eq!(delay(1, None, asked, MIDDLE), Duration::from_secs(120));
        let absurd = Some(Duration::from_secs(7 * 24 * 3600));
        assert_eq!(delay(1, None, absurd, MIDDLE), MAX_RETRY_AFTER);
    }
}
