import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { chooseBackend, type PaintStage } from '$lib/backend';
import { Dashboard } from '$lib/dashboard.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

const dashboard = new Dashboard(await chooseBackend());

/** Tells the shell once the frame drawn now is on screen (the next one has begun): it logs start-up time. */
function markPainted(stage: PaintStage): void {
  requestAnimationFrame(() =>
    requestAnimationFrame(() => void dashboard.backend.painted(stage).catch(() => {})),
  );
}

mount(App, { target, props: { dashboard } });
markPainted('shell');
void dashboard.start().finally(() => markPainted('loaded'));
