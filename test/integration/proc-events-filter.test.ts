// The proc connector with execOnly (what the helper's adoption uses): the kernel's socket filter keeps
// exec events and drops fork and exit, which would otherwise cross into JavaScript for every process
// on the machine. Without the option all three arrive, as before.
import { describe, expect, it } from 'vitest';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { ProcEvents } from '../../native-helper/src/mechanism/proc/index.ts';

/** Runs `sh -c 'exec /bin/true'` (a fork, an exec, an exit) and returns what was seen of its pid. */
async function eventsOfOneCommand(execOnly: boolean): Promise<{ seen: Set<string>; pid: number }> {
  const byPid = new Map<number, Set<string>>();
  const note = (what: string, pid: number) => byPid.set(pid, (byPid.get(pid) ?? new Set()).add(what));
  const events = new ProcEvents()
    .on('exec', (e) => note('exec', e.tgid))
    .on('fork', (e) => note('fork', e.tgid))
    .on('exit', (e) => note('exit', e.tgid))
    .start({ netnsPath: '/proc/1/ns/net', execOnly });
  try {
    const pid = Number((await run(['sh', '-c', 'echo $$; exec /bin/true'])).stdout.trim());
    // Events arrive through the reader thread: give them a moment after the command ended.
    for (let i = 0; i < 40 && !byPid.get(pid)?.has(execOnly ? 'exec' : 'exit'); i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    return { seen: byPid.get(pid) ?? new Set(), pid };
  } finally {
    events.stop();
  }
}

describe('proc events filter', () => {
  it('with execOnly, delivers the exec of a command and neither its fork nor its exit', async () => {
    const { seen, pid } = await eventsOfOneCommand(true);
    expect(pid).toBeGreaterThan(1);
    expect([...seen].sort()).toEqual(['exec']);
  });

  it('without it, delivers fork, exec and exit', async () => {
    const { seen } = await eventsOfOneCommand(false);
    expect([...seen].sort()).toEqual(['exec', 'exit', 'fork']);
  });
});
