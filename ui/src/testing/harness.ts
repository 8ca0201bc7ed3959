/**
 * Renders the whole dashboard against a `FakeBackend` for component tests. `seed` fills the fake
 * before the dashboard starts, as the core's database would be on disk.
 */
import { render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '../App.svelte';
import { FakeBackend } from '$lib/backend/fake';
import { Dashboard, type DashboardOptions } from '$lib/dashboard.svelte';
import type { EventQuery } from '$lib/bindings';

export async function renderApp(
  seed: (fake: FakeBackend) => void = () => {},
  options: DashboardOptions = {},
) {
  const fake = new FakeBackend();
  seed(fake);
  const dashboard = new Dashboard(fake, { feedsReloadMs: 0, ...options });
  const result = render(App, { props: { dashboard } });
  await dashboard.start();
  await tick();
  return { fake, dashboard, ...result };
}

/** The `list_events` queries the UI made, in order. */
export function eventQueries(fake: FakeBackend): EventQuery[] {
  return fake.calls
    .filter((c) => c.command === 'list_events')
    .map((c) => (c.args as { query: EventQuery }).query);
}

export function rows(): HTMLElement[] {
  return screen.queryAllByTestId('event-row');
}

export function rowSeqs(): number[] {
  return rows().map((r) => Number(r.dataset.seq));
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
    await tick();
  }
}

export { waitFor };
