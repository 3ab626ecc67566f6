import { describe, expect, it } from 'vitest';
import { parseCmdline, parseStatus, readProcess, scanProcesses } from './scan.ts';

describe('/proc parsing', () => {
  it('reads PPid and the real uid from status', () => {
    const text =
      'Name:\tbash\nState:\tS (sleeping)\nPPid:\t42\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t5\t5\t5\n';
    expect(parseStatus(text)).toEqual({ ppid: 42, uid: 1000 });
  });

  it('rejects a truncated status', () => {
    expect(parseStatus('Name:\tx\n')).toBeNull();
  });

  it('splits a NUL-separated command line, keeping empty arguments', () => {
    expect(parseCmdline('sleep\x001\x00\x00x\x00')).toEqual(['sleep', '1', '', 'x']);
    expect(parseCmdline('')).toEqual([]);
  });
});

describe('scanProcesses (real /proc)', () => {
  it('includes this process with its argv', async () => {
    const me = (await scanProcesses()).find((p) => p.pid === process.pid);
    expect(me?.ppid).toBe(process.ppid);
    expect(me?.cmdline[0]).toBe(process.argv0);
  });

  it('returns null for a pid that does not exist', async () => {
    expect(await readProcess(2 ** 22 + 1)).toBeNull();
  });
});
