// WriteWatch on the real kernel (fanotify needs root; skipped otherwise): writers are children this test
// starts, one of them inside a cgroup v2 child it creates and removes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  cgroupOfPid,
  ensureCgroup,
  findCgroup2Mount,
  moveProcess,
  removeCgroupTree,
} from '../../native-helper/src/mechanism/cgroup/index.ts';
import { WriteWatch, type FileWriter } from '../../native-helper/src/mechanism/write-watch.ts';

const isRoot = process.getuid?.() === 0;
const instance = `sy${randomBytes(4).toString('hex')}`;
const shell = realpathSync('/bin/sh'); // /usr/bin/dash on Debian

/** Resolves with the writer when `watch` records a write of `file`; rejects after ms. */
function nextWrite(watch: WriteWatch, file: string, ms = 5000): Promise<FileWriter> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      watch.off('write', onWrite);
      reject(new Error(`no write event for ${file} within ${ms} ms`));
    }, ms);
    const onWrite = (p: string, writer: FileWriter): void => {
      if (p !== file) return;
      clearTimeout(timer);
      watch.off('write', onWrite);
      resolve(writer);
    };
    watch.on('write', onWrite);
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** `sh -c script` with its args; waits for it to finish. */
async function sh(script: string, ...args: string[]): Promise<number> {
  const child = spawn('sh', ['-c', script, 'sh', ...args], { stdio: 'ignore' });
  const code = await exited(child);
  if (code !== 0) throw new Error(`sh -c ${script} exited ${code}`);
  return child.pid!;
}

describe.skipIf(!isRoot)('WriteWatch (fanotify, root)', () => {
  let work: string; // on the root filesystem (ext4 here)
  let shm: string | null = null; // on tmpfs, when /dev/shm is one
  let mount: string;
  let cgroupDir: string;
  const watches: WriteWatch[] = [];
  const children: ChildProcess[] = [];

  function watch(dirs: string[], opts: ConstructorParameters<typeof WriteWatch>[0] = {}): WriteWatch {
    const w = new WriteWatch(opts).start(dirs);
    watches.push(w);
    return w;
  }

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), `${instance}-`));
    if (existsSync('/dev/shm')) shm = mkdtempSync(`/dev/shm/${instance}-`);
    mount = await findCgroup2Mount();
    cgroupDir = path.join(mount, `switchyard.${instance}`);
    await ensureCgroup(cgroupDir);
  });

  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await exited(c);
    }
    for (const w of watches.splice(0)) w.close();
  });

  afterAll(async () => {
    if (cgroupDir) await removeCgroupTree(cgroupDir, { moveTo: mount });
    if (work) rmSync(work, { recursive: true, force: true });
    if (shm) rmSync(shm, { recursive: true, force: true });
  });

  it("names the writer's pid, its cgroup and its executable", async () => {
    const w = watch([work]);
    expect(w.marks).toHaveLength(1);
    expect(w.marks[0]!.path).toBe(work);
    expect(['filesystem', 'mount']).toContain(w.marks[0]!.scope);
    const file = path.join(work, 'written');
    // Waits for "go" so it is in the cgroup before it writes, then stays until stdin closes.
    const child = spawn('sh', ['-c', 'read go; echo x > "$1"; read done || true', 'sh', file], {
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    children.push(child);
    await moveProcess(child.pid!, cgroupDir);
    const kernelSays = await cgroupOfPid(child.pid!);
    expect(kernelSays).toBe(`/${path.relative(mount, cgroupDir)}`);
    const seen = nextWrite(w, file);
    child.stdin!.write('go\n');
    const writer = await seen;
    expect(writer.pid).toBe(child.pid);
    expect(writer.cgroup).toBe(kernelSays);
    expect(writer.exe).toBe(shell);
    expect(Math.abs(writer.time - Date.now())).toBeLessThan(5000);
    expect(w.writerOf(file)).toEqual(writer);
    child.stdin!.end();
    expect(await exited(child)).toBe(0);
  });

  it('a file only read has no writer; the helper’s own writes are not recorded', async () => {
    const w = watch([work]);
    const own = path.join(work, 'own');
    writeFileSync(own, 'written by the test process itself\n');
    const readOnly = path.join(work, 'read-only');
    writeFileSync(readOnly, 'x\n');
    await sh('cat "$1" >/dev/null; cat "$2" >/dev/null', readOnly, own);
    // Events arrive in order: once a later write is seen, any for the files above would have been too.
    const barrier = path.join(work, 'barrier-1');
    const seen = nextWrite(w, barrier);
    const pid = await sh('echo x > "$1"', barrier);
    expect((await seen).pid).toBe(pid);
    expect(w.writerOf(readOnly)).toBeNull();
    expect(w.writerOf(own)).toBeNull();
    expect(readFileSync(readOnly, 'utf8')).toBe('x\n');
  });

  it('records a writer that exits at once (its pid at least)', async () => {
    const w = watch([work]);
    const file = path.join(work, 'short-lived');
    const seen = nextWrite(w, file);
    const pid = await sh('echo x > "$1"', file);
    const writer = await seen;
    expect(writer.pid).toBe(pid);
    expect(w.writerOf(file)?.pid).toBe(pid);
  });

  it('sees writes made from another mount namespace (the filesystem is marked, not a mount)', async (ctx) => {
    const w = watch([work]);
    // Only a filesystem mark sees through other namespaces' copies of the mount.
    if (w.marks[0]?.scope !== 'filesystem') ctx.skip();
    const file = path.join(work, 'from-private-mount-ns');
    const seen = nextWrite(w, file);
    const pid = await sh('exec unshare --mount --propagation private sh -c \'echo x > "$1"\' sh "$1"', file);
    expect((await seen).pid).toBe(pid);
  });

  it('watches tmpfs as a whole filesystem too', async (ctx) => {
    if (!shm) ctx.skip();
    const w = watch([shm!]);
    expect(w.marks).toEqual([{ path: shm, scope: 'filesystem' }]);
    const file = path.join(shm!, 'on-tmpfs');
    const seen = nextWrite(w, file);
    const pid = await sh('echo x > "$1"', file);
    expect((await seen).pid).toBe(pid);
  });

  it('does not record writes under the state directory', async () => {
    const stateDir = path.join(work, 'state');
    await sh('mkdir -p "$1"', stateDir);
    const w = watch([work], { stateDir });
    const inState = path.join(stateDir, 'helper.json');
    const beside = path.join(work, 'state-beside'); // shares the prefix "state", not the directory
    const barrier = path.join(work, 'barrier-2');
    const seen = nextWrite(w, barrier);
    const pid = await sh('echo x > "$1"; echo x > "$2"; echo x > "$3"', inState, beside, barrier);
    expect((await seen).pid).toBe(pid);
    expect(w.writerOf(inState)).toBeNull();
    expect(w.writerOf(beside)?.pid).toBe(pid);
  });

  it('keeps only the newest maxEntries paths', async () => {
    const w = watch([work], { maxEntries: 3 });
    const files = ['a', 'b', 'c', 'd', 'e'].map((n) => path.join(work, `bounded-${n}`));
    // Looked at the moment e is recorded: later writes elsewhere on the filesystem cannot push it out.
    const atLast = new Promise<{ present: boolean[]; size: number }>((resolve) =>
      w.on('write', (p) => {
        if (p === files[4]) resolve({ present: files.map((f) => w.writerOf(f) !== null), size: w.size });
      }),
    );
    await sh('for f in "$@"; do echo x > "$f"; done', ...files);
    const { present, size } = await atLast;
    // The whole filesystem is watched, so other processes' writes may have pushed c and d out too;
    // a and b are out whatever happened, e is the newest.
    expect(present[0]).toBe(false);
    expect(present[1]).toBe(false);
    expect(present[4]).toBe(true);
    expect(size).toBe(3);
  });

  it('stops recording once closed', async () => {
    const closed = watch([work]);
    const open = watch([work]);
    closed.close();
    expect(closed.running).toBe(false);
    expect(closed.marks).toEqual([]);
    const file = path.join(work, 'after-close');
    const seen = nextWrite(open, file);
    const pid = await sh('echo x > "$1"', file);
    expect((await seen).pid).toBe(pid); // the write happened and was reported to the open watch
    expect(closed.writerOf(file)).toBeNull();
  });

  it('fails to start with an Error naming what failed', () => {
    const missing = path.join(work, 'no-such-dir');
    expect(() => new WriteWatch().start([missing])).toThrow(
      new RegExp(`Cannot watch file writes on ${missing}: .*fanotify_mark.*ENOENT.*does not exist`),
    );
  });
});

describe('WriteWatch options', () => {
  it('refuses a maxEntries that is not a positive integer', () => {
    expect(() => new WriteWatch({ maxEntries: 0 })).toThrow(/maxEntries must be a positive integer/);
  });

  it('refuses to start on no directory', () => {
    expect(() => new WriteWatch().start([])).toThrow(/needs at least one directory/);
  });
});
