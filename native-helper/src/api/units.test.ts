import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatLatency, formatRate } from './units.ts';

describe('units shared by the CLI and the UI', () => {
  it('bytes in decimal units', () => {
    expect([0, 999, 1000, 1536, 12_345, 999_960, 3_145_728, 2e9].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1.0 kB',
      '1.5 kB',
      '12 kB',
      '1.0 MB',
      '3.1 MB',
      '2.0 GB',
    ]);
    expect(formatRate(1000)).toBe('1.0 kB/s');
  });

  it('latencies in ms, not µs', () => {
    expect([42, 420, 3200, 12_345, 120_000, 2_500_000].map(formatLatency)).toEqual([
      '0.04 ms',
      '0.42 ms',
      '3.20 ms',
      '12.3 ms',
      '120 ms',
      '2.50 s',
    ]);
    expect(formatLatency(-1)).toBe('–');
  });

  it('counts at a glance', () => {
    expect([999, 1234, 3_400_000].map(formatCount)).toEqual(['999', '1.2k', '3.4M']);
  });
});
