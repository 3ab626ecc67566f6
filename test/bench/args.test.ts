import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.ts';

describe('parseBenchArgs', () => {
  it('defaults to a full run of everything', () => {
    expect(parseBenchArgs([])).toEqual({ quick: false, only: [], help: false });
  });
  it('takes --quick from the flag or BENCH_QUICK=1, and --only in every spelling', () => {
    expect(parseBenchArgs(['--', '--only', 'tunnel,apply', '--only=anchors'], { BENCH_QUICK: '1' })).toEqual({
      quick: true,
      only: ['tunnel', 'apply', 'anchors'],
      help: false,
    });
  });
  it('rejects unknown arguments and a bare --only', () => {
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown argument --fast/);
    expect(() => parseBenchArgs(['--only'])).toThrow(/--only needs a name/);
  });
});
