import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

// The CSP the app runs under (the shell's tauri.conf.json sets it; keep the two alike). `vite preview`
// serves the build with it, so a violation shows up in a plain browser's console too.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ipc: http://ipc.localhost",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

// The Tauri shell serves `dist/` as the app's frontend (and points at the dev server in `tauri dev`).
export default defineConfig({
  plugins: [svelte({ emitCss: true }), svelteTesting()],
  resolve: {
    alias: { $lib: fileURLToPath(new URL('./src/lib', import.meta.url)) },
  },
  clearScreen: false,
  server: { port: 1420, strictPort: true, host: '127.0.0.1' },
  preview: { headers: { 'Content-Security-Policy': CSP } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No CSS in data: URLs or inline chunks: everything lands in files that `style-src 'self'` allows.
    assetsInlineLimit: 0,
    cssCodeSplit: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
    // jsdom on a small CI machine is slow; nothing here waits on real time for long.
    testTimeout: 15_000,
  },
});
