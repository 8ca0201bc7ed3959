/**
 * The dashboard's state: feeds by id, the events in memory by seq, which part of the (filtered,
 * searched) event list is loaded (`eventPages.ts`), the opened event, the settings.
 *
 * It is fed by the backend's batched `changes` (`apply`), never by polling, and owns every backend
 * call the components need, so components stay small and only render. Event rows are paged from the
 * core as the list scrolls and dropped again far from the viewport: at most `maxLoaded` rows (plus a
 * page in flight) are in memory, whatever the number stored.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { Backend, Unsubscribe } from '$lib/backend';
import { toCommandError } from '$lib/backend';
import type { Change, EventQuery, FeedInput, FeedStatus, Probe, StoredEvent } from '$lib/bindings';
import {
  appendPage,
  EMPTY_PAGES,
  evict,
  evictOutside,
  indexOfSeq,
  missingIn,
  nextCursor,
  prependLive,
  refill,
  rowsIn,
  seqAt,
  topSeq,
  totalRows,
  type Pages,
} from '$lib/eventPages';

export interface DashboardOptions {
  /** Rows per `list_events` call (default 200). */
  pageSize?: number;
  /** Rows kept in memory at most (default 2000). */
  maxLoaded?: number;
  /** Rows loaded beyond the viewport on each side (default 40). */
  overscan?: number;
  /** Wait before reloading feeds after events arrive (default 500 ms). */
  feedsReloadMs?: number;
}

/** A row as the list renders it: its event, or null while its page is loading. */
export interface ListRow {
  index: number;
  seq: number | null;
  event: StoredEvent | null;
}

export class Dashboard {
  /** Feeds by id. */
  readonly feeds = new SvelteMap<number, FeedStatus>();
  /** The events in memory (loaded pages and the opened one) by seq. */
  readonly events = new SvelteMap<number, StoredEvent>();

  feedsLoaded = $state(false);
  doNotDisturb = $state(false);
  autostart = $state(false);
  /** The list's pages (replaced, never mutated). */
  pages = $state.raw<Pages>(EMPTY_PAGES);
  /** Only this feed's events (by name), or all. */
  filter = $state<string | null>(null);
  /** The search the list shows (already debounced). */
  search = $state('');
  /** The keyboard selection: an index in the list, -1 for none. */
  cursor = $state(-1);
  /** The event in the detail pane. */
  opened = $state<StoredEvent | null>(null);
  /** The last failure of a background call, for the banner. */
  problem = $state<string | null>(null);
  /** A row the list should scroll into view (bumped on each request). */
  scrollRequest = $state<{ index: number } | null>(null);

  readonly feedList = $derived(
    [...this.feeds.values()].sort((a, b) => a.name.localeCompare(b.name)),
  );
  readonly totalUnread = $derived(this.feedList.reduce((n, f) => n + f.unread, 0));
  readonly totalRows = $derived(totalRows(this.pages));
  readonly exhausted = $derived(this.pages.exhausted);

  /** Called when rows were added above the viewport, so the list can keep what the user sees. */
  onShift: ((rows: number) => void) | null = null;

  readonly pageSize: number;
  readonly maxLoaded: number;
  readonly overscan: number;
  private readonly feedsReloadMs: number;
  private generation = 0;
  private viewport = { first: 0, last: 0 };
  private loadingNext = false;
  private readonly refilling = new Set<number>();
  private feedsTimer: ReturnType<typeof setTimeout> | null = null;
  private feedsReload: Promise<void> | null = null;
  private feedsReloadAgain = false;
  private topChain: Promise<void> = Promise.resolve();
  private readRefresh: Promise<void> | null = null;
  private readRefreshAgain = false;
  private subscriptions: Unsubscribe[] = [];

  constructor(
    readonly backend: Backend,
    options: DashboardOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 200;
    this.maxLoaded = options.maxLoaded ?? 2000;
    this.overscan = options.overscan ?? 40;
    this.feedsReloadMs = options.feedsReloadMs ?? 500;
  }

  /** Subscribes to the backend's events and loads everything. */
  async start(): Promise<void> {
    this.subscriptions.push(
      this.backend.onChanges((changes) => this.apply(changes)),
      this.backend.onFocusEvent((seq) => void this.focus(seq)),
    );
    await Promise.all([
      this.loadFeeds(),
      this.loadSettings(),
      this.loadNext(),
      this.focusPending(),
    ]);
  }

  /** Shows the event a clicked notification opened the window on, now that `focus-event` is heard. */
  private async focusPending(): Promise<void> {
    try {
      const seq = await this.backend.takePendingFocus();
      if (seq !== null) await this.focus(seq);
    } catch (error) {
      this.report(error);
    }
  }

  stop(): void {
    for (const unsubscribe of this.subscriptions) unsubscribe();
    this.subscriptions = [];
    if (this.feedsTimer) clearTimeout(this.feedsTimer);
  }

  // ---- the change stream ---------------------------------------------------------------------

  /** One batch of `changes` from the shell. */
  apply(changes: Change[]): void {
    let reloadFeeds = false;
    let readChanged = false;
    let feedsChanged = false;
    const stored: StoredEvent[] = [];
    for (const change of changes) {
      switch (change.change) {
        case 'events_stored':
          stored.push(...change.events);
          break;
        case 'feed_state': {
          const feed = this.feeds.get(change.feed_id);
          if (feed) this.feeds.set(feed.id, { ...feed, state: change.state });
          else reloadFeeds = true;
          break;
        }
        case 'feeds_changed':
          feedsChanged = true;
          break;
        case 'events_read':
          readChanged = true;
          break;
        case 'do_not_disturb':
          this.doNotDisturb = change.on;
          break;
      }
    }
    if (stored.length > 0) {
      this.countArrivals(stored);
      this.insertArrivals(stored);
    }
    if (feedsChanged || readChanged || reloadFeeds) void this.reloadFeeds();
    // After a lagged broadcast the shell sends only `feeds_changed`: catch up with the top too.
    if (feedsChanged && stored.length === 0) this.refreshTop();
    if (readChanged) void this.refreshReadFlags();
  }

  /** Unread and event counts go up at once; an authoritative reload follows shortly. */
  private countArrivals(stored: StoredEvent[]): void {
    const perFeed = new Map<number, number>();
    for (const e of stored) perFeed.set(e.feed_id, (perFeed.get(e.feed_id) ?? 0) + 1);
    for (const [id, n] of perFeed) {
      const feed = this.feeds.get(id);
      if (feed) this.feeds.set(id, { ...feed, unread: feed.unread + n, events: feed.events + n });
    }
    this.scheduleFeedsReload();
  }

  private insertArrivals(stored: StoredEvent[]): void {
    if (this.search.trim() !== '') {
      // Which new events match is the core's full-text search's call: ask it.
      this.refreshTop();
      return;
    }
    const matching = stored.filter((e) => this.filter === null || e.feed === this.filter);
    for (const e of matching) this.events.set(e.seq, e);
    this.prepend(matching.map((e) => e.seq));
  }

  private prepend(seqs: number[]): void {
    const { pages, added } = prependLive(this.pages, seqs, this.pageSize);
    if (added === 0) return;
    this.pages = pages;
    if (this.cursor >= 0) this.cursor += added;
    this.onShift?.(added);
    this.trim();
  }

  /** Asks the core for events newer than the list's top (after a lag, or while searching). */
  private refreshTop(): void {
    const generation = this.generation;
    this.topChain = this.topChain.then(async () => {
      if (generation !== this.generation || nextCursor(this.pages) === null) return;
      try {
        const rows = await this.backend.listEvents(this.query(null, this.pageSize));
        if (generation !== this.generation) return;
        const top = topSeq(this.pages);
        const fresh = rows.filter((e) => e.seq > top);
        if (fresh.length === this.pageSize) {
          await this.resetList(); // too many to splice in: start over
          return;
        }
        for (const e of fresh) this.events.set(e.seq, e);
        this.prepend(fresh.map((e) => e.seq));
      } catch (error) {
        this.report(error);
      }
    });
  }

  /** After `events_read`: fetch the read flags of the rows in view; drop the others. */
  private async refreshReadFlags(): Promise<void> {
    if (this.readRefresh) {
      this.readRefreshAgain = true;
      return;
    }
    const generation = this.generation;
    const run = async () => {
      const { first, last } = this.window();
      const { pages, dropped } = evictOutside(this.pages, first, last);
      this.pages = pages;
      this.forget(dropped);
      // What is left overlaps the viewport: fetch it again with the same queries.
      for (const s of pages.segments.filter((segment) => segment.seqs !== null)) {
        const rows = await this.backend.listEvents(this.query(s.before, s.count));
        if (generation !== this.generation) return;
        for (const e of rows) if (this.events.has(e.seq)) this.events.set(e.seq, e);
      }
      const opened = this.opened;
      if (opened) {
        const fresh = this.events.get(opened.seq) ?? (await this.backend.getEvent(opened.seq));
        if (fresh && this.opened?.seq === fresh.seq) this.opened = fresh;
      }
      this.ensureLoaded();
    };
    try {
      do {
        this.readRefreshAgain = false;
        this.readRefresh = run();
        await this.readRefresh;
      } while (this.readRefreshAgain);
    } catch (error) {
      this.report(error);
    } finally {
      this.readRefresh = null;
    }
  }

  // ---- feeds and settings --------------------------------------------------------------------

  private scheduleFeedsReload(): void {
    if (this.feedsTimer) return;
    this.feedsTimer = setTimeout(() => {
      this.feedsTimer = null;
      void this.reloadFeeds();
    }, this.feedsReloadMs);
  }

  /** Reloads the feeds; calls during a reload make one more afterwards. */
  async reloadFeeds(): Promise<void> {
    if (this.feedsReload) {
      this.feedsReloadAgain = true;
      return this.feedsReload;
    }
    this.feedsReload = (async () => {
      do {
        this.feedsReloadAgain = false;
        await this.loadFeeds();
      } while (this.feedsReloadAgain);
    })();
    try {
      await this.feedsReload;
    } finally {
      this.feedsReload = null;
    }
  }

  private async loadFeeds(): Promise<void> {
    let list: FeedStatus[];
    try {
      list = await this.backend.listFeeds();
    } catch (error) {
      this.report(error);
      return;
    }
    const fresh = new Map(list.map((f) => [f.id, f]));
    // A removed or renamed feed changes the events' `feed` names: the list starts over.
    let gone = false;
    for (const [id, old] of this.feeds) {
      const now = fresh.get(id);
      if (!now || now.name !== old.name) gone = true;
      if (!now) this.feeds.delete(id);
    }
    for (const f of list) this.feeds.set(f.id, f);
    this.feedsLoaded = true;
    if (gone) {
      if (this.filter !== null && !list.some((f) => f.name === this.filter)) this.filter = null;
      if (this.opened && !fresh.has(this.opened.feed_id)) this.opened = null;
      await this.resetList();
    }
  }

  private async loadSettings(): Promise<void> {
    try {
      const [dnd, autostart] = await Promise.all([
        this.backend.getDoNotDisturb(),
        this.backend.getAutostart(),
      ]);
      this.doNotDisturb = dnd;
      this.autostart = autostart;
    } catch (error) {
      this.report(error);
    }
  }

  async setDoNotDisturb(on: boolean): Promise<void> {
    const before = this.doNotDisturb;
    this.doNotDisturb = on;
    try {
      await this.backend.setDoNotDisturb(on);
    } catch (error) {
      this.doNotDisturb = before;
      this.report(error);
    }
  }

  async setAutostart(on: boolean): Promise<void> {
    const before = this.autostart;
    this.autostart = on;
    try {
      await this.backend.setAutostart(on);
    } catch (error) {
      this.autostart = before;
      this.report(error);
    }
  }

  /** Adds a feed; rejects with the core's `CommandError` for the form to show. */
  async addFeed(input: FeedInput): Promise<FeedStatus> {
    const feed = await this.backend.addFeed(input);
    this.feeds.set(feed.id, feed);
    void this.reloadFeeds();
    return feed;
  }

  async editFeed(name: string, input: FeedInput): Promise<FeedStatus> {
    const feed = await this.backend.editFeed(name, input);
    if (this.filter === name) this.filter = feed.name;
    await this.reloadFeeds();
    return feed;
  }

  async addDemoFeed(): Promise<void> {
    try {
      const feed = await this.backend.addDemoFeed();
      this.feeds.set(feed.id, feed);
      void this.reloadFeeds();
    } catch (error) {
      this.report(error);
    }
  }

  testFeed(input: FeedInput): Promise<Probe> {
    return this.backend.testFeed(input);
  }

  async removeFeed(name: string): Promise<void> {
    try {
      await this.backend.removeFeed(name);
      if (this.filter === name) await this.setFilter(null);
      await this.reloadFeeds();
    } catch (error) {
      this.report(error);
    }
  }

  async pauseFeed(name: string): Promise<void> {
    try {
      await this.backend.pauseFeed(name);
      await this.reloadFeeds();
    } catch (error) {
      this.report(error);
    }
  }

  async resumeFeed(name: string): Promise<void> {
    try {
      await this.backend.resumeFeed(name);
      await this.reloadFeeds();
    } catch (error) {
      this.report(error);
    }
  }

  // ---- the event list ------------------------------------------------------------------------

  async setFilter(feed: string | null): Promise<void> {
    if (feed === this.filter) return;
    this.filter = feed;
    await this.resetList();
  }

  async setSearch(text: string): Promise<void> {
    if (text.trim() === this.search.trim()) {
      this.search = text;
      return;
    }
    this.search = text;
    await this.resetList();
  }

  /** Starts the list over for the current filter and search. */
  async resetList(): Promise<void> {
    this.generation++;
    this.loadingNext = false;
    this.refilling.clear();
    const keep = this.opened;
    this.events.clear();
    if (keep) this.events.set(keep.seq, keep);
    this.pages = EMPTY_PAGES;
    this.cursor = -1;
    this.viewport = { first: 0, last: this.viewport.last - this.viewport.first };
    this.scrollRequest = { index: 0 };
    await this.loadNext();
  }

  /** The list reports which rows are on screen; missing pages load, far ones are dropped. */
  setViewport(first: number, last: number): void {
    this.viewport = { first, last };
    this.ensureLoaded();
  }

  /** The rows `first..=last` for rendering. */
  rows(first: number, last: number): ListRow[] {
    return rowsIn(this.pages, first, last).map(({ index, seq }) => ({
      index,
      seq,
      event: seq === null ? null : (this.events.get(seq) ?? null),
    }));
  }

  private window(): { first: number; last: number } {
    return {
      first: Math.max(0, this.viewport.first - this.overscan),
      last: this.viewport.last + this.overscan,
    };
  }

  private ensureLoaded(): void {
    const { first, last } = this.window();
    for (const segment of missingIn(this.pages, first, last))
      void this.refillSegment(segment.before, segment.count);
    if (nextCursor(this.pages) !== undefined && last + this.pageSize / 2 >= this.totalRows) {
      void this.loadNext();
    }
  }

  private query(before: number | null, limit: number): EventQuery {
    const search = this.search.trim();
    return {
      feed: this.filter,
      search: search === '' ? null : search,
      before_seq: before,
      unread_only: false,
      limit,
    };
  }

  /** Loads the next (older) page if there is one and none is on its way. */
  async loadNext(): Promise<void> {
    if (this.loadingNext) return;
    const cursor = nextCursor(this.pages);
    if (cursor === undefined) return;
    const generation = this.generation;
    this.loadingNext = true;
    try {
      const rows = await this.backend.listEvents(this.query(cursor, this.pageSize));
      if (generation !== this.generation) return;
      const pages = appendPage(
        this.pages,
        cursor,
        rows.map((e) => e.seq),
        this.pageSize,
      );
      // Unchanged when live events moved the cursor meanwhile: `ensureLoaded` asks again below.
      if (pages !== this.pages) {
        for (const e of rows) this.events.set(e.seq, e);
        this.pages = pages;
      }
    } catch (error) {
      if (generation === this.generation) {
        this.report(error);
        this.pages = { segments: this.pages.segments, exhausted: true };
      }
      return;
    } finally {
      if (generation === this.generation) this.loadingNext = false;
    }
    this.trim();
    this.ensureLoaded();
  }

  private async refillSegment(before: number, count: number): Promise<void> {
    if (this.refilling.has(before)) return;
    const generation = this.generation;
    this.refilling.add(before);
    try {
      const rows = await this.backend.listEvents(this.query(before, count));
      if (generation !== this.generation) return;
      for (const e of rows) this.events.set(e.seq, e);
      this.pages = refill(
        this.pages,
        before,
        rows.map((e) => e.seq),
      );
    } catch (error) {
      this.report(error);
    } finally {
      if (generation === this.generation) this.refilling.delete(before);
    }
    this.trim();
  }

  /** Keeps memory bounded: drops the rows of pages far from the viewport. */
  private trim(): void {
    const { first, last } = this.window();
    const { pages, dropped } = evict(this.pages, first, last, this.maxLoaded);
    if (dropped.length === 0) return;
    this.pages = pages;
    this.forget(dropped);
  }

  private forget(seqs: number[]): void {
    for (const seq of seqs) if (seq !== this.opened?.seq) this.events.delete(seq);
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Shows an event in the detail pane and marks it read. */
  async open(event: StoredEvent): Promise<void> {
    this.opened = event;
    const index = indexOfSeq(this.pages, event.seq);
    if (index >= 0) this.cursor = index;
    if (event.read) return;
    const read = { ...event, read: true };
    this.opened = read;
    if (this.events.has(event.seq)) this.events.set(event.seq, read);
    const feed = this.feeds.get(event.feed_id);
    if (feed && feed.unread > 0) this.feeds.set(feed.id, { ...feed, unread: feed.unread - 1 });
    try {
      await this.backend.markRead([event.seq]);
    } catch (error) {
      this.report(error);
    }
  }

  /** `focus-event`: a notification was clicked; show that event. */
  async focus(seq: number): Promise<void> {
    try {
      const event = await this.backend.getEvent(seq);
      if (!event) return;
      await this.open(event);
      const index = indexOfSeq(this.pages, seq);
      if (index >= 0) this.scrollRequest = { index };
    } catch (error) {
      this.report(error);
    }
  }

  /** Moves the keyboard selection by `delta` rows. */
  move(delta: number): void {
    const total = this.totalRows;
    if (total === 0) return;
    const from =
      this.cursor < 0
        ? delta > 0
          ? this.viewport.first - 1
          : this.viewport.first + 1
        : this.cursor;
    this.cursor = Math.min(total - 1, Math.max(0, from + delta));
    this.scrollRequest = { index: this.cursor };
  }

  /** Opens the selected row. */
  async openSelected(): Promise<void> {
    if (this.cursor < 0) return;
    const seq = seqAt(this.pages, this.cursor);
    const event = seq === null ? null : this.events.get(seq);
    if (event) await this.open(event);
  }

  /** Marks everything read, or the filtered feed's events. */
  async markAllRead(): Promise<void> {
    const feed = this.filter;
    for (const [seq, e] of this.events) {
      if (!e.read && (feed === null || e.feed === feed)) this.events.set(seq, { ...e, read: true });
    }
    for (const f of this.feeds.values()) {
      if (f.unread > 0 && (feed === null || f.name === feed))
        this.feeds.set(f.id, { ...f, unread: 0 });
    }
    if (this.opened && !this.opened.read && (feed === null || this.opened.feed === feed)) {
      this.opened = { ...this.opened, read: true };
    }
    try {
      await this.backend.markAllRead(feed);
    } catch (error) {
      this.report(error);
      void this.reloadFeeds();
    }
  }

  async openLink(url: string): Promise<void> {
    try {
      await this.backend.openLink(url);
    } catch (error) {
      this.report(error);
    }
  }

  // ---- problems ------------------------------------------------------------------------------

  report(error: unknown): void {
    this.problem = toCommandError(error).message;
  }

  dismissProblem(): void {
    this.problem = null;
  }
}
