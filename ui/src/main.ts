import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { chooseBackend } from '$lib/backend';
import { Dashboard } from '$lib/dashboard.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

const dashboard = new Dashboard(await chooseBackend());
mount(App, { target, props: { dashboard } });
void dashboard.start();
