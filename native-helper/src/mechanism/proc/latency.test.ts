import { describe, expect, it } from 'vitest';
import { percentiles } from './latency.ts';

describe('percentiles', () => {
  it('uses nearest rank on unsorted samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    expect(percentiles(samples)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 });
  });

  it('handles a single sample and no samples', () => {
    expect(percentiles([7])).toMatchObject({ p50: 7, p99: 7, max: 7 });
    expect(percentiles([]).count).toBe(0);
    expect(percentiles([]).p50).toBeNaN();
  });
});
