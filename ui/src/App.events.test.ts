import { fireEvent, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { eventQueries, renderApp, rows, rowSeqs, settle, waitFor } from './testing/harness';

const XSS = '<img src=x onerror=alert(1)>';
const XSS_BODY = '<img src=y onerror=alert(2)><script>alert(3)</script>';

function oneFeed(events = 0) {
  return (fake: import('$lib/backend/fake').FakeBackend) => {
    fake.seedFeed({ url: 'https://ci.example.com/stream', name: 'ci', headers: [] });
    if (events > 0) fake.seedEvents('ci', events);
  };
}

describe('the event list', () => {
  it('shows events newest first, unread ones marked', async () => {
    await renderApp((fake) => {
      oneFeed()(fake);
      fake.seedEvents('ci', 2, { read: true });
      fake.seedEvents('ci', 1);
    });
    expect(rowSeqs()).toEqual([3, 2, 1]);
    expect(rows().map((r) => r.classList.contains('unread'))).toEqual([true, false, false]);
  });

  it('marks critical events in the list and in the detail', async () => {
    await renderApp((fake) => {
      oneFeed()(fake);
      fake.storeEvents('ci', [
        { title: 'disk full on db-1', urgency: 'critical' },
        { title: 'build passed', urgency: 'normal' },
      ]);
    });
    const [normal, critical] = rows();
    expect(within(normal!).queryByTestId('event-critical')).toBeNull();
    expect(within(critical!).getByTestId('event-critical').textContent).toBe('critical');
    await userEvent.click(critical!);
    expect(screen.getByTestId('event-detail-critical').textContent).toBe('critical');
    await userEvent.click(normal!);
    expect(screen.queryByTestId('event-detail-critical')).toBeNull();
  });

  it('searches through the backend with what was typed', async () => {
    const { fake } = await renderApp((f) => {
      oneFeed()(f);
      f.storeEvents('ci', [{ title: 'deploy of web finished' }, { title: 'build failed' }]);
    });
    const user = userEvent.setup();
    await user.keyboard('/');
    const search = screen.getByTestId('search');
    expect(document.activeElement).toBe(search);
    await user.keyboard('deploy web');
    await waitFor(() =>
      expect(eventQueries(fake).at(-1)).toMatchObject({ search: 'deploy web', before_seq: null }),
    );
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(within(rows()[0]!).getByTestId('event-title').textContent).toBe(
      'deploy of web finished',
    );
  });

  it('renders markup in events as literal text, never as HTML', async () => {
    await renderApp((fake) => {
      oneFeed()(fake);
      fake.storeEvents('ci', [
        { title: XSS, body: XSS_BODY, data: XSS, link: 'javascript:alert(1)' },
      ]);
    });
    const row = rows()[0]!;
    expect(within(row).getByTestId('event-title').textContent).toBe(XSS);
    await userEvent.click(row);
    const detail = screen.getByTestId('event-detail');
    expect(screen.getByTestId('event-detail-title').textContent).toBe(XSS);
    expect(screen.getByTestId('event-body').textContent).toBe(XSS_BODY);
    expect(document.querySelector('script')).toBeNull();
    expect(screen.getByTestId('event-data').textContent).toBe(XSS);
    // A javascript: link is shown, not offered as something to open.
    expect(screen.getByTestId('event-link-text').textContent).toBe('javascript:alert(1)');
    expect(screen.queryByTestId('event-link')).toBeNull();
    expect(document.querySelector('img:not([alt=""])')).toBeNull();
    expect(detail.querySelector('img')).toBeNull();
    expect(row.querySelector('img')).toBeNull();
  });

  it('pretty-prints a JSON payload and opens http links only through the backend', async () => {
    const { fake } = await renderApp((f) => {
      oneFeed()(f);
      f.storeEvents('ci', [
        {
          title: 'deployed',
          data: '{"title":"deployed","build":{"id":12345678901234567890,"ok":true}}',
          link: 'https://ci.example.com/builds/7',
        },
      ]);
    });
    await userEvent.click(rows()[0]!);
    expect(screen.getByTestId('event-data').textContent).toBe(
      '{\n  "title": "deployed",\n  "build": {\n    "id": 12345678901234567890,\n    "ok": true\n  }\n}',
    );
    await userEvent.click(screen.getByTestId('event-link'));
    expect(fake.openedLinks).toEqual(['https://ci.example.com/builds/7']);
  });

  it('marks an event read when opened, and everything with "mark all read"', async () => {
    const { fake } = await renderApp(oneFeed(3));
    const unread = () => screen.getAllByTestId('unread-count').map((b) => b.textContent);
    expect(unread()).toEqual(['3', '3']); // all events, and the ci feed
    await userEvent.click(rows()[1]!);
    expect(fake.calls.find((c) => c.command === 'mark_read')?.args).toEqual({ seqs: [2] });
    expect(rows()[1]!.classList.contains('unread')).toBe(false);
    expect(unread()).toEqual(['2', '2']);

    await userEvent.click(screen.getByTestId('mark-all-read'));
    expect(fake.calls.find((c) => c.command === 'mark_all_read')?.args).toEqual({ feed: null });
    expect(rows().some((r) => r.classList.contains('unread'))).toBe(false);
    fake.flush(); // the core's events_read
    await waitFor(() => expect(unread()).toEqual(['0', '0']));
  });

  it('moves with the arrow keys and opens with Enter', async () => {
    await renderApp(oneFeed(5));
    const user = userEvent.setup();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    const selected = () => rows().findIndex((r) => r.getAttribute('aria-selected') === 'true');
    expect(selected()).toBe(1);
    await user.keyboard('{ArrowUp}');
    expect(selected()).toBe(0);
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}');
    expect(selected()).toBe(3);
    expect(screen.queryByTestId('event-detail')).toBeNull();
    await user.keyboard('{Enter}');
    const title = within(rows()[3]!).getByTestId('event-title').textContent;
    expect(screen.getByTestId('event-detail-title').textContent).toBe(title);
    expect(rows()[3]!.classList.contains('unread')).toBe(false);
    // The last row stays the last.
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}');
    expect(selected()).toBe(4);
  });

  it('applies a batch of changes: new events on top, unread counts, feed state', async () => {
    const { fake } = await renderApp(oneFeed(2));
    fake.seedFeed({ url: 'https://b.example/e', name: 'other', headers: [] });
    fake.storeEvents('ci', [{ title: 'third' }, { title: 'fourth' }]);
    fake.setFeedState('ci', {
      kind: 'retrying',
      attempt: 1,
      next_try_ms: Date.now() + 30_000,
      last_error: 'connection reset',
    });
    fake.flush(); // one batch: events_stored + feed_state
    await settle();
    expect(rowSeqs()).toEqual([4, 3, 2, 1]);
    expect(within(rows()[0]!).getByTestId('event-title').textContent).toBe('fourth');
    const ci = document.querySelector('[data-feed-name="ci"]') as HTMLElement;
    expect(within(ci).getByTestId('unread-count').textContent).toBe('4');
    expect(within(ci).getByTestId('feed-state').textContent).toMatch(
      /^retrying in (29|30) s \(attempt 1\): connection reset$/,
    );
    // A feed added elsewhere (the CLI) shows up after feeds_changed.
    fake.emit([{ change: 'feeds_changed' }]);
    await waitFor(() => expect(screen.getAllByTestId('feed-row')).toHaveLength(2));
  });

  it('keeps a search exact when events arrive: only matching ones join the list', async () => {
    const { fake } = await renderApp(oneFeed(3));
    const user = userEvent.setup();
    await user.type(screen.getByTestId('search'), 'deploy{Enter}');
    await waitFor(() => expect(screen.getByTestId('no-events')).toBeTruthy());
    fake.storeEvents('ci', [{ title: 'deploy done' }, { title: 'unrelated' }]);
    fake.flush();
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(within(rows()[0]!).getByTestId('event-title').textContent).toBe('deploy done');
  });

  it('filters by feed', async () => {
    const { fake } = await renderApp((f) => {
      oneFeed(3)(f);
      f.seedFeed({ url: 'https://b.example/e', name: 'other', headers: [] });
      f.seedEvents('other', 2);
    });
    expect(rows()).toHaveLength(5);
    const other = document.querySelector('[data-feed-name="other"] button') as HTMLElement;
    await userEvent.click(other);
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(eventQueries(fake).at(-1)).toMatchObject({ feed: 'other' });
    fake.storeEvents('ci', [{ title: 'not for this filter' }]);
    fake.storeEvents('other', [{ title: 'for this filter' }]);
    fake.flush();
    await settle();
    expect(rows()).toHaveLength(3);
  });

  it('keeps the rows in view still when events arrive while scrolled down', async () => {
    const { fake } = await renderApp(oneFeed(300));
    const list = screen.getByTestId('event-list');
    scrollTo(list, 100 * 50);
    await settle();
    expect(rowSeqs()).toContain(200);
    fake.storeEvents('ci', [{}, {}, {}]);
    fake.flush();
    await waitFor(() => expect(list.scrollTop).toBe(103 * 50));
  });

  it('opens on the event a clicked notification started the window for', async () => {
    const { fake } = await renderApp((fake) => {
      oneFeed(3)(fake);
      fake.openedToShow(2);
    });
    await waitFor(() => expect(screen.getByTestId('event-detail')).toBeTruthy());
    expect(fake.calls.find((c) => c.command === 'get_event')?.args).toEqual({ seq: 2 });
  });

  it('focuses the event of a clicked notification', async () => {
    const { fake } = await renderApp(oneFeed(3));
    fake.focusEvent(2);
    await waitFor(() => expect(screen.getByTestId('event-detail')).toBeTruthy());
    expect(fake.calls.find((c) => c.command === 'get_event')?.args).toEqual({ seq: 2 });
  });
});

describe('a long list', () => {
  it('renders a window of rows and pages older ones with before_seq', async () => {
    const { fake, dashboard } = await renderApp(oneFeed(10_000));
    const list = screen.getByTestId('event-list');
    expect(dashboard.totalRows).toBe(200); // one page held so far
    expect(rows().length).toBeGreaterThan(10);
    expect(rows().length).toBeLessThan(100);
    expect(rowSeqs()[0]).toBe(10_000);
    expect(eventQueries(fake)).toEqual([
      { feed: null, search: null, before_seq: null, unread_only: false, limit: 200 },
    ]);

    // Scroll near the end of what is loaded: the next page comes from the oldest seq held.
    scrollTo(list, 180 * 50);
    await waitFor(() => expect(eventQueries(fake)).toHaveLength(2));
    expect(eventQueries(fake)[1]).toMatchObject({ before_seq: 9_801, limit: 200 });
    await settle();
    expect(rowSeqs()).toContain(10_000 - 180);
    expect(rows().length).toBeLessThan(100);

    // Keep going: memory stays bounded while the list grows.
    while (dashboard.totalRows < 3_000) {
      scrollTo(list, (dashboard.totalRows - 10) * 50);
      await settle();
    }
    expect(dashboard.events.size).toBeLessThanOrEqual(dashboard.maxLoaded + dashboard.pageSize);
    expect(rows().length).toBeLessThan(100);

    // Back to the top: dropped rows are fetched again with their page's cursor.
    const before = eventQueries(fake).length;
    scrollTo(list, 0);
    await waitFor(() => expect(rowSeqs()[0]).toBe(10_000));
    expect(eventQueries(fake).slice(before)).toContainEqual(
      expect.objectContaining({ before_seq: 10_001, limit: 200 }),
    );
  }, 20_000);
});

function scrollTo(element: HTMLElement, top: number): void {
  Object.defineProperty(element, 'scrollTop', { value: top, configurable: true, writable: true });
  fireEvent.scroll(element);
}
