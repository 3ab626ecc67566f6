import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../mechanism/exec.ts';
import { type HelperStandIn, standInStatus, startHelperStandIn } from '../daemon-testing/helper-standin.ts';
import { ConnectError, HelperSocketClient } from './client.ts';
import { ReconnectingHelperClient, backoffDelay, classifyConnectFailure } from './reconnecting-client.ts';
import { API_VERSION, ApiError } from './schema.ts';
import type { HelperConnection } from './shell-schema.ts';

let helper: HelperStandIn;
const cleanups: (() => void | Promise<void>)[] = [];

beforeEach(async () => {
  helper = await startHelperStandIn();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await helper.dispose();
});

async function connect(opts = {}) {
  const c = await HelperSocketClient.connect(helper.socketPath, opts);
  cleanups.push(() => c.close());
  return c;
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

const app = {
  id: 'firefox',
  name: 'Firefox',
  icon: null,
  source: 'desktop',
  matchers: { desktopId: 'firefox.desktop' },
  tag: 3,
  choice: { mode: 'default' },
  managed: false,
  pids: [],
  egress: { state: 'default', active: null },
  counters: { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 },
  held: [],
};

describe('HelperSocketClient', () => {
  it('calls a method with distinct ids and returns the validated result', async () => {
    helper.handle('apps.get', () => app);
    const c = await connect();
    const [s, a] = await Promise.all([c.call('status.get', {}), c.call('apps.get', { id: 'firefox' })]);
    expect(s.apiVersion).toBe(API_VERSION);
    expect(a.name).toBe('Firefox');
    expect(helper.requests.map((r) => r.method)).toEqual(['status.get', 'apps.get']);
    expect(new Set(helper.requests.map((r) => r.id)).size).toBe(2);
    expect(helper.requests[1]?.params).toEqual({ id: 'firefox' });
  });

  it('sends schema defaults and rejects bad params before they reach the helper', async () => {
    helper.handle('events.history', () => []);
    const c = await connect();
    await c.call('events.history', {});
    expect(helper.requests.at(-1)?.params).toEqual({ limit: 500 });
    const err = await c.call('apps.get', { id: 'NOT VALID' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('BAD_REQUEST');
    expect(helper.requests).toHaveLength(1);
  });

  it('turns an error response into a typed ApiError', async () => {
    helper.handle('apps.get', () => {
      throw Object.assign(new Error('no app firefox'), { code: 'NOT_FOUND' });
    });
    const c = await connect();
    const err = await c.call('apps.get', { id: 'firefox' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('NOT_FOUND');
    expect((err as ApiError).message).toBe('no app firefox');
  });

  it('rejects a result that does not match the schema', async () => {
    helper.handle('status.get', () => ({ version: 1 }));
    const c = await connect();
    const err = (await c.call('status.get', {}).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toMatch(/status.get returned a malformed result/);
  });

  it('times out a request the helper never answers', async () => {
    helper.handle('status.get', () => undefined);
    const c = await connect({ requestTimeoutMs: 50 });
    const err = (await c.call('status.get', {}).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/did not answer within 50 ms/);
  });

  it('rejects pending requests when the connection closes', async () => {
    helper.handle('status.get', () => undefined);
    const c = await connect();
    const p = c.call('status.get', {}).catch((e: unknown) => e);
    await until(() => helper.requests.length === 1);
    helper.dropConnections();
    const err = (await p) as ApiError;
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/closed before it answered/);
    expect(c.closed).toBe(true);
  });

  it('delivers validated events after subscribe and drops malformed ones', async () => {
    const problems: Error[] = [];
    const c = await connect({ onProblem: (e: Error) => problems.push(e) });
    const killed: unknown[] = [];
    const envelopes: string[] = [];
    c.on('egress.killed', (d) => killed.push(d));
    c.onEvent((e) => envelopes.push(e.event));
    helper.emit('egress.killed', { app: 'firefox', egresses: ['wlan0'] }); // not yet subscribed
    await c.subscribe();
    helper.emit('egress.killed', { app: 'BAD ID', egresses: [] });
    helper.emit('egress.killed', { app: 'firefox', egresses: ['wlan0'] });
    await until(() => killed.length === 1 && problems.length === 1);
    expect(killed).toEqual([{ app: 'firefox', egresses: ['wlan0'] }]);
    expect(envelopes).toEqual(['egress.killed']);
    expect(problems[0]?.message).toMatch(/event egress.killed is malformed/);
  });

  it('fails to connect with the errno when there is no socket', async () => {
    const err = await HelperSocketClient.connect(join(tmpdir(), `sy-none-${process.pid}.sock`)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).errno).toBe('ENOENT');
  });
});

describe('backoff', () => {
  it('doubles from 250 ms and caps at 10 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map((a) => backoffDelay(a))).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10000, 10000, 10000,
    ]);
  });

  it('classifies connect failures', () => {
    expect(classifyConnectFailure('ENOENT', '/s', '').state).toBe('absent');
    expect(classifyConnectFailure('ECONNREFUSED', '/s', '').state).toBe('absent');
    expect(classifyConnectFailure('EACCES', '/s', '').state).toBe('refused');
  });
});

describe('ReconnectingHelperClient', () => {
  function reconnecting(socketPath = helper.socketPath) {
    const states: HelperConnection[] = [];
    const c = new ReconnectingHelperClient({ socketPath, backoff: { initialDelayMs: 20, maxDelayMs: 80 } });
    c.onConnection((s) => states.push(s));
    cleanups.push(() => c.stop());
    return { c, states };
  }

  it('is absent with growing retry delays while there is no helper, then connects when it appears', async () => {
    await helper.stop();
    const { c, states } = reconnecting();
    c.start();
    await until(() => states.filter((s) => s.state === 'absent').length >= 4);
    const absent = states.filter((s) => s.state === 'absent');
    expect(absent.slice(0, 4).map((s) => s.retryInMs)).toEqual([20, 40, 80, 80]);
    expect(absent[0]?.message).toMatch(/not running \(no socket at .*helper.sock\).*systemctl/);
    const err = (await c.call('status.get', {}).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/not running/);

    await helper.restart();
    await c.waitUntilConnected(2000);
    expect(c.connection().state).toBe('connected');
    expect(c.connection().retryInMs).toBeNull();
    expect(c.status()?.version).toBe('0.1.0-test');
    expect((await c.call('status.get', {})).instance).toBe('test');
  });

  it('says absent (ECONNREFUSED) for a stale socket file nobody listens on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-stale-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const stale = join(dir, 'helper.sock');
    // Python leaves the socket file behind when it exits, which is what a crashed helper does.
    await run([
      'python3',
      '-c',
      `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`,
    ]);
    const { c, states } = reconnecting(stale);
    c.start();
    await until(() => states.some((s) => s.state === 'absent'));
    expect(states.find((s) => s.state === 'absent')?.message).toMatch(/nothing listens on/);
  });

  it('reconnects and resubscribes after the helper drops the connection', async () => {
    const { c, states } = reconnecting();
    const restored: unknown[] = [];
    c.on('egress.restored', (d) => restored.push(d));
    c.start();
    await c.waitUntilConnected(2000);
    helper.emit('egress.restored', { app: 'firefox', egress: 'eth0' });
    await until(() => restored.length === 1);

    helper.dropConnections();
    await until(() => states.filter((s) => s.state === 'connected').length === 2);
    expect(states.map((s) => s.state)).toEqual(['connected', 'connecting', 'connected']);
    expect(helper.requests.filter((r) => r.method === 'events.subscribe')).toHaveLength(2);
    helper.emit('egress.restored', { app: 'firefox', egress: 'wlan0' });
    await until(() => restored.length === 2);
    expect(restored[1]).toEqual({ app: 'firefox', egress: 'wlan0' });
  });

  it('is incompatible when the helper speaks another API version', async () => {
    helper.handle('status.get', () => standInStatus({ apiVersion: API_VERSION + 1 }));
    const { c, states } = reconnecting();
    c.start();
    await until(() => states.some((s) => s.state === 'incompatible'));
    const s = states.find((x) => x.state === 'incompatible')!;
    expect(s.message).toContain(`API version ${API_VERSION + 1}`);
    expect(s.retryInMs).toBe(20);
    helper.handle('status.get', () => standInStatus());
    await c.waitUntilConnected(2000);
  });

  it('is refused when the helper says UNAUTHORIZED', async () => {
    helper.handle('status.get', () => {
      throw Object.assign(new Error('uid 1000 is not in group switchyard'), { code: 'UNAUTHORIZED' });
    });
    const { c, states } = reconnecting();
    c.start();
    await until(() => states.some((s) => s.state === 'refused'));
    expect(states.find((s) => s.state === 'refused')?.message).toMatch(
      /not in group switchyard.*usermod -aG switchyard/,
    );
  });

  it('is refused (EACCES) when the socket mode keeps this user out', async () => {
    chmodSync(helper.socketPath, 0o660);
    const script = join(tmpdir(), `sy-eacces-${process.pid}.mjs`);
    cleanups.push(() => rmSync(script, { force: true }));
    const clientUrl = new URL('./reconnecting-client.ts', import.meta.url).href;
    writeFileSync(
      script,
      `const { ReconnectingHelperClient } = await import(${JSON.stringify(clientUrl)});
       const c = new ReconnectingHelperClient({ socketPath: ${JSON.stringify(helper.socketPath)} });
       c.onConnection((s) => { console.log(JSON.stringify(s)); c.stop(); });
       c.start();`,
    );
    chmodSync(script, 0o644);
    // Root ignores file modes, so run the client as nobody (the temp dir is world-searchable).
    const asNobody =
      process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    chmodSync(join(helper.socketPath, '..'), 0o755);
    if (!asNobody.length) chmodSync(helper.socketPath, 0o000);
    const out = await run([...asNobody, process.execPath, '--import', 'tsx', script], { timeoutMs: 20_000 });
    const state = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as HelperConnection;
    expect(state.state).toBe('refused');
    expect(state.message).toMatch(/permission denied/);
  });
});
