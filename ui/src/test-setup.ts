// Shared set-up for the component tests (jsdom). @testing-library/svelte's vite plugin adds the
// cleanup after each test.

// jsdom has no layout, so no ResizeObserver (Svelte's `bind:clientHeight` uses one): a stub that
// never reports; the event list then assumes a window's height.
class NoResizeObserver {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}

globalThis.ResizeObserver ??= NoResizeObserver;
