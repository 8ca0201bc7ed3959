import { describe, expect, it } from 'vitest';
import type { FeedState } from '$lib/bindings';
import { describeQuiet, describeState, stateTone, waitsForUser } from './feedState';

const NOW = 1_700_000_000_000;

describe('describeState', () => {
  const cases: [string, FeedState, string][] = [
    ['idle', { kind: 'idle' }, 'idle'],
    ['connecting, first try', { kind: 'connecting', attempt: 0 }, 'connecting'],
    ['connecting after failures', { kind: 'connecting', attempt: 2 }, 'connecting (attempt 3)'],
    ['live', { kind: 'live', since_ms: NOW - 5000 }, 'live'],
    [
      'retrying, rounds the wait up',
      { kind: 'retrying', attempt: 3, next_try_ms: NOW + 7_001, last_error: 'connection refused' },
      'retrying in 8 s (attempt 3): connection refused',
    ],
    [
      'retrying, exact seconds',
      { kind: 'retrying', attempt: 1, next_try_ms: NOW + 2_000, last_error: 'timed out' },
      'retrying in 2 s (attempt 1): timed out',
    ],
    [
      'retrying, overdue never goes negative',
      { kind: 'retrying', attempt: 5, next_try_ms: NOW - 3_000, last_error: 'HTTP 503' },
      'retrying in 0 s (attempt 5): HTTP 503',
    ],
    [
      'stopped',
      { kind: 'stopped', reason: 'the server ended the feed (HTTP 204)' },
      'stopped: the server ended the feed (HTTP 204)',
    ],
    [
      'failed',
      { kind: 'failed', reason: 'server answered text/html' },
      'failed: server answered text/html',
    ],
    ['paused', { kind: 'paused' }, 'paused'],
  ];

  it.each(cases)('%s', (_, state, text) => {
    expect(describeState(state, NOW)).toBe(text);
  });

  it('counts down as the clock moves (the core example: 2001 ms → 8 s)', () => {
    const state: FeedState = {
      kind: 'retrying',
      attempt: 3,
      next_try_ms: 10_000,
      last_error: 'connection refused',
    };
    expect(describeState(state, 2_001)).toBe('retrying in 8 s (attempt 3): connection refused');
    expect(describeState(state, 9_500)).toBe('retrying in 1 s (attempt 3): connection refused');
  });
});

describe('state tone and actions', () => {
  it('offers Resume exactly for the states that wait for the user', () => {
    const waiting = (s: FeedState) => waitsForUser(s);
    expect(waiting({ kind: 'paused' })).toBe(true);
    expect(waiting({ kind: 'stopped', reason: 'x' })).toBe(true);
    expect(waiting({ kind: 'failed', reason: 'x' })).toBe(true);
    expect(waiting({ kind: 'live', since_ms: 0 })).toBe(false);
    expect(waiting({ kind: 'retrying', attempt: 1, next_try_ms: 0, last_error: 'x' })).toBe(false);
    expect(waiting({ kind: 'connecting', attempt: 0 })).toBe(false);
    expect(waiting({ kind: 'idle' })).toBe(false);
  });

  it('colours failures as errors and live as ok', () => {
    expect(stateTone({ kind: 'live', since_ms: 0 })).toBe('ok');
    expect(stateTone({ kind: 'failed', reason: 'x' })).toBe('error');
    expect(stateTone({ kind: 'paused' })).toBe('off');
  });
});

describe('describeQuiet', () => {
  it('says muted and until when a feed is snoozed', () => {
    const at = new Date(NOW);
    at.setHours(14, 5, 0, 0);
    const until = at.getTime() > NOW ? at.getTime() : at.getTime() + 86_400_000;
    expect(describeQuiet({ muted: false, snoozed_until_ms: null }, NOW)).toBeNull();
    expect(describeQuiet({ muted: true, snoozed_until_ms: null }, NOW)).toBe('muted');
    expect(describeQuiet({ muted: false, snoozed_until_ms: until }, NOW)).toBe(
      'snoozed until 14:05',
    );
    expect(describeQuiet({ muted: false, snoozed_until_ms: NOW - 1 }, NOW)).toBeNull();
  });
});
