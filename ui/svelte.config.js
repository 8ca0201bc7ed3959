import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  preprocess: vitePreprocess(),
  compilerOptions: {
    // Component styles go to a .css file (the plugin's emitCss), never into <style> tags at run
    // time: the app's CSP is `style-src 'self'`.
    css: 'external',
    runes: true,
  },
};
