// `npm start` on the lab stops completely, whatever ends it: SIGINT or SIGTERM sent to the npm process
// alone, a Ctrl-C in the terminal (SIGINT to the whole process group), or its window closing. After
// each, nothing of the lab or the helper may be left: no namespace, process, cgroup, pin or file.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { downByPrefix, instanceCgroups, labNamespaces, mountPoints } from '../lab/cleanup.ts';
import { Lab } from '../lab/lab.ts';
import { isAlive, processStartTime } from '../lab/processes.ts';
import { LAB_RUN_ROOT } from '../lab/state.ts';
import { REPO } from '../lab/switchyard-helper.ts';
import { eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;
const hasChromium = existsSync('/usr/bin/chromium');

interface Session {
  prefix: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const started: Session[] = [];

/** `npm start` in its own process group (as a terminal runs it), on a lab named by this run. */
function npmStart(env: NodeJS.ProcessEnv): Session {
  const prefix = Lab.randomPrefix();
  const child = spawn('npm', ['start'], {
    cwd: REPO,
    env: { ...process.env, SWITCHYARD_LAB_PREFIX: prefix, DISPLAY: '', WAYLAND_DISPLAY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const s = { prefix, child, output: () => out, exited };
  started.push(s);
  return s;
}

/** Every process below pid, with its start time (so a reused PID is not mistaken for it). */
function descendants(pid: number): Array<{ pid: number; startTime: string; args: string }> {
  const parents = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(e)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: Array<{ pid: number; startTime: string; args: string }> = [];
  const walk = (p: number) => {
    for (const c of parents.get(p) ?? []) {
      const startTime = processStartTime(c);
      if (startTime === null) continue;
      let args = '';
      try {
        args = readFileSync(`/proc/${c}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      } catch {
        // exited meanwhile
      }
      out.push({ pid: c, startTime, args });
      walk(c);
    }
  };
  walk(pid);
  return out;
}

async function leftovers(prefix: string): Promise<string[]> {
  const left: string[] = [];
  for (const ns of await labNamespaces(prefix)) left.push(`namespace ${ns}`);
  for (const cg of await instanceCgroups(prefix)) left.push(`cgroup ${cg}`);
  for (const bpffs of await mountPoints('bpf'))
    for (const e of readdirSync(bpffs)) if (e.includes(prefix)) left.push(`bpf pin ${join(bpffs, e)}`);
  for (const dir of ['/run/switchyard', LAB_RUN_ROOT])
    for (const e of existsSync(dir) ? readdirSync(dir) : [])
      if (e.startsWith(prefix)) left.push(`file ${join(dir, e)}`);
  return left;
}

/** Wait until the lab, the helper and the UI are up; returns what runs below npm. */
async function waitUp(s: Session, ready: RegExp): Promise<ReturnType<typeof descendants>> {
  await eventually(
    'npm start to be ready',
    async () => s.output(),
    (o) => ready.test(o),
    90_000,
  );
  const procs = descendants(s.child.pid!);
  // The lab's servers and apps and the helper all run below npm; they are what must go away.
  expect(procs.some((p) => p.args.includes(`helper --instance ${s.prefix}`))).toBe(true);
  expect(procs.some((p) => p.args.includes('lab/servers/main.ts'))).toBe(true);
  expect(await labNamespaces(s.prefix)).toHaveLength(5);
  return procs;
}

async function expectAllGone(s: Session, procs: ReturnType<typeof descendants>): Promise<void> {
  const code = await s.exited;
  expect(s.output()).toMatch(/stopping Switchyard \(.*the helper and the lab\)…/);
  expect(s.output()).toContain('Switchyard stopped.');
  expect(procs.filter((p) => isAlive(p.pid, p.startTime)).map((p) => p.args)).toEqual([]);
  expect(await leftovers(s.prefix)).toEqual([]);
  expect(code).not.toBeNull();
}

afterEach(async () => {
  // A failed test must not leave its lab running.
  for (const s of started.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGKILL');
      await s.exited;
    }
    await downByPrefix(s.prefix);
  }
});

const NO_DISPLAY = /Press Ctrl\+C to stop\./;

describe.skipIf(!isRoot)('npm start stops completely', () => {
  it('on SIGINT to the npm process alone', async () => {
    const s = npmStart({});
    const procs = await waitUp(s, NO_DISPLAY);
    process.kill(s.child.pid!, 'SIGINT');
    await expectAllGone(s, procs);
    expect(s.output()).toContain('SIGINT received: stopping Switchyard');
  });

  it('on SIGTERM to the npm process alone', async () => {
    const s = npmStart({});
    const procs = await waitUp(s, NO_DISPLAY);
    process.kill(s.child.pid!, 'SIGTERM');
    await expectAllGone(s, procs);
    expect(s.output()).toContain('SIGTERM received: stopping Switchyard');
  });

  it('on Ctrl-C in its terminal (SIGINT to the whole process group)', async () => {
    const s = npmStart({});
    const procs = await waitUp(s, NO_DISPLAY);
    process.kill(-s.child.pid!, 'SIGINT');
    await expectAllGone(s, procs);
  });

  it.skipIf(!hasChromium)('when its window closes', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'switchyard-start-'));
    try {
      const s = npmStart({
        DISPLAY: ':0', // headless below: it only makes npm start open a window rather than print a link
        XDG_CACHE_HOME: cache,
        SWITCHYARD_BROWSER_FLAGS:
          '--headless=new --remote-debugging-port=0 --disable-gpu --disable-background-networking --disable-component-update --disable-sync',
      });
      const procs = await waitUp(s, /Opening Switchyard in .*Close the window/);
      const portFile = join(cache, 'switchyard', 'browser-profile', 'DevToolsActivePort');
      const [port, path] = await eventually(
        'the window to open',
        async () => (existsSync(portFile) ? readFileSync(portFile, 'utf8').trim().split('\n') : []),
        (l) => l.length === 2,
      );
      // Close the window the way its close button does: the browser ends.
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
      await new Promise((r, j) => ws.once('open', r).once('error', j));
      ws.send(JSON.stringify({ id: 1, method: 'Browser.close' }));
      await expectAllGone(s, procs);
      expect(s.output()).toContain('The window closed: stopping Switchyard');
      ws.terminate();
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
