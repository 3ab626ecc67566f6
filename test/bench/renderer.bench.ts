// Renderer cost: gzip size of the production bundle, time to first render of the apps list, main-thread
// cost of one live `counters` update, and JS heap, all with 1,000 fake apps. Anchors in the same run:
// a minimal Svelte "hello" page built with the same toolchain (size, and its load: the floor of a first
// render), and the same UI with 10 apps.
// The UI runs in a demo build (FakeHelper, `?demo&apps=N`) served under the real CSP to /usr/bin/chromium.
import { createServer, type Server } from 'node:http';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { build } from 'vite';
import { SECURITY_HEADERS } from '../../native-helper/src/web/csp.ts';
import { exists, median, sleep, type BenchContext, type BenchRow } from './harness.ts';

const GROUP = 'renderer';
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const rendererDir = path.join(repoRoot, 'renderer');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const BIG = 1000;
const SMALL = 10;
const RENDER_TIMEOUT_MS = 30_000;

export async function benchRenderer(ctx: BenchContext): Promise<BenchRow[]> {
  if (!(await exists(CHROMIUM)))
    throw new Error(`${CHROMIUM} is missing; install Debian's chromium package to run the renderer bench.`);
  const rows: BenchRow[] = [];
  const bundles = await bundleRows(ctx);
  rows.push(...bundles.rows);
  rows.push(...(await browserRows(ctx, bundles.helloDir)));
  return rows;
}

// ---------- 1. bundle size ----------

interface GzipSizes {
  js: number;
  css: number;
  files: string[];
}

async function gzipSizes(dir: string): Promise<GzipSizes> {
  const sizes: GzipSizes = { js: 0, css: 0, files: [] };
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const ext = path.extname(entry.name);
    if (ext !== '.js' && ext !== '.css') continue;
    const file = path.join(entry.parentPath, entry.name);
    const gz = gzipSync(await readFile(file), { level: 9 }).length;
    sizes[ext === '.js' ? 'js' : 'css'] += gz;
    sizes.files.push(path.relative(dir, file));
  }
  if (sizes.js === 0)
    throw new Error(`the build in ${dir} produced no .js file; check the vite output above.`);
  return sizes;
}

/** Same toolchain as the renderer (vite + the Svelte plugin, same build options), one tiny component. */
async function buildHelloPage(ctx: BenchContext): Promise<string> {
  const root = path.join(ctx.tmpdir, 'hello-src');
  const outDir = path.join(ctx.tmpdir, 'hello-dist');
  await mkdir(root, { recursive: true });
  // The generated page lives outside the repo; this link lets it resolve `svelte` from the repo's node_modules.
  await symlink(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  await writeFile(
    path.join(root, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>hello</title></head>' +
      '<body><div id="app"></div><script type="module" src="./main.js"></script></body></html>\n',
  );
  await writeFile(
    path.join(root, 'main.js'),
    "import { mount } from 'svelte';\nimport Hello from './Hello.svelte';\n" +
      "mount(Hello, { target: document.getElementById('app') });\n",
  );
  await writeFile(
    path.join(root, 'Hello.svelte'),
    '<script>\n  let count = $state(0);\n</script>\n\n' +
      '<button onclick={() => count++}>Hello, clicked {count} times</button>\n\n' +
      '<style>\n  button { font: inherit; }\n</style>\n',
  );
  await build({
    root,
    configFile: false,
    base: './',
    logLevel: 'warn',
    plugins: [svelte()],
    build: {
      outDir,
      emptyOutDir: true,
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
      target: 'es2022',
    },
  });
  // Chromium asks for a favicon; a 404 would count as a page error when the page is loaded as an anchor.
  await writeFile(path.join(outDir, 'favicon.ico'), '');
  return outDir;
}

async function buildRenderer(outDir: string, mode: 'production' | 'demo'): Promise<void> {
  await build({
    root: rendererDir,
    configFile: path.join(rendererDir, 'vite.config.ts'),
    mode,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
}

async function bundleRows(ctx: BenchContext): Promise<{ rows: BenchRow[]; helloDir: string }> {
  const prodDir = path.join(ctx.tmpdir, 'renderer-prod');
  ctx.log('building the renderer (production) into a temp dir');
  await buildRenderer(prodDir, 'production');
  const prod = await gzipSizes(prodDir);
  if (prod.files.some((f) => /fake/i.test(f)))
    ctx.log(`warning: the production build contains a fake-transport chunk: ${prod.files.join(', ')}`);
  ctx.log('building the Svelte hello page (anchor)');
  const helloDir = await buildHelloPage(ctx);
  const hello = await gzipSizes(helloDir);
  const kib = (b: number) => b / 1024;
  const anchorJs = 'Svelte hello page, JS';
  const how = 'gzip -9 of every file of `vite build` (node:zlib)';
  const rows: BenchRow[] = [
    {
      group: GROUP,
      name: 'bundle, JS',
      value: kib(prod.js),
      unit: 'KiB gzip',
      ratio: { against: anchorJs, value: prod.js / hello.js },
      note: `${how}: ${prod.files.filter((f) => f.endsWith('.js')).join(', ')}`,
    },
    {
      group: GROUP,
      name: 'bundle, CSS',
      value: kib(prod.css),
      unit: 'KiB gzip',
      // No ratio: the hello page's one style rule is too small to be a meaningful anchor for CSS.
      note: `${how}: ${prod.files.filter((f) => f.endsWith('.css')).join(', ') || 'no CSS'}; no CSS anchor (hello page CSS is ${hello.css} B)`,
    },
    {
      group: GROUP,
      name: anchorJs,
      value: kib(hello.js),
      unit: 'KiB gzip',
      note: 'anchor: one Svelte 5 component ($state + button) mounted, same vite + Svelte plugin + build options; ≈ the Svelte client runtime',
    },
  ];
  return { rows, helloDir };
}

// ---------- 2–4. in the browser ----------

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** A static file server for one directory on 127.0.0.1, with the UI's real security headers. */
async function serve(ctx: BenchContext, dir: string): Promise<string> {
  const server: Server = createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.resolve(dir, `.${urlPath === '/' ? '/index.html' : urlPath}`);
    if (!file.startsWith(dir + path.sep)) {
      res.writeHead(403, SECURITY_HEADERS).end('forbidden');
      return;
    }
    readFile(file).then(
      (body) => {
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          'Cache-Control': 'no-store',
        });
        res.end(body);
      },
      () => res.writeHead(404, SECURITY_HEADERS).end('not found'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  ctx.defer('stop the renderer static server', () => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}/`;
}

const APP_ROW = '[role="list"][aria-label="Apps"] [role="listitem"]';
/** The hello page's content: its one button. */
const HELLO_CONTENT = '#app button';

// Runs in the page before its own scripts (a string so this file needs no DOM types). Records when the
// page's content (the apps list's first row) is first in the DOM, and the frame after that, and wraps
// the FakeHelper's 1 s interval to count counters ticks and time their synchronous part.
const pageProbe = (rowSelector: string) => `(() => {
  const bench = (window.__bench = { firstRowAt: null, firstRowFrameAt: null, setSize: null, ticks: 0, tickMs: 0 });
  const rowSelector = ${JSON.stringify(rowSelector)};
  const mo = new MutationObserver(() => {
    const row = document.querySelector(rowSelector);
    if (!row || bench.firstRowAt !== null) return;
    bench.firstRowAt = performance.now();
    bench.setSize = Number(row.getAttribute('aria-setsize'));
    mo.disconnect();
    requestAnimationFrame(() => { bench.firstRowFrameAt = performance.now(); });
  });
  mo.observe(document, { childList: true, subtree: true });
  const realSetInterval = window.setInterval.bind(window);
  window.setInterval = (fn, ms, ...rest) => {
    if (ms !== 1000 || typeof fn !== 'function') return realSetInterval(fn, ms, ...rest);
    return realSetInterval((...args) => {
      const t0 = performance.now();
      try { fn(...args); } finally { bench.ticks++; bench.tickMs += performance.now() - t0; }
    }, ms, ...rest);
  };
})();`;

interface Probe {
  firstRowAt: number | null;
  firstRowFrameAt: number | null;
  setSize: number | null;
  ticks: number;
  tickMs: number;
}

const readProbe = (page: Page) => page.evaluate('window.__bench') as Promise<Probe>;

interface OpenedUi {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  /** ms from navigation start to the first animation frame after the first app row was inserted. */
  firstRenderMs: number;
  /** ms from navigation start to the insertion of the first app row. */
  firstRowMs: number;
}

/**
 * One cold load: a new browser context, navigation, then waiting (polled from outside) until the probe
 * saw `selector` in the DOM and the animation frame after it.
 */
async function openPage(
  browser: Browser,
  url: string,
  selector: string,
): Promise<OpenedUi & { probe: Probe }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.addInitScript({ content: pageProbe(selector) });
    const cdp = await context.newCDPSession(page);
    // Wall-clock durations (the default time domain), like performance.now() and the 1 s frame budget.
    await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
    await page.goto(url, { timeout: RENDER_TIMEOUT_MS });
    // Polled from outside: waitForFunction evaluates a string in the page, which the UI's CSP forbids.
    // The timestamps are taken inside the page, so the polling interval does not affect them.
    let probe = await readProbe(page);
    for (const deadline = Date.now() + RENDER_TIMEOUT_MS; probe.firstRowFrameAt === null;) {
      if (Date.now() > deadline)
        throw new Error(
          `${url} showed no ${selector} within ${RENDER_TIMEOUT_MS / 1000} s` +
            (pageErrors.length
              ? `; page errors: ${pageErrors.join(' | ')}`
              : '; no page errors were reported.'),
        );
      await sleep(50);
      probe = await readProbe(page);
    }
    if (pageErrors.length) throw new Error(`page errors at ${url}: ${pageErrors.join(' | ')}`);
    return {
      context,
      page,
      cdp,
      probe,
      firstRenderMs: probe.firstRowFrameAt!,
      firstRowMs: probe.firstRowAt!,
    };
  } catch (err) {
    await context.close().catch(() => {});
    throw err;
  }
}

async function openUi(browser: Browser, base: string, apps: number, tick: boolean): Promise<OpenedUi> {
  const url = `${base}?demo&apps=${apps}${tick ? '' : '&tick=off'}#/apps`;
  const ui = await openPage(browser, url, APP_ROW);
  if (ui.probe.setSize !== apps) {
    await ui.context.close().catch(() => {});
    throw new Error(
      `the apps list at ${url} reports ${ui.probe.setSize} apps, not ${apps}; is ?apps=N honoured?`,
    );
  }
  return ui;
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics: list } = (await cdp.send('Performance.getMetrics')) as {
    metrics: { name: string; value: number }[];
  };
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

const mainThreadSeconds = (m: Record<string, number>) =>
  (m.ScriptDuration ?? 0) + (m.LayoutDuration ?? 0) + (m.RecalcStyleDuration ?? 0);

interface UpdateCost {
  msPerUpdate: number;
  handlerMsPerUpdate: number;
  taskMsPerUpdate: number;
  updates: number;
  seconds: number;
}

/** Main-thread time (script + layout + style) per counters tick over `seconds` of the live stream. */
async function measureUpdates(ui: OpenedUi, seconds: number, signal: AbortSignal): Promise<UpdateCost> {
  const m0 = await metrics(ui.cdp);
  const p0 = await readProbe(ui.page);
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    if (signal.aborted) throw new Error('interrupted');
    await sleep(200);
  }
  const m1 = await metrics(ui.cdp);
  const p1 = await readProbe(ui.page);
  const updates = p1.ticks - p0.ticks;
  if (updates < Math.max(1, seconds - 2))
    throw new Error(
      `only ${updates} counters updates arrived in ${seconds} s; the demo's 1 Hz stream is not running.`,
    );
  return {
    msPerUpdate: ((mainThreadSeconds(m1) - mainThreadSeconds(m0)) * 1000) / updates,
    handlerMsPerUpdate: (p1.tickMs - p0.tickMs) / updates,
    taskMsPerUpdate: (((m1.TaskDuration ?? 0) - (m0.TaskDuration ?? 0)) * 1000) / updates,
    updates,
    seconds,
  };
}

/** JS heap in use after a forced GC, in MB. */
async function heapMb(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const m = await metrics(cdp);
  if (typeof m.JSHeapUsedSize !== 'number') throw new Error('chromium reported no JSHeapUsedSize metric.');
  return m.JSHeapUsedSize / 1e6;
}

/**
 * The FakeHelper's own share of an update (generating the event; no listeners), timed here in node:
 * in the real app this work happens in the helper, not the renderer.
 */
async function fakeTickMs(apps: number): Promise<number> {
  // Loaded by URL so the node type-check does not pull in renderer (DOM) code; svelte-check covers it.
  const { FakeHelper } = (await import(
    new URL('../../renderer/src/lib/transport-testing/fake-helper.ts', import.meta.url).href
  )) as {
    FakeHelper: new (opts: { apps: number }) => { tick(): void; close(): void };
  };
  const fake = new FakeHelper({ apps });
  for (let i = 0; i < 30; i++) fake.tick(); // JIT warm-up
  const samples: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    fake.tick();
    samples.push(performance.now() - t0);
  }
  fake.close();
  return median(samples);
}

async function browserRows(ctx: BenchContext, helloDir: string): Promise<BenchRow[]> {
  const demoDir = path.join(ctx.tmpdir, 'renderer-demo');
  ctx.defer('remove the demo build', () => rm(demoDir, { recursive: true, force: true }));
  ctx.log('building the renderer (demo mode) into a temp dir');
  await buildRenderer(demoDir, 'demo');
  const base = await serve(ctx, demoDir);
  const helloBase = await serve(ctx, helloDir);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  ctx.defer('close chromium', () => browser.close());

  const runs = ctx.quick ? 3 : 7;
  const updateSeconds = ctx.quick ? 6 : 20;
  const render: Record<number, number[]> = { [BIG]: [], [SMALL]: [] };
  const rowInserted: Record<number, number[]> = { [BIG]: [], [SMALL]: [] };
  const hello: { render: number[]; inserted: number[] } = { render: [], inserted: [] };
  // One warm-up load so the first measured run does not pay for chromium's own start-up work.
  await (await openUi(browser, base, SMALL, false)).context.close();
  // Interleaved so drift on a shared machine hits both sizes alike.
  await (await openPage(browser, helloBase, HELLO_CONTENT)).context.close();
  for (let i = 0; i < runs; i++) {
    // The anchor: the Svelte hello page, loaded the same way (same server headers, same probe).
    const h = await openPage(browser, helloBase, HELLO_CONTENT);
    await h.context.close();
    hello.render.push(h.firstRenderMs);
    hello.inserted.push(h.firstRowMs);
    ctx.log(`hello page, run ${i + 1}/${runs}: content after ${h.firstRenderMs.toFixed(1)} ms`);
    for (const apps of [SMALL, BIG]) {
      if (ctx.signal.aborted) throw new Error('interrupted');
      const ui = await openUi(browser, base, apps, false);
      await ui.context.close();
      render[apps]!.push(ui.firstRenderMs);
      rowInserted[apps]!.push(ui.firstRowMs);
      ctx.log(`${apps} apps, run ${i + 1}/${runs}: first rows after ${ui.firstRenderMs.toFixed(1)} ms`);
    }
  }

  const live: Record<number, { cost: UpdateCost; heap: number; idleMsPerSecond: number; fakeMs: number }> =
    {};
  for (const apps of [SMALL, BIG]) {
    // Idle baseline: the same page with the stream off, so the cost below is not background work.
    const idle = await openUi(browser, base, apps, false);
    let idleMsPerSecond: number;
    try {
      await sleep(1000);
      const a = await metrics(idle.cdp);
      await sleep(3000);
      idleMsPerSecond = ((mainThreadSeconds(await metrics(idle.cdp)) - mainThreadSeconds(a)) * 1000) / 3;
    } finally {
      await idle.context.close();
    }
    const ui = await openUi(browser, base, apps, true);
    try {
      await sleep(1500); // let start-up work settle; the first ticks land in here
      const heap = await heapMb(ui.cdp);
      const cost = await measureUpdates(ui, updateSeconds, ctx.signal);
      ctx.log(
        `${apps} apps: ${cost.msPerUpdate.toFixed(2)} ms main thread per update (${cost.updates} updates), ` +
          `handler ${cost.handlerMsPerUpdate.toFixed(2)} ms, idle ${idleMsPerSecond.toFixed(2)} ms/s, heap ${heap.toFixed(1)} MB`,
      );
      live[apps] = { cost, heap, idleMsPerSecond, fakeMs: await fakeTickMs(apps) };
    } finally {
      await ui.context.close();
    }
  }

  const big = live[BIG]!;
  const small = live[SMALL]!;
  const ms = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' / ');
  const ttfrNote = (apps: number) =>
    `median of ${runs} cold loads (new browser context each), navigation start → first animation frame after ` +
    `the first app row is in the DOM: ${ms(render[apps]!)}; row inserted at ${median(rowInserted[apps]!).toFixed(0)} ms (median)`;
  const updateNote = (r: typeof big) =>
    `(script + layout + style recalc, wall clock, CDP Performance.getMetrics) / ${r.cost.updates} updates over ${r.cost.seconds} s; ` +
    `synchronous tick + dispatch into the stores ${r.cost.handlerMsPerUpdate.toFixed(2)} ms, of which the FakeHelper ` +
    `generating the event ≈ ${r.fakeMs.toFixed(2)} ms (tick() without listeners, timed in node); the rest is Svelte's flush, style, layout; ` +
    `all main-thread tasks ${r.cost.taskMsPerUpdate.toFixed(2)} ms; idle page without the stream ${r.idleMsPerSecond.toFixed(2)} ms/s`;
  const tiny = 1e-6;
  return [
    {
      group: GROUP,
      name: `first render, ${BIG} apps`,
      value: median(render[BIG]!),
      unit: 'ms',
      ratio: { against: `first render, ${SMALL} apps`, value: median(render[BIG]!) / median(render[SMALL]!) },
      target: { max: 1.2, label: `≤ 1.2× first render, ${SMALL} apps (issue 16)` },
      note: ttfrNote(BIG),
    },
    {
      group: GROUP,
      name: `first render, ${SMALL} apps`,
      value: median(render[SMALL]!),
      unit: 'ms',
      ratio: {
        against: 'first render, Svelte hello page',
        value: median(render[SMALL]!) / median(hello.render),
      },
      target: { max: 1.5, label: '≤ 1.5× the Svelte hello page (issue 16)' },
      note: `anchor of the row above; ${ttfrNote(SMALL)}`,
    },
    {
      group: GROUP,
      name: 'first render, Svelte hello page',
      value: median(hello.render),
      unit: 'ms',
      note:
        `anchor: the hello page of the bundle rows, served the same way (same server, CSP headers, chromium), ` +
        `median of ${runs} cold loads interleaved with the runs above, navigation start → first animation frame after ` +
        `its button is in the DOM: ${ms(hello.render)}; button inserted at ${median(hello.inserted).toFixed(0)} ms (median)`,
    },
    {
      group: GROUP,
      name: `counters update, ${BIG} apps`,
      value: big.cost.msPerUpdate,
      unit: 'ms/update',
      ratio: {
        against: `counters update, ${SMALL} apps`,
        value: big.cost.msPerUpdate / Math.max(small.cost.msPerUpdate, tiny),
      },
      target: { max: 2, label: `≤ 2× counters update, ${SMALL} apps (issue 16)` },
      note: updateNote(big),
    },
    {
      group: GROUP,
      name: `counters update, ${BIG} apps, share of 1 s`,
      value: (big.cost.msPerUpdate / 1000) * 100,
      unit: '% of 1 s',
      note: 'the stream ticks at 1 Hz, so this is the main-thread share it takes',
    },
    {
      group: GROUP,
      name: `counters update, ${SMALL} apps`,
      value: small.cost.msPerUpdate,
      unit: 'ms/update',
      note: `anchor: ${updateNote(small)}`,
    },
    {
      group: GROUP,
      name: `JS heap, ${BIG} apps`,
      value: big.heap,
      unit: 'MB',
      ratio: { against: `JS heap, ${SMALL} apps`, value: big.heap / small.heap },
      note: 'CDP JSHeapUsedSize after a forced GC, 1.5 s after the first render, stream running',
    },
    {
      group: GROUP,
      name: `JS heap, ${SMALL} apps`,
      value: small.heap,
      unit: 'MB',
      note: 'anchor: same, 10 apps',
    },
  ];
}
