// `npm start`: the desktop app under Electron when its binary is installed; otherwise the same UI
// in a Chromium app window through the loopback web bridge.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleElectron, repoRoot } from '../build/bundle-electron.ts';
import { HelperSocketClient, defaultSocketPath } from '#switchyard/api/client.ts';
import { run } from '../native-helper/src/mechanism/exec.ts';
import { type StartOptions, supervisor } from '../native-helper/src/mechanism/supervisor.ts';
import { startWebBridge } from '../native-helper/src/web/bridge.ts';
import { Shutdown } from './shutdown.ts';

const rendererDist = join(repoRoot, 'renderer', 'dist');
/**
 * The window's own process group, so a Ctrl-C in the terminal reaches only us and we stop it in order;
 * its stdout goes to ours, its stderr is kept for the error message.
 */
const WINDOW: StartOptions = { detached: true, stdout: 'inherit', stderr: 'pipe' };

/** The Electron executable, or null when the npm package is installed without its binary. */
export function electronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null; // the package throws when its binary was never downloaded
  }
}

/** A Chromium-family browser for web mode: /usr/bin/chromium, then chromium or google-chrome on PATH. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = ['/usr/bin/chromium'];
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'])
      candidates.push(join(dir, name));
  }
  return candidates.find((p) => existsSync(p)) ?? null;
}

async function ensureRenderer(): Promise<void> {
  if (existsSync(join(rendererDist, 'index.html'))) return;
  console.log('Building the UI (renderer/dist is missing)…');
  const vite = join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  await run([process.execPath, vite, 'build', join(repoRoot, 'renderer')], { timeoutMs: 300_000 });
}

async function startElectron(binary: string, shutdown: Shutdown): Promise<number> {
  await bundleElectron();
  const shell = supervisor.start([binary, repoRoot, ...process.argv.slice(2)], {
    ...WINDOW,
    name: 'Electron',
  });
  shutdown.add('the window', () => shell.stop());
  const r = await shell.exited;
  if (r.code) process.stderr.write(r.stderrTail);
  return r.code ?? 0;
}

async function startWebMode(shutdown: Shutdown): Promise<number> {
  const bridge = await startWebBridge({
    helperSocket: defaultSocketPath(),
    port: 0,
    rendererDir: rendererDist,
  });
  shutdown.add('the web bridge', () => bridge.close());

  const browser = process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? findBrowser() : null;
  if (!browser) {
    console.log(
      `${process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? 'No Chromium or Chrome found.' : 'No display here.'} Open this link once in a browser on this machine (it works for one browser only):\n  ${bridge.url}`,
    );
    console.log('Press Ctrl+C to stop.');
    return new Promise<number>(() => {}); // until a signal stops the session
  }
  // The token must not appear on the browser's command line (any local user can read argv), so
  // the browser opens a private file that forwards to the bridge.
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-open-'));
  const removeLauncher = () => rmSync(dir, { recursive: true, force: true });
  shutdown.add('the browser launcher file', async () => removeLauncher());
  const launcher = join(dir, 'open.html');
  writeFileSync(launcher, `<!doctype html><meta http-equiv="refresh" content="0;url=${bridge.url}">`, {
    mode: 0o600,
  });
  const profile = join(
    process.env.XDG_CACHE_HOME || join(homedir(), '.cache'),
    'switchyard',
    'browser-profile',
  );
  mkdirSync(profile, { recursive: true });
  const args = [
    browser,
    `--app=file://${launcher}`,
    `--user-data-dir=${profile}`,
    '--no-first-run',
    '--no-default-browser-check',
  ];
  if (process.getuid?.() === 0) args.push('--no-sandbox'); // Chromium refuses to run as root otherwise
  args.push(...(process.env.SWITCHYARD_BROWSER_FLAGS ?? '').split(' ').filter(Boolean));
  console.log(
    `Opening Switchyard in ${browser} (web mode at ${bridge.origin}). Close the window or press Ctrl+C to stop.`,
  );
  setTimeout(removeLauncher, 15_000).unref();
  // Its own profile makes the browser a separate process, so it exits when its window closes.
  const window = supervisor.start(args, { ...WINDOW, name: browser });
  shutdown.add('the window', () => window.stop());
  const r = await window.exited;
  if (shutdown.isStopping) return r.code ?? 0;
  if (r.code !== 0)
    console.error(`${browser} exited with ${r.code}: ${r.stderrTail.trim().split('\n').slice(-3).join(' ')}`);
  return r.code ?? 0;
}

/** A helper that answers on the default socket (or $SWITCHYARD_SOCKET) is the real setup. */
async function helperIsRunning(): Promise<boolean> {
  try {
    (await HelperSocketClient.connect(defaultSocketPath(), { connectTimeoutMs: 1000 })).close();
    return true;
  } catch (err) {
    // A socket we may not open still means a helper runs; the UI explains the permission problem.
    return (err as { errno?: string }).errno === 'EACCES';
  }
}

/** Without a real setup, run on the lab (needs root for the namespaces); stopped with the session. */
async function ensureHelper(shutdown: Shutdown): Promise<void> {
  const labPrefix = process.env.SWITCHYARD_LAB_PREFIX; // tests pick their own, unique name
  if (!labPrefix && (process.env.SWITCHYARD_SOCKET || (await helperIsRunning()))) return;
  if (process.getuid?.() !== 0) {
    console.log(
      'No Switchyard helper runs here. Run `npm start` as root (sudo) to try it on the built-in lab, or install the helper (see build/README.md).',
    );
    return;
  }
  const { startLabSession } = await import('../test/lab/demo.ts');
  // Added before it starts: a signal during start-up waits for the lab to be up, then takes it down.
  const starting = startLabSession({ prefix: labPrefix });
  shutdown.add('the helper and the lab', async () => (await starting.catch(() => null))?.stop());
  process.env.SWITCHYARD_SOCKET = (await starting).helper.socket;
}

async function main(): Promise<number> {
  const shutdown = new Shutdown();
  shutdown.listen();
  try {
    await ensureRenderer();
    await ensureHelper(shutdown);
    if (shutdown.isStopping) return await new Promise<number>(() => {}); // the signal's stop exits
    const code = await startShell(shutdown);
    return await shutdown.stop('The window closed', code);
  } catch (err) {
    console.error(`switchyard: could not start: ${(err as Error).message}`);
    return shutdown.stop('Start-up failed', 1);
  }
}

async function startShell(shutdown: Shutdown): Promise<number> {
  const binary = electronBinary();
  if (binary) return startElectron(binary, shutdown);
  console.log(
    "Electron's binary is not installed (node_modules/electron has no dist/), so Switchyard opens in web mode instead.\n" +
      'To get the desktop app, install it where downloads work: npm rebuild electron (or set ELECTRON_OVERRIDE_DIST_PATH).',
  );
  return startWebMode(shutdown);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main().then((code) => process.exit(code));
}
