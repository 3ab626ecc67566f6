import { beforeEach, describe, expect, it, vi } from 'vitest';

// `ip -batch -` as the kernel answers it: lines run in order up to the first that fails, whose error
// and "Command failed -:N" (counted in this run's input) go to stderr.
const kernel = { errors: new Map<string, string>(), runs: [] as string[][] };
vi.mock('../exec.ts', () => ({
  run: vi.fn(async (_argv: string[], opts: { input: string }) => {
    const lines = opts.input.trimEnd().split('\n');
    kernel.runs.push(lines);
    const at = lines.findIndex((l) => kernel.errors.has(l));
    if (at < 0) return { code: 0, stdout: '', stderr: '' };
    return { code: 1, stdout: '', stderr: `${kernel.errors.get(lines[at]!)}\nCommand failed -:${at + 1}\n` };
  }),
}));
const { alreadyGone, applyBatch, BatchError } = await import('./batch.ts');

const DEL = 'route del default via 198.18.1.1 dev wg0 table 1001 metric 0';
const ADD = 'rule add priority 10010 fwmark 0x100/0xff00 lookup 1002';

describe('applyBatch', () => {
  beforeEach(() => {
    kernel.errors.clear();
    kernel.runs = [];
  });

  it('takes a route the kernel removed with its device as deleted, and runs the lines after it', async () => {
    kernel.errors.set(DEL, 'RTNETLINK answers: No such process');
    expect(await applyBatch(4, [ADD, DEL, 'route del 10.0.0.0/8 dev wg0 table 1001 metric 0'])).toEqual([
      DEL,
    ]);
    expect(kernel.runs).toEqual([
      [ADD, DEL, 'route del 10.0.0.0/8 dev wg0 table 1001 metric 0'],
      ['route del 10.0.0.0/8 dev wg0 table 1001 metric 0'],
    ]);
  });

  it('reports any other failure at its line of the whole batch', async () => {
    kernel.errors.set(DEL, 'RTNETLINK answers: No such process');
    kernel.errors.set(ADD, 'RTNETLINK answers: File exists');
    const err = await applyBatch(4, [DEL, 'route del x dev y table 1 metric 0', ADD]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(BatchError);
    expect(err).toMatchObject({ line: 3, command: ADD });
    expect((err as Error).message).toContain('File exists');
  });

  it('runs nothing for no lines', async () => {
    expect(await applyBatch(6, [])).toEqual([]);
    expect(kernel.runs).toEqual([]);
  });
});

describe('alreadyGone', () => {
  it('is a delete whose object is not there, never an add or another error', () => {
    expect(alreadyGone(DEL, 'RTNETLINK answers: No such process\nCommand failed -:1')).toBe(true);
    expect(alreadyGone(DEL, 'Error: FIB table does not exist.\nCommand failed -:1')).toBe(true);
    expect(
      alreadyGone(
        'rule del priority 10010 fwmark 0x100/0xff00 lookup 1002',
        'RTNETLINK answers: No such file or directory',
      ),
    ).toBe(true);
    expect(alreadyGone(DEL, 'RTNETLINK answers: Operation not permitted')).toBe(false);
    expect(
      alreadyGone('route replace default dev wg0 table 1001 metric 0', 'RTNETLINK answers: No such process'),
    ).toBe(false);
    expect(
      alreadyGone('rule add priority 1 fwmark 0x1 lookup 2', 'RTNETLINK answers: No such file or directory'),
    ).toBe(false);
  });
});
