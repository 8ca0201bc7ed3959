/**
 * A feed's state as one line of text, the same words as the CLI's `tidings feed list`
 * (`FeedState::describe` in `src/feed.rs`): `live`, `retrying in 8 s (attempt 3): connection refused`…
 * The clock is a parameter, so the countdown is testable and the caller decides how often to tick.
 */
import type { FeedState, FeedStatus } from '$lib/bindings';
import { clockTime } from '$lib/time';

export function describeState(state: FeedState, nowMs: number): string {
  switch (state.kind) {
    case 'idle':
      return 'idle';
    case 'connecting':
      return state.attempt === 0 ? 'connecting' : `connecting (attempt ${state.attempt + 1})`;
    case 'live':
      return 'live';
    case 'retrying': {
      const secs = Math.ceil(Math.max(0, state.next_try_ms - nowMs) / 1000);
      return `retrying in ${secs} s (attempt ${state.attempt}): ${state.last_error}`;
    }
    case 'stopped':
      return `stopped: ${state.reason}`;
    case 'failed':
      return `failed: ${state.reason}`;
    case 'paused':
      return 'paused';
  }
}

/**
 * Whether the feed's notifications are quiet, to show next to its state: `muted`,
 * `snoozed until 14:30`, both, or null. A snooze that has ended is not shown.
 */
export function describeQuiet(
  feed: Pick<FeedStatus, 'muted' | 'snoozed_until_ms'>,
  nowMs: number,
): string | null {
  const parts: string[] = [];
  if (feed.muted) parts.push('muted');
  if (feed.snoozed_until_ms !== null && feed.snoozed_until_ms > nowMs) {
    parts.push(`snoozed until ${clockTime(feed.snoozed_until_ms)}`);
  }
  return parts.length > 0 ? parts.join(', ') : null;
}

/** How the state looks: a colour family for its dot. */
export type StateTone = 'ok' | 'busy' | 'warn' | 'error' | 'off';

export function stateTone(state: FeedState): StateTone {
  switch (state.kind) {
    case 'live':
      return 'ok';
    case 'connecting':
      return 'busy';
    case 'retrying':
    case 'stopped':
      return 'warn';
    case 'failed':
      return 'error';
    case 'idle':
    case 'paused':
      return 'off';
  }
}

/** Paused, stopped and failed feeds wait for the user: they offer Resume instead of Pause. */
export function waitsForUser(state: FeedState): boolean {
  return state.kind === 'paused' || state.kind === 'stopped' || state.kind === 'failed';
}
