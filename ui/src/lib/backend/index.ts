/**
 * Picks the backend at start-up: the Tauri shell when the page runs inside it (Tauri defines
 * `window.__TAURI_INTERNALS__`), else the in-memory fake, so `npm run dev` in a plain browser shows a
 * working dashboard. In the browser, `?fake=demo` starts with demo feeds and `&events=100000` fills
 * the list with that many stored events.
 */
import type { Backend } from './backend';

export type { Backend, PaintStage, Unsubscribe } from './backend';
export { toCommandError, isCommandError } from './backend';

export function insideTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

export async function chooseBackend(): Promise<Backend> {
  if (insideTauri()) {
    const { TauriBackend } = await import('./tauri');
    return new TauriBackend();
  }
  const { FakeBackend } = await import('./fake');
  const params = new URLSearchParams(window.location.search);
  const backend = new FakeBackend({ live: true });
  if (params.get('fake') === 'demo') {
    backend.seedShowcase(Number(params.get('events') ?? 400) || 400);
  }
  return backend;
}
