// The bundles as Electron would load them: CommonJS, 'electron' left external, a tiny preload, and
// main.cjs wiring the real module names and call shapes (run under Node with a stand-in 'electron'
// module that records what main asks for; the real binary cannot be downloaded here).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleElectron, repoRoot } from '../build/bundle-electron.ts';
import { run } from '../native-helper/src/mechanism/exec.ts';
import {
  type HelperStandIn,
  startHelperStandIn,
} from '../native-helper/src/daemon-testing/helper-standin.ts';
import { CALLABLE_NAMES, EVENT_NAMES } from './api-names.ts';
import { CONTENT_SECURITY_POLICY } from './security.ts';

let bundle: { main: string; preload: string };
let dir: string;
let helper: HelperStandIn;

beforeAll(async () => {
  bundle = await bundleElectron();
  dir = mkdtempSync(join(tmpdir(), 'sy-bundle-'));
  helper = await startHelperStandIn();
}, 60_000);
afterAll(async () => {
  await helper.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function requires(code: string): string[] {
  return [...new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!))].sort();
}

// A stand-in for the 'electron' module: records calls, then drives the window's IPC once.
const FAKE_ELECTRON = String.raw`
const Module = require('module');
const { EventEmitter } = require('events');
const { pathToFileURL } = require('url');
const log = { windows: [], loaded: [], handles: [], trays: [], session: {}, sandbox: false, lock: 0 };
const app = Object.assign(new EventEmitter(), {
  enableSandbox() { log.sandbox = true; },
  requestSingleInstanceLock() { log.lock++; return true; },
  whenReady() { return Promise.resolve(); },
  isPackaged: false,
  getVersion() { return '9.9.9'; },
  quit() {}, exit(c) { process.exit(c); },
});
class BrowserWindow extends EventEmitter {
  constructor(opts) {
    super(); log.windows.push(opts);
    this.webContents = Object.assign(new EventEmitter(), {
      setWindowOpenHandler(h) { log.windowOpen = h({ url: 'https://example.com' }); },
      send() {},
    });
  }
  loadFile(p) { log.loaded.push(p); return Promise.resolve(); }
  once(e, l) { return super.once(e, l); }
  show() {} focus() {} restore() {} isMinimized() { return false; } isDestroyed() { return false; }
}
class Tray { constructor(img) { log.trays.push(img.path); } setImage() {} setToolTip(t) { log.tooltip = t; } setContextMenu(m) { log.menu = m; } on() {} }
const api = {
  app, BrowserWindow, Tray,
  Menu: { buildFromTemplate: (t) => t.map((i) => i.label || i.type) },
  Notification: class { static isSupported() { return true; } show() {} },
  nativeImage: { createFromPath: (path) => ({ path }) },
  dialog: { showSaveDialog: async () => ({ canceled: true }) },
  ipcMain: { handle(channel, fn) { log.handles.push(channel); log.handler = fn; } },
  session: { defaultSession: {
    webRequest: { onHeadersReceived(fn) { fn({ responseHeaders: { 'content-security-policy': ['x'] } }, (r) => { log.session.headers = r.responseHeaders; }); } },
    setPermissionRequestHandler(fn) { fn(null, 'camera', (g) => { log.session.camera = g; }); },
    setPermissionCheckHandler(fn) { log.session.check = fn(null, 'notifications'); },
  } },
};
const resolve = Module._resolveFilename;
Module._resolveFilename = function (req, ...rest) { return req === 'electron' ? __filename : resolve.call(this, req, ...rest); };
module.exports = api;
setTimeout(async () => {
  const index = process.env.SY_TEST_INDEX;
  const call = (url, m, p) => log.handler({ senderFrame: { url } }, m, p);
  log.status = await call(pathToFileURL(index).href, 'status.get', {});
  log.foreign = await call('https://evil.example/', 'status.get', {});
  delete log.handler;
  console.log(JSON.stringify(log));
  process.exit(0);
}, 1500);
`;

describe('electron bundles', () => {
  it('build the preload as small CommonJS that needs only electron and carries no zod', () => {
    const code = readFileSync(bundle.preload, 'utf8');
    expect(statSync(bundle.preload).size).toBeLessThan(8 * 1024);
    expect(code).not.toMatch(/\bimport\s/);
    expect(code).not.toContain('zod');
    expect(requires(code)).toEqual(['electron']);
    expect(code).toContain('exposeInMainWorld("switchyard"');
    expect(code).toContain('"shell.exportEvents"');
  });

  it('inline every method and event name of the schemas into the preload (evaluated at bundle time)', () => {
    const code = readFileSync(bundle.preload, 'utf8');
    for (const name of [...CALLABLE_NAMES, ...EVENT_NAMES]) expect(code).toContain(JSON.stringify(name));
  });

  it('build main as CommonJS with electron external', () => {
    const code = readFileSync(bundle.main, 'utf8');
    expect(requires(code)).toContain('electron');
    expect(
      requires(code).filter(
        (r) =>
          !r.startsWith('node:') &&
          ![
            'electron',
            'fs',
            'path',
            'os',
            'net',
            'url',
            'crypto',
            'events',
            'module',
            'stream',
            'zlib',
            'child_process',
            'util',
          ].includes(r),
      ),
    ).toEqual([]);
  });

  it('wire main to the Electron API: sandbox, lock, hardened window, CSP, permissions, IPC, tray', async () => {
    const fake = join(dir, 'fake-electron.cjs');
    writeFileSync(fake, FAKE_ELECTRON);
    const home = join(dir, 'home');
    const r = await run([process.execPath, '-r', fake, bundle.main], {
      env: {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: join(home, '.config'),
        SWITCHYARD_SOCKET: helper.socketPath,
        SY_TEST_INDEX: join(repoRoot, 'renderer', 'dist', 'index.html'),
      },
      timeoutMs: 20_000,
    });
    const log = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(log.sandbox).toBe(true);
    expect(log.lock).toBe(1);
    expect(log.windows).toHaveLength(1);
    expect(log.windows[0].webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: join(repoRoot, 'electron', 'dist', 'preload.cjs'),
    });
    expect(log.session.headers).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(log.session.camera).toBe(false);
    expect(log.session.check).toBe(false);
    expect(log.windowOpen).toEqual({ action: 'deny' });
    expect(log.handles).toEqual(['switchyard:call']);
    expect(log.trays).toEqual([join(repoRoot, 'build', 'icons', 'tray-down.png')]);
    expect(log.menu).toContain('Quit');
    // loadFile refuses a missing file, so the UI may not be built here; the path is what matters.
    expect(log.status).toMatchObject({ ok: true, result: { instance: 'test' } });
    expect(log.foreign).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
  }, 30_000);
});
