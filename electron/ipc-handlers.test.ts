import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReconnectingHelperClient } from '#switchyard/api/reconnecting-client.ts';
import type { HelperConnection } from '#switchyard/api/shell-schema.ts';
import {
  type HelperStandIn,
  startHelperStandIn,
} from '../native-helper/src/daemon-testing/helper-standin.ts';
import type { ShellHandlers } from '../native-helper/src/web/shell-dispatch.ts';
import { type CallHandler, createCallHandler, forwardEvents } from './ipc-handlers.ts';

const indexFile = '/opt/switchyard/renderer/dist/index.html';
const appUrl = `${pathToFileURL(indexFile).href}#/apps`;

let helper: HelperStandIn;
let client: ReconnectingHelperClient;
let handle: CallHandler;
let subscribed: (string[] | undefined)[];
let autostartCalls: boolean[];

const shell: ShellHandlers = {
  info: async () => ({
    mode: 'electron',
    version: '1',
    canAutostart: true,
    autostart: false,
    helperSocket: '/s',
  }),
  setAutostart: async (enabled) => {
    autostartCalls.push(enabled);
    return { mode: 'electron', version: '1', canAutostart: true, autostart: enabled, helperSocket: '/s' };
  },
  connection: () => client.connection(),
  exportEvents: async () => ({ path: null }),
};

beforeEach(async () => {
  helper = await startHelperStandIn();
  client = new ReconnectingHelperClient({ socketPath: helper.socketPath });
  client.start();
  await client.waitUntilConnected(2000);
  subscribed = [];
  autostartCalls = [];
  handle = createCallHandler({
    target: { helper: client, shell, subscribe: (t) => subscribed.push(t) },
    indexFile,
  });
});
afterEach(async () => {
  client.stop();
  await helper.dispose();
});

const forwarded = () =>
  helper.requests.filter((r) => r.method !== 'status.get' && r.method !== 'events.subscribe');

describe('IPC call handler', () => {
  it('forwards a valid helper call and returns its result', async () => {
    const r = await handle(appUrl, 'status.get', {});
    expect(r).toMatchObject({ ok: true, result: { instance: 'test' } });
  });

  it('rejects an unknown method without reaching the helper', async () => {
    const before = helper.requests.length;
    expect(await handle(appUrl, 'system.shutdown', {})).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_METHOD' },
    });
    expect(await handle(appUrl, 42, {})).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await handle(appUrl, '__proto__', {})).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_METHOD' },
    });
    expect(helper.requests.length).toBe(before);
  });

  it('rejects bad params in main, before the helper sees them', async () => {
    const cases: [string, unknown][] = [
      ['egress.set', { app: 'firefox', choice: { mode: 'ordered', egresses: [], killSwitch: true } }],
      ['egress.set', { app: 'Firefox!', choice: { mode: 'default' } }],
      ['apps.get', { id: 'firefox', extra: 1 }],
      ['policy.pause', { paused: 'yes' }],
      ['shell.setAutostart', { enabled: 'yes' }],
      ['shell.exportEvents', { format: 'xml' }],
    ];
    for (const [method, params] of cases) {
      const r = await handle(appUrl, method, params);
      expect(r, method).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      if (!r.ok) expect(r.error.message.startsWith(`${method}: `)).toBe(true);
    }
    expect(forwarded()).toEqual([]);
    expect(autostartCalls).toEqual([]);
  });

  it('answers shell methods and events.subscribe in main', async () => {
    expect(await handle(appUrl, 'shell.setAutostart', { enabled: true })).toMatchObject({
      ok: true,
      result: { autostart: true },
    });
    expect(autostartCalls).toEqual([true]);
    expect(await handle(appUrl, 'shell.connection', undefined)).toMatchObject({
      ok: true,
      result: { state: 'connected' },
    });
    expect(await handle(appUrl, 'events.subscribe', { topics: ['egress.killed'] })).toEqual({
      ok: true,
      result: { ok: true },
    });
    expect(subscribed).toEqual([['egress.killed']]);
    expect(forwarded()).toEqual([]);
  });

  it('passes the helper error through typed', async () => {
    const r = await handle(appUrl, 'apps.get', { id: 'nosuch' });
    expect(r).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } }); // the stand-in knows no apps.get
    helper.handle('apps.get', () => {
      throw Object.assign(new Error('no app nosuch'), { code: 'NOT_FOUND' });
    });
    expect(await handle(appUrl, 'apps.get', { id: 'nosuch' })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'no app nosuch' },
    });
  });

  it('refuses calls from any frame other than our own index.html', async () => {
    for (const url of [
      'https://evil.example/',
      'file:///tmp/index.html',
      `${pathToFileURL(indexFile).href}?x=1`,
      '',
    ]) {
      expect(await handle(url, 'status.get', {}), url).toMatchObject({
        ok: false,
        error: { code: 'UNAUTHORIZED' },
      });
    }
  });
});

describe('forwardEvents', () => {
  it('sends helper events and connection changes to the window', async () => {
    const sent: { event: string; data: unknown }[] = [];
    const stop = forwardEvents(client, (e) => sent.push(e));
    helper.emit('egress.killed', { app: 'firefox', egresses: ['wlan0'] });
    await new Promise<void>((r) => {
      const t = setInterval(() => sent.length && (clearInterval(t), r()), 5);
    });
    expect(sent[0]).toMatchObject({ event: 'egress.killed', data: { app: 'firefox', egresses: ['wlan0'] } });
    await helper.stop();
    await new Promise<void>((r) => {
      const t = setInterval(
        () => sent.some((e) => e.event === 'shell.connection') && (clearInterval(t), r()),
        5,
      );
    });
    const c = sent.find((e) => e.event === 'shell.connection')!.data as HelperConnection;
    expect(['connecting', 'absent']).toContain(c.state);
    stop();
    const n = sent.length;
    await helper.restart();
    await client.waitUntilConnected(3000);
    helper.emit('egress.restored', { app: 'firefox', egress: 'wlan0' });
    await new Promise((r) => setTimeout(r, 50));
    expect(sent.length).toBe(n);
  });
});
