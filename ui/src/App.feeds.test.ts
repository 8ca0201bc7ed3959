import { screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { FeedInput } from '$lib/bindings';
import { renderApp, settle, waitFor } from './testing/harness';

describe('the feeds panel', () => {
  it('tests a feed before saving, then adds it with name and headers', async () => {
    const { fake } = await renderApp();
    const user = userEvent.setup();
    await user.type(screen.getByTestId('add-feed-url'), 'https://ci.example.com/stream');
    expect(screen.getByTestId('add-feed-scheme').textContent).toBe('SSE');
    await user.type(screen.getByTestId('add-feed-name'), 'ci');
    await user.type(screen.getByTestId('add-feed-headers'), 'Authorization: Bearer t0k3n');

    await user.click(screen.getByTestId('add-feed-test'));
    const probe = await screen.findByTestId('add-feed-probe');
    const titles = within(probe).getAllByTestId('probe-event');
    expect(titles.length).toBeGreaterThan(0);
    expect(probe.textContent).toContain('Connected');
    expect(fake.calls.filter((c) => c.command === 'add_feed')).toHaveLength(0); // not saved

    await user.click(screen.getByTestId('add-feed-submit'));
    await waitFor(() => expect(screen.getAllByTestId('feed-row')).toHaveLength(1));
    const added = fake.calls.find((c) => c.command === 'add_feed')?.args as { input: FeedInput };
    expect(added.input).toEqual({
      url: 'https://ci.example.com/stream',
      name: 'ci',
      headers: ['Authorization: Bearer t0k3n'],
    });
    expect(screen.getByTestId('feed-row').dataset.feedName).toBe('ci');
    expect((screen.getByTestId('add-feed-url') as HTMLInputElement).value).toBe(''); // cleared
  });

  it('shows why Test failed', async () => {
    await renderApp();
    const user = userEvent.setup();
    await user.type(screen.getByTestId('add-feed-url'), 'https://example.com/404/events');
    await user.click(screen.getByTestId('add-feed-test'));
    const probe = await screen.findByTestId('add-feed-probe');
    expect(probe.textContent).toContain('Test failed: the server answered 404 Not Found');
  });

  it("shows the core's message when it rejects a feed, and keeps what was typed", async () => {
    const { fake } = await renderApp((f) =>
      f.seedFeed({ url: 'https://a.example/e', name: 'taken', headers: [] }),
    );
    const user = userEvent.setup();
    await user.type(screen.getByTestId('add-feed-url'), 'https://b.example/e');
    await user.type(screen.getByTestId('add-feed-name'), 'taken');
    await user.click(screen.getByTestId('add-feed-submit'));
    const error = await screen.findByTestId('add-feed-error');
    expect(error.textContent).toBe(
      'a feed named `taken` already exists; choose another name with --name',
    );
    expect((screen.getByTestId('add-feed-url') as HTMLInputElement).value).toBe(
      'https://b.example/e',
    );
    expect(fake.calls.filter((c) => c.command === 'add_feed')).toHaveLength(1);
    expect(screen.getAllByTestId('feed-row')).toHaveLength(1);
  });

  it('accepts a WebSocket feed and labels it WebSocket', async () => {
    const { fake } = await renderApp();
    const user = userEvent.setup();
    await user.type(screen.getByTestId('add-feed-url'), 'wss://push.example.com/socket');
    expect(screen.getByTestId('add-feed-scheme').textContent).toBe('WebSocket');
    await user.click(screen.getByTestId('add-feed-submit'));
    await waitFor(() => expect(screen.getAllByTestId('feed-row')).toHaveLength(1));
    expect(screen.queryByTestId('add-feed-error')).toBeNull();
    expect(screen.getByTestId('feed-row').dataset.feedName).toBe('push.example.com/socket');
    const [feed] = await fake.listFeeds();
    expect(feed).toMatchObject({ url: 'wss://push.example.com/socket', kind: 'websocket' });
  });

  it('shows each feed state as text and counts a retry down', async () => {
    const now = Date.now();
    vi.useFakeTimers({ now, toFake: ['Date', 'setInterval', 'clearInterval'] });
    onTestFinished(() => void vi.useRealTimers());
    await renderApp((f) => {
      f.seedFeed(
        { url: 'https://a.example/a', name: 'a', headers: [] },
        { kind: 'live', since_ms: 0 },
      );
      f.seedFeed(
        { url: 'https://a.example/b', name: 'b', headers: [] },
        {
          kind: 'retrying',
          attempt: 3,
          next_try_ms: now + 7_500,
          last_error: 'connection refused',
        },
      );
      f.seedFeed(
        { url: 'https://a.example/c', name: 'c', headers: [] },
        { kind: 'failed', reason: 'server answered text/html' },
      );
      f.seedFeed({ url: 'https://a.example/d', name: 'd', headers: [] }, { kind: 'paused' });
    });
    const state = (name: string) =>
      document.querySelector(`[data-feed-name="${name}"] [data-testid="feed-state"]`)?.textContent;
    expect(state('a')).toBe('live');
    expect(state('b')).toBe('retrying in 8 s (attempt 3): connection refused');
    expect(state('c')).toBe('failed: server answered text/html');
    expect(state('d')).toBe('paused');
    vi.advanceTimersByTime(3_000);
    await settle();
    expect(state('b')).toBe('retrying in 5 s (attempt 3): connection refused');
    // Paused and failed feeds offer Resume, the others Pause.
    const row = (name: string) =>
      document.querySelector(`[data-feed-name="${name}"]`) as HTMLElement;
    expect(within(row('a')).queryByTestId('feed-pause')).not.toBeNull();
    expect(within(row('c')).queryByTestId('feed-resume')).not.toBeNull();
    expect(within(row('d')).queryByTestId('feed-resume')).not.toBeNull();
  });

  it('pauses, resumes, and removes only after confirmation', async () => {
    const { fake } = await renderApp((f) => {
      f.seedFeed({ url: 'https://a.example/a', name: 'a', headers: [] });
      f.seedEvents('a', 4);
    });
    const user = userEvent.setup();
    await user.click(screen.getByTestId('feed-pause'));
    await waitFor(() => expect(screen.getByTestId('feed-state').textContent).toBe('paused'));
    await user.click(screen.getByTestId('feed-resume'));
    await waitFor(() => expect(screen.getByTestId('feed-state').textContent).toBe('live'));

    await user.click(screen.getByTestId('feed-remove'));
    expect(fake.calls.some((c) => c.command === 'remove_feed')).toBe(false);
    expect(screen.getByRole('alertdialog').textContent).toContain('its 4 events');
    await user.click(screen.getByTestId('feed-remove-cancel'));
    expect(screen.getAllByTestId('feed-row')).toHaveLength(1);

    await user.click(screen.getByTestId('feed-remove'));
    await user.click(screen.getByTestId('feed-remove-confirm'));
    await waitFor(() => expect(screen.queryAllByTestId('feed-row')).toHaveLength(0));
    expect(screen.getByTestId('empty-state')).toBeTruthy();
  });

  it('edits a feed and keeps its hidden Authorization header', async () => {
    const { fake } = await renderApp((f) =>
      f.seedFeed({
        url: 'https://a.example/a',
        name: 'a',
        headers: ['Authorization: Bearer t0k3n', 'X-Trace: 1'],
      }),
    );
    const user = userEvent.setup();
    await user.click(screen.getByTestId('feed-edit'));
    const headers = screen.getByTestId('edit-feed-headers') as HTMLTextAreaElement;
    expect(headers.value).toBe('Authorization: <secret>\nX-Trace: 1');
    expect(screen.getByTestId('edit-feed-secret-hint').textContent).toBe(
      '<secret> keeps the saved value',
    );
    await user.type(headers, '\nX-Extra: 2');
    await user.click(screen.getByTestId('edit-feed-submit'));
    await waitFor(() => expect(screen.queryByTestId('edit-feed-headers')).toBeNull());
    expect(fake.calls.find((c) => c.command === 'edit_feed')?.args).toEqual({
      name: 'a',
      input: {
        url: 'https://a.example/a',
        name: 'a',
        headers: ['Authorization: <secret>', 'X-Trace: 1', 'X-Extra: 2'],
      },
    });
    expect(fake.savedHeaders('a')).toEqual([
      'Authorization: Bearer t0k3n',
      'X-Trace: 1',
      'X-Extra: 2',
    ]);
    const [feed] = await fake.listFeeds();
    expect(feed?.headers).toEqual(['Authorization: <secret>', 'X-Trace: 1', 'X-Extra: 2']);
  });

  it('edits a feed with its current URL and name filled in', async () => {
    const { fake } = await renderApp((f) =>
      f.seedFeed({ url: 'https://a.example/a', name: 'a', headers: [] }),
    );
    const user = userEvent.setup();
    await user.click(screen.getByTestId('feed-edit'));
    const name = screen.getByTestId('edit-feed-name') as HTMLInputElement;
    expect((screen.getByTestId('edit-feed-url') as HTMLInputElement).value).toBe(
      'https://a.example/a',
    );
    expect(name.value).toBe('a');
    await user.clear(name);
    await user.type(name, 'renamed');
    await user.click(screen.getByTestId('edit-feed-submit'));
    await settle();
    await waitFor(() => expect(screen.getByTestId('feed-row').dataset.feedName).toBe('renamed'));
    expect(fake.calls.find((c) => c.command === 'edit_feed')?.args).toEqual({
      name: 'a',
      input: { url: 'https://a.example/a', name: 'renamed', headers: [] },
    });
  });
});
