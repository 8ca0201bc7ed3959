// The same paint mark as the dashboard's (ui/src/main.ts): the shell logs when this first frame is on screen.
requestAnimationFrame(() =>
  requestAnimationFrame(() => window.__TAURI_INTERNALS__.invoke('painted', { stage: 'shell' })),
);
