import { screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderApp, rows, waitFor } from './testing/harness';

describe('first run', () => {
  it('explains what to do and adds the demo feed in one click', async () => {
    const { fake } = await renderApp();
    const empty = screen.getByTestId('empty-state');
    expect(empty.textContent).toContain('Server-Sent Events');
    expect(screen.queryByTestId('event-detail')).toBeNull();

    await userEvent.click(screen.getByTestId('demo-button'));

    expect(fake.calls.map((c) => c.command)).toContain('add_demo_feed');
    await waitFor(() => expect(screen.queryByTestId('empty-state')).toBeNull());
    const feed = screen.getByTestId('feed-row');
    expect(feed.dataset.feedName).toBe('demo');
    expect(feed.querySelector('[data-testid="feed-state"]')?.textContent).toBe('live');
  });

  it('shows the dashboard, not the empty state, once there are feeds', async () => {
    await renderApp((fake) => {
      fake.seedFeed({ url: 'https://ci.example.com/stream', name: 'ci', headers: [] });
      fake.seedEvents('ci', 3);
    });
    expect(screen.queryByTestId('empty-state')).toBeNull();
    expect(rows()).toHaveLength(3);
  });
});
