// A reader kept running, with real processes: ready when it says so, its reason when it ends at once,
// restarted after it ends by itself, and gone after stop().
import { describe, expect, it } from 'vitest';
import { ReaderChild, type ReaderSpec } from './reader-child.ts';
import type { Supervised } from './supervisor.ts';

const saysListening = (child: Supervised) =>
  new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve('never said it listens'), 5000);
    child.on('log', (line: string) => {
      if (line.includes('listening')) {
        clearTimeout(timer);
        resolve(null);
      }
    });
  });

function reader(script: string, lines: string[] = []): ReaderChild {
  const spec: ReaderSpec = {
    name: 'test reader',
    argv: ['sh', '-c', script],
    attach: (child) => child.stdout?.setEncoding('utf8').on('data', (d: string) => lines.push(d.trim())),
    ready: saysListening,
  };
  return new ReaderChild(spec);
}

describe('ReaderChild', () => {
  it('starts once the reader listens, passes its output on, and stop() ends it', async () => {
    const lines: string[] = [];
    const r = reader('echo listening >&2; echo first; exec sleep 30', lines);
    await r.start();
    const pid = r.pid;
    expect(pid).toBeGreaterThan(0);
    await expect.poll(() => lines).toContain('first');
    await r.stop();
    expect(() => process.kill(pid!, 0)).toThrow();
  });

  it('fails with the reader’s own reason when it ends before it listens', async () => {
    const r = reader('echo "no such group" >&2; exit 3');
    await expect(r.start()).rejects.toThrow('test reader ended: no such group');
    expect(r.pid).toBeNull();
  });

  it('fails when it never says it listens, and leaves no process', async () => {
    const r = reader('exec sleep 30');
    const started = r.start();
    await expect(started).rejects.toThrow('never said it listens');
    expect(r.pid).toBeNull();
  }, 15_000);

  it('reports an end by itself and starts it again', async () => {
    const r = reader('echo listening >&2; sleep 0.3; echo gone >&2; exit 1');
    const errors: string[] = [];
    r.on('error', (e: Error) => errors.push(e.message));
    await r.start();
    const first = r.pid;
    // (events.once would reject on the 'error' that comes first.)
    const restarted = new Promise((resolve) => r.on('restarted', resolve));
    await restarted;
    expect(errors[0]).toMatch(/^test reader ended: .*gone/s);
    expect(r.pid).not.toBe(first);
    await r.stop();
  }, 15_000);
});
