import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import 'uplot/dist/uPlot.min.css';
import { createClient } from './lib/transport/index.ts';

const target = document.getElementById('app');
if (!target) throw new Error('index.html must contain #app');
const client = await createClient();
mount(App, { target, props: { client } });
