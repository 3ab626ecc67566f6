// The web bridge over real HTTP and WebSocket, in front of a helper stand-in on a real Unix socket.
// (The real helper behind the bridge is covered end to end by test/e2e.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import {
  type HelperStandIn,
  startHelperStandIn,
} from '../../native-helper/src/daemon-testing/helper-standin.ts';
import { type WebBridge, startWebBridge } from '../../native-helper/src/web/bridge.ts';
import { CONTENT_SECURITY_POLICY } from '../../native-helper/src/web/csp.ts';

const TOKEN = 'test-token-0123456789abcdef';
let helper: HelperStandIn;
let bridge: WebBridge;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sy-bridge-'));
  const dist = join(dir, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(
    join(dist, 'index.html'),
    '<!doctype html><title>Switchyard</title><script src="./assets/app.js"></script>',
  );
  writeFileSync(join(dist, 'assets', 'app.js'), 'console.log("ui")');
  writeFileSync(join(dist, 'assets', 'app.css'), 'body{}');
  writeFileSync(join(dir, 'secret.txt'), 'outside the renderer dir');
  helper = await startHelperStandIn();
  helper.handle('events.history', () => [
    {
      event: 'egress.killed',
      seq: 1,
      time: '2026-01-01T00:00:00.000Z',
      data: { app: 'firefox', egresses: ['wlan0'] },
    },
  ]);
  bridge = await startWebBridge({
    helperSocket: helper.socketPath,
    port: 0,
    rendererDir: dist,
    token: TOKEN,
    exportDir: join(dir, 'out'),
  });
});

afterAll(async () => {
  await bridge?.close();
  await helper?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(path: string, headers: Record<string, string> = {}, host = '127.0.0.1'): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port: bridge.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Try a WebSocket upgrade; resolves with the open socket or the HTTP status that refused it. */
function open(opts: { token?: string | null; origin?: string | null; host?: string; cookie?: string } = {}) {
  const token = opts.token === undefined ? TOKEN : opts.token;
  const url = `ws://127.0.0.1:${bridge.port}/api${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
  const headers: Record<string, string> = {};
  if (opts.host) headers.Host = opts.host;
  if (opts.cookie) headers.Cookie = opts.cookie;
  const origin = opts.origin === undefined ? bridge.origin : opts.origin;
  const ws = new WebSocket(url, { ...(origin === null ? {} : { origin }), headers });
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
  return new Promise<
    { ws: WebSocket; messages: typeof messages; setCookie: string | null } | { status: number; body: string }
  >((resolve) => {
    let setCookie: string | null = null;
    ws.on('upgrade', (res) => {
      const c = res.headers['set-cookie'];
      setCookie = c?.[0]?.split(';')[0] ?? null;
    });
    ws.on('open', () => resolve({ ws, messages, setCookie }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', () => {});
  });
}

function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error('condition not met in time'));
      setTimeout(tick, 5);
    };
    tick();
  });
}

function reply(messages: Record<string, unknown>[], id: number) {
  return messages.find((m) => m.id === id);
}

// Order matters: the first successful upgrade binds the token to one browser session.
describe('web bridge', () => {
  it('listens on 127.0.0.1 only and prints a URL with the token in the fragment', async () => {
    expect(bridge.url).toBe(`http://127.0.0.1:${bridge.port}/#token=${TOKEN}`);
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    for (const address of ['::1', ...others]) {
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        const s = tcpConnect({ host: address, port: bridge.port });
        s.on('connect', () => {
          s.destroy();
          resolve(null);
        });
        s.on('error', (e) => resolve(e));
      });
      expect(err?.code, `reachable on ${address}`).toMatch(/ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH/);
    }
    expect(
      await startWebBridge({ helperSocket: helper.socketPath, port: bridge.port, rendererDir: dir }).catch(
        (e: Error) => e.message,
      ),
    ).toMatch(/in use/);
  });

  it('serves static files with MIME types and the CSP header, and nothing outside the renderer dir', async () => {
    const index = await get('/', { Host: `127.0.0.1:${bridge.port}` });
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.body).toContain('<title>Switchyard</title>');
    const js = await get('/assets/app.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect((await get('/assets/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get('/assets/missing.js')).status).toBe(404);
    for (const evil of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await get(evil);
      expect(r.status, evil).not.toBe(200);
      expect(r.body).not.toContain('outside the renderer dir');
    }
  });

  it('refuses HTTP requests for another Host (DNS rebinding)', async () => {
    const r = await get('/', { Host: `evil.example:${bridge.port}` });
    expect(r.status).toBe(421);
    expect(r.body).not.toContain('Switchyard');
    expect((await get('/', { Host: `localhost:${bridge.port}` })).status).toBe(200);
  });

  it('refuses a WebSocket without the token or with a wrong one', async () => {
    expect(await open({ token: null })).toMatchObject({ status: 401 });
    expect(await open({ token: 'wrong-token-0123456789abcdef' })).toMatchObject({ status: 401 });
    expect(await open({ token: TOKEN.slice(0, -1) })).toMatchObject({ status: 401 });
  });

  it('refuses a WebSocket from another Origin or without one', async () => {
    const r = await open({ origin: 'http://evil.example' });
    expect(r).toMatchObject({ status: 403 });
    expect((r as { body: string }).body).toMatch(/wrong Origin/);
    expect(await open({ origin: `http://127.0.0.1:${bridge.port + 1}` })).toMatchObject({ status: 403 });
    expect(await open({ origin: null })).toMatchObject({ status: 403 });
  });

  it('refuses a WebSocket upgrade with another Host', async () => {
    expect(
      await open({ host: `evil.example:${bridge.port}`, origin: `http://evil.example:${bridge.port}` }),
    ).toMatchObject({ status: 421 });
    expect(await open({ host: `evil.example:${bridge.port}` })).toMatchObject({ status: 421 });
  });

  let sessionCookie = '';

  it('lets the page call status.get and shell methods and receive events', async () => {
    const s = await open();
    if (!('ws' in s)) throw new Error(`refused: ${s.status} ${s.body}`);
    expect(s.setCookie).toMatch(new RegExp(`^sy_session_${bridge.port}=`));
    sessionCookie = s.setCookie!;
    const { ws, messages } = s;
    ws.send(JSON.stringify({ id: 1, method: 'status.get', params: {} }));
    ws.send(JSON.stringify({ id: 2, method: 'shell.info' }));
    ws.send(JSON.stringify({ id: 3, method: 'events.subscribe', params: {} }));
    ws.send(JSON.stringify({ id: 4, method: 'shell.connection' }));
    await until(() => [1, 2, 3, 4].every((id) => reply(messages, id)));
    expect(reply(messages, 1)).toMatchObject({ id: 1, result: { instance: 'test', apiVersion: 1 } });
    expect(reply(messages, 2)).toMatchObject({
      result: { mode: 'web', canAutostart: false, helperSocket: helper.socketPath },
    });
    expect(reply(messages, 3)).toEqual({ id: 3, result: { ok: true } });
    expect(reply(messages, 4)).toMatchObject({ result: { state: 'connected', socket: helper.socketPath } });
    expect(messages.some((m) => m.event === 'shell.connection')).toBe(true);

    helper.emit('egress.failover', { app: 'firefox', from: 'wlan0', to: 'eth0' });
    await until(() => messages.some((m) => m.event === 'egress.failover'));
    expect(messages.find((m) => m.event === 'egress.failover')).toMatchObject({
      data: { app: 'firefox', from: 'wlan0', to: 'eth0' },
    });

    // A topic filter narrows what this page gets.
    ws.send(JSON.stringify({ id: 5, method: 'events.subscribe', params: { topics: ['egress.killed'] } }));
    await until(() => !!reply(messages, 5));
    helper.emit('egress.failover', { app: 'firefox', from: 'eth0', to: 'wlan0' });
    helper.emit('egress.killed', { app: 'firefox', egresses: ['wlan0'] });
    await until(() => messages.some((m) => m.event === 'egress.killed'));
    expect(messages.filter((m) => m.event === 'egress.failover')).toHaveLength(1);

    // Helper method validation and shell methods that act.
    ws.send(JSON.stringify({ id: 6, method: 'apps.get', params: { id: 'NOT VALID' } }));
    ws.send(JSON.stringify({ id: 7, method: 'no.such.method' }));
    ws.send(JSON.stringify({ id: 8, method: 'shell.setAutostart', params: { enabled: true } }));
    ws.send(JSON.stringify({ id: 9, method: 'shell.exportEvents', params: { format: 'csv' } }));
    await until(() => [6, 7, 8, 9].every((id) => reply(messages, id)));
    expect(reply(messages, 6)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect(reply(messages, 7)).toMatchObject({ error: { code: 'UNKNOWN_METHOD' } });
    expect(reply(messages, 8)).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    const path = (reply(messages, 9) as { result: { path: string } }).result.path;
    expect(path.startsWith(join(dir, 'out'))).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('egress.killed,firefox');
    expect(helper.requests.some((r) => r.method === 'apps.get')).toBe(false);
    ws.close();
  });

  it('binds the token to the first browser: a second one without its cookie is refused, a reload is not', async () => {
    const other = await open();
    expect(other).toMatchObject({ status: 403 });
    expect((other as { body: string }).body).toMatch(/already in use/);
    const reload = await open({ cookie: sessionCookie });
    if (!('ws' in reload)) throw new Error(`reload refused: ${reload.status} ${reload.body}`);
    reload.ws.close();
  });

  it('answers garbage with a typed error and a close, and keeps serving others', async () => {
    for (const garbage of ['{not json', JSON.stringify({ id: 'x', method: 42 }), JSON.stringify([1, 2])]) {
      const s = await open({ cookie: sessionCookie });
      if (!('ws' in s)) throw new Error('refused');
      const closed = new Promise<{ code: number; reason: string }>((r) =>
        s.ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
      );
      s.ws.send(garbage);
      const c = await closed;
      expect(c.code).toBe(1007);
      const err = s.messages.find((m) => 'error' in m) as {
        id: unknown;
        error: { code: string; message: string };
      };
      expect(err.error.code).toBe('BAD_REQUEST');
      expect(err.id).toBeNull();
      expect(err.error.message.length).toBeGreaterThan(5);
    }
    const big = await open({ cookie: sessionCookie });
    if (!('ws' in big)) throw new Error('refused');
    const closed = new Promise<number>((r) => big.ws.on('close', (code) => r(code)));
    big.ws.send('x'.repeat(2 * 1024 * 1024));
    expect(await closed).toBe(1009);

    const after = await open({ cookie: sessionCookie });
    if (!('ws' in after)) throw new Error('refused after garbage');
    after.ws.send(JSON.stringify({ id: 1, method: 'status.get' }));
    await until(() => !!reply(after.messages, 1));
    expect(reply(after.messages, 1)).toMatchObject({ result: { instance: 'test' } });
    after.ws.close();
    expect((await get('/')).status).toBe(200);
  });

  it('tells the page when the helper goes away and comes back', async () => {
    const s = await open({ cookie: sessionCookie });
    if (!('ws' in s)) throw new Error('refused');
    await helper.stop();
    await until(() =>
      s.messages.some(
        (m) => m.event === 'shell.connection' && (m.data as { state: string }).state === 'absent',
      ),
    );
    s.ws.send(JSON.stringify({ id: 1, method: 'status.get' }));
    await until(() => !!reply(s.messages, 1));
    expect(reply(s.messages, 1)).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    await helper.restart();
    await until(
      () =>
        s.messages.filter(
          (m) => m.event === 'shell.connection' && (m.data as { state: string }).state === 'connected',
        ).length >= 2,
      15_000,
    );
    s.ws.close();
  });
});

// A real browser: the CSP lets the page's own WebSocket through ('self' covers ws: on the same
// host:port), blocks inline script, and the token binds to the first browser profile.
/** The page's title once its WebSocket settled ("ok:…" or "closed:CODE"). Polled from here, since
 * the page's CSP forbids the eval that a string predicate in waitForFunction would need. */
async function settledTitle(page: { title(): Promise<string> }): Promise<string> {
  const start = Date.now();
  while (Date.now() - start < 10_000) {
    const t = await page.title();
    if (t.startsWith('ok:') || t.startsWith('closed:')) return t;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the page never settled');
}

describe('web bridge in Chromium', () => {
  it('connects from the page, enforces the CSP, and refuses a second browser with the same link', async () => {
    const dist = join(dir, 'browser-dist');
    mkdirSync(dist);
    writeFileSync(
      join(dist, 'index.html'),
      '<!doctype html><title>start</title><script>document.title = "inline-ran"</script><script src="./app.js"></script>',
    );
    writeFileSync(
      join(dist, 'app.js'),
      `const token = /token=([^&]+)/.exec(location.hash)?.[1] ?? sessionStorage.getItem('t');
       sessionStorage.setItem('t', token);
       const ws = new WebSocket('ws://' + location.host + '/api?token=' + token);
       ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'status.get' }));
       ws.onmessage = (m) => { const d = JSON.parse(m.data); if (d.id === 1) document.title = 'ok:' + d.result.instance; };
       ws.onclose = (e) => { if (!document.title.startsWith('ok')) document.title = 'closed:' + e.code; };`,
    );
    const own = await startWebBridge({ helperSocket: helper.socketPath, port: 0, rendererDir: dist });
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    try {
      const first = await browser.newContext();
      const page = await first.newPage();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(own.url);
      expect(await settledTitle(page)).toBe('ok:test');
      expect(violations.some((v) => /inline/i.test(v))).toBe(true);
      expect(own.sessions()).toBe(1);

      await page.reload(); // same browser: its session cookie lets it back in
      expect(await settledTitle(page)).toBe('ok:test');

      const second = await browser.newContext();
      const other = await second.newPage();
      await other.goto(own.url);
      expect(await settledTitle(other)).toBe('closed:1006');
    } finally {
      await browser.close();
      await own.close();
    }
  }, 60_000);
});
