/**
 * An in-memory backend that behaves like the Rust core behind the shell, closely enough to develop
 * and test the UI without it: feed names, validation messages and error codes mirror
 * `src/feed.rs` and `src/error.rs`; listing and search follow `src/store/events.rs` (newest first,
 * `before_seq` paging, every search word a prefix); changes are batched like the shell's `changes`
 * event. Results are deep copies, as if they had crossed IPC.
 *
 * With `live: true` (the browser), feeds connect, retry and produce events on timers. Tests leave it
 * off and drive everything through the helpers at the end (`storeEvents`, `setFeedState`, `flush`…).
 */
import type {
  Change,
  CommandError,
  EventQuery,
  FeedInput,
  FeedKind,
  FeedState,
  FeedStatus,
  Probe,
  ProbeEvent,
  StoredEvent,
} from '$lib/bindings';
import type { Backend, PaintStage, Unsubscribe } from './backend';
import { demoPayload, genericPayload, Random, type Payload } from './demo-data';

export interface FakeOptions {
  /** Simulate connections and live events with timers (default false). */
  live?: boolean;
  /** Changes within this many ms go out as one batch (default 100, like the shell). */
  batchMs?: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
  /** Seed for the made-up content (default 1). */
  seed?: number;
}

interface FakeFeed {
  id: number;
  name: string;
  url: string;
  headers: string[];
  state: FeedState;
  lastEventId: string | null;
  /** Events produced so far, to number the next one. */
  produced: number;
  /** When the simulation next does something for this feed (live mode). */
  dueMs: number;
  demo: boolean;
}

/** One recorded call, so tests can see what the UI asked for. */
export interface FakeCall {
  command: string;
  args: unknown;
}

/** A new event for `storeEvents`: anything left out is filled in. */
export type NewFakeEvent = Partial<Omit<StoredEvent, 'seq' | 'feed_id' | 'feed' | 'read'>>;

const DEFAULT_LIMIT = 50;
const PROBE_EVENTS = 5;
const TICK_MS = 250;

function fail(code: string, message: string): CommandError {
  return { code, message };
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

/** The feed's protocol from its URL's scheme, as `FeedSpec::validate` picks it; null if neither. */
function kindOf(url: string): FeedKind | null {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') return 'sse';
  if (scheme === 'ws' || scheme === 'wss') return 'websocket';
  return null;
}

/** `src/feed.rs`'s `parse_feed_url` and scheme check. */
function validateUrl(text: string): string {
  const url = text.trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail(
      'invalid_url',
      `invalid feed URL \`${url}\`: it has no scheme; write the whole URL, e.g. https://example.com/events`,
    );
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (kindOf(url) === null) {
    throw fail(
      'invalid_url',
      `invalid feed URL \`${url}\`: the scheme \`${scheme}\` is not supported; use http:// or https:// for an event stream, ws:// or wss:// for a WebSocket`,
    );
  }
  if (!parsed.hostname) {
    throw fail('invalid_url', `invalid feed URL \`${url}\`: it names no host`);
  }
  return url;
}

function validateName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw fail('invalid_name', `invalid feed name \`${name}\`: it is empty`);
  if ([...trimmed].length > 64) {
    throw fail('invalid_name', `invalid feed name \`${name}\`: it is longer than 64 characters`);
  }
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw fail('invalid_name', `invalid feed name \`${name}\`: it contains control characters`);
  }
  return trimmed;
}

function nameFromUrl(url: string): string {
  const parsed = new URL(url);
  const last = parsed.pathname.split('/').filter((s) => s !== '');
  const segment = last[last.length - 1];
  const name = segment ? `${parsed.hostname}/${segment}` : parsed.hostname;
  return [...name].slice(0, 64).join('');
}

/** The placeholder feed statuses show for a credential's value (`tidings::portable::SECRET`). */
export const SECRET = '<secret>';

/** `src/feed.rs`'s `is_sensitive_header`: header names whose values are credentials. */
function isSensitiveHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return ['auth', 'cookie', 'token', 'secret', 'key', 'password', 'session'].some((word) =>
    lower.includes(word),
  );
}

/** A saved header as a status shows it: `Name: <secret>` for credentials. */
function shownHeader(line: string): string {
  const colon = line.indexOf(':');
  const name = line.slice(0, colon).trim();
  return isSensitiveHeader(name) ? `${name}: ${SECRET}` : line;
}

/** The engine's `edit_feed`: a header sent back as `Name: <secret>` keeps its saved value. */
function keepSecrets(headers: string[], saved: string[]): string[] {
  return headers.map((line) => {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(colon + 1).trim() !== SECRET) return line;
    const name = line.slice(0, colon).trim().toLowerCase();
    const kept = saved.find((s) => s.slice(0, s.indexOf(':')).trim().toLowerCase() === name);
    if (kept === undefined) {
      throw fail(
        'invalid_header',
        `invalid header \`${line}\`: there is no saved value to keep; type the value`,
      );
    }
    return kept;
  });
}

function validateHeaders(headers: string[]): string[] {
  return headers.map((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0 || line.slice(0, colon).trim() === '') {
      throw fail('invalid_header', `invalid header \`${line}\`: write it as \`Name: value\``);
    }
    return line;
  });
}

/** FTS-like matching: every word of the query must start some word of the title, body or data. */
function matcher(search: string | null): ((event: StoredEvent) => boolean) | null {
  const words = (search ?? '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
  if (words.length === 0) return null;
  const patterns = words.map(
    (w) => new RegExp(`(^|[^\\p{L}\\p{N}])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'u'),
  );
  return (event) => {
    const text = `${event.title}\n${event.body}\n${event.data}`.toLowerCase();
    return patterns.every((p) => p.test(text));
  };
}

/** What the fake pretends a server at this URL does, from words in it. */
function behaviour(url: string): 'live' | 'not-found' | 'html' | 'refused' | 'quiet' {
  if (/404|missing|notfound/i.test(url)) return 'not-found';
  if (/html/i.test(url)) return 'html';
  if (/refused|down|offline/i.test(url)) return 'refused';
  if (/quiet/i.test(url)) return 'quiet';
  return 'live';
}

export class FakeBackend implements Backend {
  /** Every command called, in order (tests read this). */
  readonly calls: FakeCall[] = [];
  /** Links the UI asked to open. */
  readonly openedLinks: string[] = [];

  private readonly live: boolean;
  private readonly batchMs: number;
  private readonly now: () => number;
  private readonly random: Random;
  private feeds: FakeFeed[] = [];
  /** Oldest first, so `seq` order is array order. */
  private events: StoredEvent[] = [];
  private nextSeq = 1;
  private nextFeedId = 1;
  private dnd = false;
  private autostart = false;
  private pending: Change[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private readonly changeHandlers = new Set<(changes: Change[]) => void>();
  private readonly focusHandlers = new Set<(seq: number) => void>();
  private pendingFocus: number | null = null;

  constructor(options: FakeOptions = {}) {
    this.live = options.live ?? false;
    this.batchMs = options.batchMs ?? 100;
    this.now = options.now ?? Date.now;
    this.random = new Random(options.seed ?? 1);
    if (this.live) this.ticker = setInterval(() => this.tick(), TICK_MS);
  }

  /** Stops the timers. */
  close(): void {
    if (this.ticker) clearInterval(this.ticker);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.ticker = null;
    this.flushTimer = null;
  }

  // ---- commands ------------------------------------------------------------------------------

  async listFeeds(): Promise<FeedStatus[]> {
    this.record('list_feeds', {});
    return copy(this.feeds.map((f) => this.status(f)));
  }

  async addFeed(input: FeedInput): Promise<FeedStatus> {
    this.record('add_feed', { input });
    const feed = this.createFeed(input, false);
    return copy(this.status(feed));
  }

  async editFeed(name: string, input: FeedInput): Promise<FeedStatus> {
    this.record('edit_feed', { name, input });
    const feed = this.feed(name);
    const url = validateUrl(input.url);
    const newName = input.name ? validateName(input.name) : nameFromUrl(url);
    const headers = validateHeaders(keepSecrets(input.headers, feed.headers));
    if (newName !== feed.name && this.feeds.some((f) => f.name === newName)) {
      throw fail(
        'feed_exists',
        `a feed named \`${newName}\` already exists; choose another name with --name`,
      );
    }
    feed.url = url;
    feed.headers = headers;
    if (newName !== feed.name) {
      feed.name = newName;
      for (const e of this.events) if (e.feed_id === feed.id) e.feed = newName;
    }
    if (feed.state.kind !== 'paused') this.connect(feed);
    this.queue({ change: 'feeds_changed' });
    return copy(this.status(feed));
  }

  async removeFeed(name: string): Promise<null> {
    this.record('remove_feed', { name });
    const feed = this.feed(name);
    this.feeds = this.feeds.filter((f) => f !== feed);
    this.events = this.events.filter((e) => e.feed_id !== feed.id);
    this.queue({ change: 'feeds_changed' });
    return null;
  }

  async pauseFeed(name: string): Promise<null> {
    this.record('pause_feed', { name });
    const feed = this.feed(name);
    feed.state = { kind: 'paused' };
    this.queue({ change: 'feeds_changed' });
    return null;
  }

  async resumeFeed(name: string): Promise<null> {
    this.record('resume_feed', { name });
    const feed = this.feed(name);
    this.connect(feed);
    this.queue({ change: 'feeds_changed' });
    return null;
  }

  async testFeed(input: FeedInput): Promise<Probe> {
    this.record('test_feed', { input });
    const url = validateUrl(input.url);
    validateHeaders(input.headers);
    if (this.live) await new Promise((resolve) => setTimeout(resolve, 700));
    switch (behaviour(url)) {
      case 'not-found':
        return {
          live: false,
          events: [],
          error: 'the server answered 404 Not Found; check the URL',
        };
      case 'html':
        return {
          live: false,
          events: [],
          error:
            'the server answered text/html, not text/event-stream; check that the URL is the event stream itself',
        };
      case 'refused':
        return { live: false, events: [], error: 'connection refused' };
      case 'quiet':
        return { live: true, events: [], error: null };
      case 'live': {
        const random = new Random(url.length);
        const events: ProbeEvent[] = [];
        for (let n = 0; n < PROBE_EVENTS; n++) {
          const p = demoPayload(random, n, this.now());
          events.push({
            id: String(n + 1),
            type: p.type,
            data: p.data,
            title: p.title,
            body: p.body,
          });
        }
        return { live: true, events, error: null };
      }
    }
  }

  async addDemoFeed(): Promise<FeedStatus> {
    this.record('add_demo_feed', {});
    const existing = this.feeds.find((f) => f.name === 'demo');
    if (existing) return copy(this.status(existing));
    const port = 40000 + this.random.int(0, 20000);
    const feed = this.createFeed(
      { url: `http://127.0.0.1:${port}/events`, name: 'demo', headers: [] },
      true,
    );
    return copy(this.status(feed));
  }

  async listEvents(query: EventQuery): Promise<StoredEvent[]> {
    this.record('list_events', { query });
    const limit = query.limit === 0 ? DEFAULT_LIMIT : query.limit;
    const matches = matcher(query.search);
    const feedId = query.feed === null ? null : this.feed(query.feed).id;
    const out: StoredEvent[] = [];
    let i = this.indexBefore(query.before_seq);
    for (; i >= 0 && out.length < limit; i--) {
      const e = this.events[i] as StoredEvent;
      if (feedId !== null && e.feed_id !== feedId) continue;
      if (query.unread_only && e.read) continue;
      if (matches && !matches(e)) continue;
      out.push(e);
    }
    return copy(out);
  }

  async getEvent(seq: number): Promise<StoredEvent | null> {
    this.record('get_event', { seq });
    const i = this.indexBefore(seq + 1);
    const e = this.events[i];
    return e && e.seq === seq ? copy(e) : null;
  }

  async markRead(seqs: number[]): Promise<number> {
    this.record('mark_read', { seqs });
    const wanted = new Set(seqs);
    let changed = 0;
    for (const e of this.events) {
      if (!e.read && wanted.has(e.seq)) {
        e.read = true;
        changed++;
      }
    }
    if (changed > 0) this.queue({ change: 'events_read' });
    return changed;
  }

  async markAllRead(feed: string | null): Promise<number> {
    this.record('mark_all_read', { feed });
    const feedId = feed === null ? null : this.feed(feed).id;
    let changed = 0;
    for (const e of this.events) {
      if (!e.read && (feedId === null || e.feed_id === feedId)) {
        e.read = true;
        changed++;
      }
    }
    if (changed > 0) this.queue({ change: 'events_read' });
    return changed;
  }

  async getDoNotDisturb(): Promise<boolean> {
    this.record('get_do_not_disturb', {});
    return this.dnd;
  }

  async setDoNotDisturb(on: boolean): Promise<null> {
    this.record('set_do_not_disturb', { on });
    this.dnd = on;
    this.queue({ change: 'do_not_disturb', on });
    return null;
  }

  async getAutostart(): Promise<boolean> {
    this.record('get_autostart', {});
    return this.autostart;
  }

  async setAutostart(on: boolean): Promise<null> {
    this.record('set_autostart', { on });
    this.autostart = on;
    return null;
  }

  async openLink(url: string): Promise<null> {
    this.record('open_link', { url });
    if (!/^https?:\/\//i.test(url)) {
      throw fail('invalid_link', `only http and https links open, not \`${url}\``);
    }
    this.openedLinks.push(url);
    if (this.live) window.open(url, '_blank', 'noopener,noreferrer');
    return null;
  }

  async painted(stage: PaintStage): Promise<null> {
    this.record('painted', { stage });
    return null;
  }

  onChanges(handler: (changes: Change[]) => void): Unsubscribe {
    this.changeHandlers.add(handler);
    return () => this.changeHandlers.delete(handler);
  }

  async takePendingFocus(): Promise<number | null> {
    this.record('take_pending_focus', {});
    const seq = this.pendingFocus;
    this.pendingFocus = null;
    return seq;
  }

  onFocusEvent(handler: (seq: number) => void): Unsubscribe {
    this.focusHandlers.add(handler);
    return () => this.focusHandlers.delete(handler);
  }

  // ---- helpers for tests and the browser demo ------------------------------------------------

  /** Adds a feed directly (no change is sent), e.g. to start a test with feeds. */
  seedFeed(
    input: FeedInput,
    state: FeedState = { kind: 'live', since_ms: this.now() },
  ): FeedStatus {
    const feed = this.createFeed(input, false, false);
    feed.state = state;
    return copy(this.status(feed));
  }

  /** Stores `count` made-up events for a feed, oldest first, without sending changes. */
  seedEvents(feedName: string, count: number, options: { read?: boolean } = {}): void {
    const feed = this.feed(feedName);
    const start = this.now() - count * 1000;
    for (let n = 0; n < count; n++) {
      const p = feed.demo
        ? demoPayload(this.random, feed.produced, start + n * 1000)
        : genericPayload(this.random, feed.name, feed.produced);
      this.append(feed, p, start + n * 1000, options.read ?? false);
    }
  }

  /** Stores events for a feed now and sends them as one `events_stored` change (batched). */
  storeEvents(feedName: string, events: NewFakeEvent[]): StoredEvent[] {
    const feed = this.feed(feedName);
    const stored = events.map((e) => {
      const p = genericPayload(this.random, feed.name, feed.produced);
      return this.append(
        feed,
        {
          type: e.type ?? p.type,
          data: e.data ?? p.data,
          title: e.title ?? p.title,
          body: e.body ?? p.body,
          link: e.link === undefined ? p.link : e.link,
          urgency: e.urgency ?? p.urgency,
        },
        e.received_ms ?? this.now(),
        false,
        e.event_id,
      );
    });
    this.queue({ change: 'events_stored', events: copy(stored) });
    return copy(stored);
  }

  /** Sets a feed's state and sends a `feed_state` change. */
  setFeedState(feedName: string, state: FeedState): void {
    const feed = this.feed(feedName);
    feed.state = state;
    this.queue({ change: 'feed_state', feed_id: feed.id, feed: feed.name, state: copy(state) });
  }

  /** A feed's saved headers with their real values (statuses hide credentials), for tests. */
  savedHeaders(feedName: string): string[] {
    return copy(this.feed(feedName).headers);
  }

  /** Sends `changes` to the UI now, as the shell's `changes` event would. */
  emit(changes: Change[]): void {
    for (const handler of [...this.changeHandlers]) handler(copy(changes));
  }

  /** Sends the pending batch now instead of waiting for `batchMs`. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) this.emit(batch);
  }

  /** As if a clicked notification had opened the window on this event: its UI takes it at start. */
  openedToShow(seq: number): void {
    this.pendingFocus = seq;
  }

  /** As if the user clicked a notification without a link. */
  focusEvent(seq: number): void {
    for (const handler of [...this.focusHandlers]) handler(seq);
  }

  /** Demo feeds in every state and `events` stored events, for `?fake=demo` in the browser. */
  seedShowcase(events: number): void {
    const now = this.now();
    const demo = this.createFeed(
      { url: 'http://127.0.0.1:43117/events', name: 'demo', headers: [] },
      true,
      false,
    );
    const ci = this.createFeed(
      { url: 'https://ci.example.com/stream', name: 'ci', headers: ['Authorization: Bearer x'] },
      false,
      false,
    );
    ci.state = { kind: 'live', since_ms: now - 3_600_000 };
    // Interleaved in time, about 40 s apart, the newest 25 unread.
    for (let n = 0; n < events; n++) {
      const at = now - (events - n) * 40_000;
      const feed = this.random.next() < 0.85 ? demo : ci;
      const p = feed.demo
        ? demoPayload(this.random, feed.produced, at)
        : genericPayload(this.random, feed.name, feed.produced);
      this.append(feed, p, at, n < events - 25);
    }
    this.seedFeed(
      { url: 'https://status.example.org/down/events', name: 'status', headers: [] },
      {
        kind: 'retrying',
        attempt: 3,
        next_try_ms: now + 8_000,
        last_error: 'connection refused',
      },
    );
    this.seedFeed(
      { url: 'https://example.net/html/feed', name: 'blog', headers: [] },
      {
        kind: 'failed',
        reason: 'the server answered text/html, not text/event-stream; check the URL',
      },
    );
    this.seedFeed(
      { url: 'https://ntfy.sh/tidings-team/sse', name: 'ntfy.sh/sse', headers: [] },
      { kind: 'paused' },
    );
    this.seedFeed({
      url: 'wss://push.example.com/socket',
      name: 'push',
      headers: ['X-Api-Key: k3y', 'X-Client: tidings'],
    });
    demo.dueMs = now + 2000;
    ci.dueMs = now + 9000;
  }

  // ---- the simulation ------------------------------------------------------------------------

  private createFeed(input: FeedInput, demo: boolean, announce = true): FakeFeed {
    const url = validateUrl(input.url);
    const name = input.name?.trim() ? validateName(input.name) : nameFromUrl(url);
    const headers = validateHeaders(input.headers);
    if (this.feeds.some((f) => f.name === name)) {
      throw fail(
        'feed_exists',
        `a feed named \`${name}\` already exists; choose another name with --name`,
      );
    }
    const feed: FakeFeed = {
      id: this.nextFeedId++,
      name,
      url,
      headers,
      state: { kind: 'live', since_ms: this.now() },
      lastEventId: null,
      produced: 0,
      dueMs: this.now(),
      demo,
    };
    this.feeds.push(feed);
    if (announce) {
      this.connect(feed);
      this.queue({ change: 'feeds_changed' });
    }
    return feed;
  }

  /** Starts (or restarts) a feed's connection. */
  private connect(feed: FakeFeed): void {
    if (!this.live) {
      feed.state = { kind: 'live', since_ms: this.now() };
      return;
    }
    feed.state = { kind: 'connecting', attempt: 0 };
    feed.dueMs = this.now() + 400;
  }

  private tick(): void {
    const now = this.now();
    for (const feed of this.feeds) {
      if (now < feed.dueMs) continue;
      const before = feed.state;
      switch (feed.state.kind) {
        case 'connecting':
        case 'retrying': {
          const attempt =
            feed.state.kind === 'retrying' ? feed.state.attempt : feed.state.attempt + 1;
          const outcome = behaviour(feed.url);
          if (outcome === 'live' || outcome === 'quiet') {
            feed.state = { kind: 'live', since_ms: now };
            feed.dueMs = now + (feed.demo ? 100 : 3000);
          } else if (outcome === 'refused') {
            const wait = Math.min(300_000, 1000 * 2 ** attempt);
            feed.state = {
              kind: 'retrying',
              attempt: attempt + 1,
              next_try_ms: now + wait,
              last_error: 'connection refused',
            };
            feed.dueMs = now + wait;
          } else {
            feed.state = {
              kind: 'failed',
              reason:
                outcome === 'html'
                  ? 'the server answered text/html, not text/event-stream; check the URL'
                  : 'the server answered 404 Not Found; check the URL',
            };
            feed.dueMs = Infinity;
          }
          break;
        }
        case 'live': {
          if (behaviour(feed.url) === 'quiet') break;
          const p = feed.demo
            ? demoPayload(this.random, feed.produced, now)
            : genericPayload(this.random, feed.name, feed.produced);
          const stored = this.append(feed, p, now, false);
          this.queue({ change: 'events_stored', events: [copy(stored)] });
          feed.dueMs =
            now + (feed.demo ? 2500 + this.random.int(0, 1500) : 8000 + this.random.int(0, 8000));
          break;
        }
        default:
          feed.dueMs = now + 1000;
      }
      if (feed.state !== before) {
        this.queue({
          change: 'feed_state',
          feed_id: feed.id,
          feed: feed.name,
          state: copy(feed.state),
        });
      }
    }
  }

  private append(
    feed: FakeFeed,
    p: Payload,
    receivedMs: number,
    read: boolean,
    eventId?: string | null,
  ): StoredEvent {
    feed.produced++;
    const id = eventId === undefined ? String(feed.produced) : eventId;
    if (id !== null) feed.lastEventId = id;
    const event: StoredEvent = {
      seq: this.nextSeq++,
      feed_id: feed.id,
      feed: feed.name,
      event_id: id,
      type: p.type,
      data: p.data,
      title: p.title,
      body: p.body,
      link: p.link,
      urgency: p.urgency,
      received_ms: receivedMs,
      read,
    };
    this.events.push(event);
    return event;
  }

  private queue(change: Change): void {
    this.pending.push(change);
    if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => this.flush(), this.batchMs);
    }
  }

  private status(feed: FakeFeed): FeedStatus {
    let unread = 0;
    let events = 0;
    for (const e of this.events) {
      if (e.feed_id !== feed.id) continue;
      events++;
      if (!e.read) unread++;
    }
    return {
      id: feed.id,
      name: feed.name,
      url: feed.url,
      kind: kindOf(feed.url) ?? 'sse',
      state: feed.state,
      last_event_id: feed.lastEventId,
      unread,
      events,
      headers: feed.headers.map(shownHeader),
      muted: false,
      snoozed_until_ms: null,
    };
  }

  private feed(name: string): FakeFeed {
    const feed = this.feeds.find((f) => f.name === name);
    if (!feed) {
      throw fail(
        'feed_not_found',
        `no feed named \`${name}\`; \`tidings feed list\` shows the feeds there are`,
      );
    }
    return feed;
  }

  /** The index of the newest event with `seq < before` (all when `before` is null), or -1. */
  private indexBefore(before: number | null): number {
    if (before === null) return this.events.length - 1;
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.events[mid] as StoredEvent).seq < before) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  private record(command: string, args: unknown): void {
    this.calls.push({ command, args: copy(args) });
  }
}
