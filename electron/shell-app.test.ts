// The shell's wiring under Node: a fake ElectronAdapter records what Electron would be asked to do,
// and a helper stand-in on a real Unix socket plays the helper.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '#switchyard/api/schema.ts';
import {
  type HelperStandIn,
  standInStatus,
  startHelperStandIn,
} from '../native-helper/src/daemon-testing/helper-standin.ts';
import { IPC_EVENT } from './api-names.ts';
import type { CallHandler } from './ipc-handlers.ts';
import type { Notice } from './notify-policy.ts';
import type { Preventable } from './security.ts';
import { type ElectronAdapter, type RunningShell, type ShellOptions, runShell } from './shell-app.ts';
import type { TrayAction, TrayIcon, TrayItem } from './tray-model.ts';

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

const firefox: App = {
  id: 'firefox',
  name: 'Firefox',
  icon: null,
  source: 'desktop',
  matchers: { desktopId: 'firefox.desktop' },
  tag: 3,
  choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: true },
  managed: false,
  pids: [10],
  egress: { state: 'routed', active: 'wlan0' },
  counters: { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 },
  held: [],
};

class FakeElectron implements ElectronAdapter {
  lock = true;
  quitCalls = 0;
  secondInstance: (() => void) | null = null;
  windows: {
    options: unknown;
    loaded: string[];
    shown: number;
    focused: number;
    sent: [string, unknown][];
    nav?: (e: Preventable, u: string) => void;
    open?: (d: { url: string }) => { action: 'deny' };
    closed?: () => void;
  }[] = [];
  trayIcon: TrayIcon | null = null;
  trayTip = '';
  trayItems: TrayItem[] = [];
  trayAction: ((a: TrayAction) => void) | null = null;
  notices: Notice[] = [];
  call: CallHandler | null = null;
  headerRewrite: ((h: Record<string, string[]> | undefined) => unknown) | null = null;
  permission: ((p: string, grant: (g: boolean) => void) => void) | null = null;
  saveAs: string | null = null;
  logs: string[] = [];

  requestSingleInstanceLock = () => this.lock;
  onSecondInstance = (l: () => void) => void (this.secondInstance = l);
  whenReady = async () => {};
  onWindowAllClosed = () => {};
  quit = () => void this.quitCalls++;
  defaultSession = {
    onHeadersReceived: (r: (h: Record<string, string[]> | undefined) => Record<string, string | string[]>) =>
      void (this.headerRewrite = r),
    setPermissionRequestHandler: (h: (p: string, grant: (g: boolean) => void) => void) =>
      void (this.permission = h),
    setPermissionCheckHandler: () => {},
  };
  createWindow = (options: unknown) => {
    const w: FakeElectron['windows'][number] = { options, loaded: [], shown: 0, focused: 0, sent: [] };
    this.windows.push(w);
    return {
      contents: {
        onWillNavigate: (l: (e: Preventable, u: string) => void) => void (w.nav = l),
        onWillRedirect: () => {},
        onWillAttachWebview: () => {},
        setWindowOpenHandler: (h: (d: { url: string }) => { action: 'deny' }) => void (w.open = h),
      },
      loadFile: async (p: string) => void w.loaded.push(p),
      show: () => void w.shown++,
      focus: () => void w.focused++,
      restore: () => {},
      isMinimized: () => false,
      send: (c: string, p: unknown) => void w.sent.push([c, p]),
      onReadyToShow: (l: () => void) => l(),
      onClosed: (l: () => void) => void (w.closed = l),
    };
  };
  createTray = (icon: TrayIcon) => {
    this.trayIcon = icon;
    return {
      setIcon: (i: TrayIcon) => void (this.trayIcon = i),
      setToolTip: (t: string) => void (this.trayTip = t),
      setMenu: (items: TrayItem[], onAction: (a: TrayAction) => void) => {
        this.trayItems = items;
        this.trayAction = onAction;
      },
      onClick: () => {},
    };
  };
  notify = (n: Notice) => void this.notices.push(n);
  handleCall = (h: CallHandler) => void (this.call = h);
  showSaveDialog = async () => this.saveAs;
  log = (m: string) => void this.logs.push(m);
}

let helper: HelperStandIn;
let home: string;
let fake: FakeElectron;
let shell: RunningShell | null;

/** Start the shell for a test (it must not be refused the lock). */
async function start(adapter: FakeElectron, opts = options()): Promise<RunningShell> {
  const s = await runShell(adapter, opts);
  if (!s) throw new Error('the shell did not start');
  shell = s;
  return s;
}
let status = standInStatus();
let apps: App[] = [firefox];

function options(over: Partial<ShellOptions> = {}): ShellOptions {
  return {
    socketPath: helper.socketPath,
    indexFile: '/opt/switchyard/renderer/dist/index.html',
    preloadFile: '/opt/switchyard/electron/dist/preload.cjs',
    version: '0.1.0',
    argv: [],
    env: {},
    home,
    launchCommand: ['/usr/bin/switchyard-desktop'],
    refreshDelayMs: 10,
    ...over,
  };
}

beforeEach(async () => {
  helper = await startHelperStandIn();
  home = mkdtempSync(join(tmpdir(), 'sy-shell-'));
  status = standInStatus();
  apps = [firefox];
  helper.handle('status.get', () => status);
  helper.handle('apps.list', () => apps);
  helper.handle('interfaces.list', () => []);
  fake = new FakeElectron();
  shell = null;
});
afterEach(async () => {
  shell?.stop();
  await helper.dispose();
  rmSync(home, { recursive: true, force: true });
});

const appUrl = pathToFileURL('/opt/switchyard/renderer/dist/index.html').href;

describe('runShell', () => {
  it('quits when another instance holds the lock, and a second launch focuses the window', async () => {
    fake.lock = false;
    expect(await runShell(fake, options())).toBeNull();
    expect(fake.quitCalls).toBe(1);
    expect(fake.windows).toHaveLength(0);

    const fake2 = new FakeElectron();
    await start(fake2);
    expect(fake2.windows).toHaveLength(1);
    fake2.secondInstance!();
    expect(fake2.windows).toHaveLength(1);
    expect(fake2.windows[0]!.focused).toBe(1);
  });

  it('opens one hardened window on the local index.html, and none with --hidden', async () => {
    const first = await start(fake);
    const w = fake.windows[0]!;
    expect(w.loaded).toEqual(['/opt/switchyard/renderer/dist/index.html']);
    expect(w.options).toMatchObject({
      webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false },
    });
    let prevented = false;
    w.nav!({ preventDefault: () => (prevented = true) }, 'https://example.com');
    expect(prevented).toBe(true);
    expect(w.open!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(fake.headerRewrite!(undefined)).toHaveProperty('Content-Security-Policy');
    const grants: boolean[] = [];
    fake.permission!('media', (g) => grants.push(g));
    expect(grants).toEqual([false]);
    first.stop();

    const hidden = new FakeElectron();
    await start(hidden, options({ argv: ['--hidden'] }));
    expect(hidden.windows).toHaveLength(0);
  });

  it('answers the window over IPC and forwards helper events to it', async () => {
    const shell = await start(fake);
    await shell.helper.waitUntilConnected(2000);
    expect(await fake.call!(appUrl, 'status.get', {})).toMatchObject({
      ok: true,
      result: { instance: 'test' },
    });
    expect(await fake.call!(appUrl, 'shell.info', {})).toMatchObject({
      ok: true,
      result: { mode: 'electron', autostart: false },
    });
    expect(await fake.call!(appUrl, 'shell.setAutostart', { enabled: true })).toMatchObject({
      ok: true,
      result: { autostart: true },
    });
    expect(readFileSync(join(home, '.config/autostart/switchyard.desktop'), 'utf8')).toContain(
      'Exec=/usr/bin/switchyard-desktop --hidden',
    );
    expect(await fake.call!(appUrl, 'nope', {})).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_METHOD' },
    });
    helper.emit('egress.restored', { app: 'firefox', egress: 'wlan0' });
    await until(() =>
      fake.windows[0]!.sent.some(([, e]) => (e as { event: string }).event === 'egress.restored'),
    );
    expect(fake.windows[0]!.sent.every(([c]) => c === IPC_EVENT)).toBe(true);
  });

  it('exports the event log to the file the user picks', async () => {
    helper.handle('events.history', () => [
      { event: 'egress.killed', seq: 4, time: 't', data: { app: 'firefox', egresses: ['wlan0'] } },
    ]);
    const shell = await start(fake);
    await shell.helper.waitUntilConnected(2000);
    expect(await fake.call!(appUrl, 'shell.exportEvents', { format: 'json' })).toEqual({
      ok: true,
      result: { path: null },
    });
    fake.saveAs = join(home, 'events.json');
    expect(await fake.call!(appUrl, 'shell.exportEvents', { format: 'json' })).toEqual({
      ok: true,
      result: { path: fake.saveAs },
    });
    expect(JSON.parse(readFileSync(fake.saveAs, 'utf8'))).toEqual([
      { event: 'egress.killed', seq: 4, time: 't', data: { app: 'firefox', egresses: ['wlan0'] } },
    ]);
  });

  it('keeps the tray icon in step with the helper and notifies a kill once', async () => {
    await start(fake);
    expect(fake.trayIcon).toBe('down');
    await until(() => fake.trayIcon === 'ok');
    expect(fake.trayTip).toBe('Switchyard — every app on its chosen path');

    status = standInStatus({ killed: ['firefox'] });
    helper.emit('egress.killed', { app: 'firefox', egresses: ['wlan0'] });
    helper.emit('egress.killed', { app: 'firefox', egresses: ['wlan0'] });
    await until(() => fake.trayIcon === 'killed');
    expect(fake.trayTip).toContain('Firefox');
    expect(fake.notices.map((n) => n.title)).toEqual(['Firefox is blocked']);

    await helper.stop();
    // First "connecting" (it retries at once), then "not running" once the retry finds no socket.
    await until(() => fake.trayIcon === 'down' && /not running/.test(fake.trayTip));
    expect(fake.trayItems.some((i) => 'label' in i && i.label === 'Helper not running')).toBe(true);
  });

  it('runs tray actions: pin an app, switch its egress, pause', async () => {
    const calls: unknown[] = [];
    helper.handle('egress.set', (p) => {
      calls.push(['egress.set', p]);
      return { ...firefox, choice: (p as { choice: App['choice'] }).choice };
    });
    helper.handle('policy.pause', (p) => {
      calls.push(['policy.pause', p]);
      status = standInStatus({ paused: true });
      return status;
    });
    const shell = await start(fake);
    await until(() => fake.trayIcon === 'ok');
    await shell.act({ kind: 'pin', app: 'firefox', pinned: true });
    expect(JSON.parse(readFileSync(join(home, '.config/switchyard/shell.json'), 'utf8'))).toEqual({
      pins: ['firefox'],
    });
    const sub = fake.trayItems.find((i) => i.type === 'submenu' && i.label.startsWith('Firefox'));
    if (sub?.type !== 'submenu') throw new Error('pinned app has no submenu');
    const block = sub.items.find((i) => 'label' in i && i.label === 'Block');
    fake.trayAction!((block as { action: TrayAction }).action);
    await until(() => calls.length === 1);
    expect(calls[0]).toEqual(['egress.set', { app: 'firefox', choice: { mode: 'block' } }]);
    await shell.act({ kind: 'pause', paused: true });
    expect(fake.trayItems.find((i) => 'label' in i && i.label === 'Pause all policies')).toMatchObject({
      checked: true,
    });

    helper.handle('policy.override', () => {
      throw Object.assign(new Error('override is pinned by the managed policy'), { code: 'MANAGED' });
    });
    await shell.act({ kind: 'override', egress: 'wlan0' });
    expect(fake.notices.at(-1)).toMatchObject({
      title: 'Switchyard could not do that',
      body: 'override is pinned by the managed policy',
    });

    await shell.act({ kind: 'quit' });
    expect(fake.quitCalls).toBe(1);
    expect(existsSync(join(home, '.config/autostart/switchyard.desktop'))).toBe(false);
  });

  it('notifies flags, quarantines and untrusted networks once per burst and once per event', async () => {
    const event = (id: string, kind: string, over: Record<string, unknown> = {}) => ({
      id,
      kind,
      app: null,
      source: 'network',
      reason: 'wlan0 is on network "Cafe", which is untrusted',
      severity: 'low',
      by: 'the helper',
      startedAt: new Date().toISOString(),
      endsAt: null,
      subject: 'wlan0',
      repeats: 0,
      rules: [],
      ...over,
    });
    const reactions = (active: unknown[]) => ({ active, templates: [], schedules: [], timeZone: 'UTC' });
    // In force before the shell connected: old news.
    const old = event('e-000001', 'app.quarantined', {
      app: 'firefox',
      source: 'quarantine',
      reason: 'old news',
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      subject: null,
    });
    await start(fake, options({ alertDelayMs: 50 }));
    await until(() => fake.trayIcon === 'ok');

    const flag = event('e-000002', 'app.flagged', {
      app: 'firefox',
      source: 'clamav',
      reason: 'Eicar found',
      severity: 'high',
      subject: null,
    });
    const untrusted = event('e-000003', 'network.untrusted');
    helper.emit('reactions.changed', reactions([old, flag]));
    helper.emit('app.flagged', {
      app: 'firefox',
      source: 'clamav',
      reason: 'Eicar found',
      severity: 'high',
      event: flag.id,
    });
    helper.emit('reactions.changed', reactions([old, flag, untrusted]));
    await until(() => fake.notices.length > 0);
    expect(fake.notices).toEqual([
      {
        key: 'alerts:e-000002,e-000003',
        title: 'Firefox was flagged and wlan0 is on an untrusted network',
        body: 'Firefox was flagged by clamav: Eicar found.\nwlan0 is on network "Cafe", which is untrusted.',
        urgency: 'critical',
      },
    ]);
    // The flag repeats: same event id, no second notice.
    helper.emit('reactions.changed', reactions([old, { ...flag, repeats: 1 }, untrusted]));
    helper.emit('app.flagged', {
      app: 'firefox',
      source: 'clamav',
      reason: 'again',
      severity: 'high',
      event: flag.id,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.notices).toHaveLength(1);
  });

  it('clears a held app and quarantines a pinned one from the tray', async () => {
    const calls: unknown[] = [];
    const held: App['held'][number] = {
      event: 'e-000001',
      kind: 'quarantined',
      source: 'quarantine',
      reason: 'quarantined by hand for 1 h',
      severity: 'high',
      since: new Date().toISOString(),
      until: new Date(Date.now() + 52 * 60_000 - 1000).toISOString(),
    };
    status = standInStatus({ held: ['firefox'] });
    apps = [{ ...firefox, held: [held] }];
    helper.handle('findings.clear', (p) => {
      calls.push(['findings.clear', p]);
      status = standInStatus();
      apps = [firefox];
      return { cleared: 1 };
    });
    helper.handle('quarantine.start', (p) => {
      calls.push(['quarantine.start', p]);
      return { ...held, id: 'e-000002' };
    });
    const shell = await start(fake, options({ argv: ['--hidden'] }));
    await until(() => fake.trayTip.includes('held'));
    const heldMenu = fake.trayItems.find((i) => i.type === 'submenu' && i.label.startsWith('Firefox —'));
    if (heldMenu?.type !== 'submenu') throw new Error('no held app in the tray');
    expect(heldMenu.label).toBe('Firefox — quarantined, 52 min left');
    const clear = heldMenu.items.find((i) => 'label' in i && i.label === 'Clear quarantine');
    fake.trayAction!((clear as { action: TrayAction }).action);
    await until(() => calls.length === 1);
    expect(calls[0]).toEqual(['findings.clear', { app: 'firefox' }]);
    await until(() => fake.trayTip === 'Switchyard — every app on its chosen path');

    await shell.act({ kind: 'pin', app: 'firefox', pinned: true });
    const sub = fake.trayItems.find((i) => i.type === 'submenu' && i.label.startsWith('Firefox'));
    if (sub?.type !== 'submenu') throw new Error('pinned app has no submenu');
    const quarantine = sub.items.find((i) => 'label' in i && i.label === 'Quarantine for 1 hour');
    fake.trayAction!((quarantine as { action: TrayAction }).action);
    await until(() => calls.length === 2);
    expect(calls[1]).toEqual(['quarantine.start', { app: 'firefox', seconds: 3600 }]);
  });
});
