import { afterEach, describe, expect, it } from 'vitest';
import { CommandError } from './exec.ts';
import { type Supervised, Supervisor, supervisor } from './supervisor.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the first stderr line that matches. */
function logLine(child: Supervised, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const onLog = (line: string) => {
      if (!pattern.test(line)) return;
      child.off('log', onLog);
      resolve(line);
    };
    child.on('log', onLog);
  });
}

describe('Supervisor', () => {
  const sup = new Supervisor();
  afterEach(() => sup.stopAll('SIGKILL'));

  it('reports the exit code and the end of stderr', async () => {
    const child = sup.start(['sh', '-c', 'echo one >&2; echo two >&2; exit 3'], { name: 'failing shell' });
    expect(await child.spawned).toBe(child.pid);
    const status = await child.exited;
    expect(status).toEqual({ code: 3, signal: null, stderrTail: 'one\ntwo\n' });
    expect(child.running).toBe(false);
  });

  it('keeps only the last 8 KiB of stderr', async () => {
    const child = sup.start(['sh', '-c', 'head -c 20000 /dev/zero | tr "\\0" x >&2; echo END >&2']);
    const { code, stderrTail } = await child.exited;
    expect(code).toBe(0);
    expect(stderrTail).toHaveLength(8192);
    expect(stderrTail.endsWith('xxxEND\n')).toBe(true);
  });

  it('gives each non-empty stderr line as a log event, the unfinished last one too', async () => {
    const child = sup.start(['sh', '-c', 'printf "  first \\n\\nsecond\\nlast" >&2']);
    const lines: string[] = [];
    child.on('log', (line) => lines.push(line));
    await child.exited;
    expect(lines).toEqual(['first', 'second', 'last']);
  });

  it('pipes stdin and stdout when asked', async () => {
    const child = sup.start(['cat'], { stdin: 'pipe', stdout: 'pipe' });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin!.end('hello\n');
    expect((await child.exited).code).toBe(0);
    expect(out).toBe('hello\n');
  });

  it('stops only its own PID and reports the signal', async () => {
    const a = sup.start(['sleep', '30']);
    const b = sup.start(['sleep', '30']);
    await Promise.all([a.spawned, b.spawned]);
    expect(await a.stop()).toEqual({ code: null, signal: 'SIGTERM', stderrTail: '' });
    expect(alive(a.pid!)).toBe(false);
    expect(alive(b.pid!)).toBe(true);
    expect(b.running).toBe(true);
    expect((await b.stop('SIGINT')).signal).toBe('SIGINT');
  });

  it('escalates to SIGKILL when the child ignores the signal past the grace time', async () => {
    // The loop's sleeps are short, so the orphan left holding stderr after the kill goes at once.
    const child = sup.start(['sh', '-c', 'trap "" TERM; echo ready >&2; while :; do sleep 0.05; done']);
    await logLine(child, /^ready$/);
    const t0 = Date.now();
    const status = await child.stop('SIGTERM', 300);
    expect(status.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(alive(child.pid!)).toBe(false);
  });

  it('stopping a child that already exited just reports how it ended', async () => {
    const child = sup.start(['sh', '-c', 'exit 7']);
    await child.exited;
    expect(child.signal('SIGTERM')).toBe(false);
    expect((await child.stop()).code).toBe(7);
  });

  it('turns a missing program into one clear CommandError', async () => {
    const child = sup.start(['/nonexistent/switchyard-no-such-program', '--flag'], { name: 'the thing' });
    expect(child.pid).toBeUndefined();
    const err = await child.spawned.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).message).toMatch(/^cannot start the thing: spawn .*ENOENT$/);
    expect((err as CommandError).argv).toEqual(['/nonexistent/switchyard-no-such-program', '--flag']);
    const status = await child.exited;
    expect(status.code).toBeNull();
    expect(status.stderrTail).toMatch(/ENOENT/);
    expect(sup.running()).toEqual([]);
    expect((await child.stop()).code).toBeNull(); // nothing to signal
  });

  it('throws a CommandError at once when Node refuses the arguments', () => {
    expect(() => sup.start(['sleep', 'a\0b'])).toThrow(CommandError);
    expect(() => sup.start(['sleep', 'a\0b'])).toThrow(/^cannot start sleep: /);
    expect(() => sup.start([])).toThrow(/empty argv/);
  });

  it('lists the children that run, and stopAll stops them', async () => {
    const before = Date.now();
    const a = sup.start(['sleep', '30'], { name: 'first' });
    const b = sup.start(['sleep', '30'], { name: 'second' });
    await Promise.all([a.spawned, b.spawned]);
    const listed = sup.running();
    expect(listed.map(({ name, pid }) => ({ name, pid }))).toEqual([
      { name: 'first', pid: a.pid },
      { name: 'second', pid: b.pid },
    ]);
    for (const c of listed) expect(c.started.getTime()).toBeGreaterThanOrEqual(before);
    await sup.stopAll();
    expect((await a.exited).signal).toBe('SIGTERM');
    expect((await b.exited).signal).toBe('SIGTERM');
    expect(sup.running()).toEqual([]);
  });

  it('forgets a child once it exits', async () => {
    const child = sup.start(['sh', '-c', 'exit 0'], { name: 'short' });
    expect(sup.running().map((c) => c.pid)).toEqual([child.pid]);
    await child.exited;
    expect(sup.running()).toEqual([]);
  });

  it('a released child is left alone by stopAll but can still be stopped through its handle', async () => {
    const child = sup.start(['sleep', '30'], { detached: true });
    await child.spawned;
    child.release();
    expect(sup.running()).toEqual([]);
    await sup.stopAll();
    expect(alive(child.pid!)).toBe(true);
    expect((await child.stop()).signal).toBe('SIGTERM');
  });

  it('runs as another user when asked (root only)', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip();
    const child = sup.start(['id', '-u'], { uid: 65534, gid: 65534, stdout: 'pipe', cwd: '/' });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    await child.exited;
    expect(out.trim()).toBe('65534');
  });

  it('the shared instance is a Supervisor', () => {
    expect(supervisor).toBeInstanceOf(Supervisor);
  });
});
