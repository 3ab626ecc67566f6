import { describe, expect, it } from 'vitest';
import * as units from '#switchyard/api/units.ts';
import { MIN_TOP, niceScale } from './chart-scale.ts';
import { formatBytes, formatLatency, formatRate } from './format.ts';

describe('niceScale', () => {
  it('fits 1 kB/s so the line is not flat: the top is the max rounded up to 1, 2, 2.5 or 5 × 10ⁿ', () => {
    expect(niceScale(1050).top).toBe(2000);
    expect(niceScale(1000).top).toBe(1000);
    expect(niceScale(2300).top).toBe(2500);
    expect(niceScale(3100).top).toBe(5000);
    expect(niceScale(7_200_000).top).toBe(10_000_000);
    expect(niceScale(12_000_000).top).toBe(20_000_000);
  });

  it('keeps an empty 0–1 kB/s axis when there is (almost) no traffic', () => {
    expect(niceScale(0).top).toBe(MIN_TOP);
    expect(niceScale(40).top).toBe(MIN_TOP);
    expect(niceScale(Number.NaN).top).toBe(MIN_TOP);
  });

  it('puts the ticks on round values from 0 to the top', () => {
    expect(niceScale(1000).ticks).toEqual([0, 250, 500, 750, 1000]);
    expect(niceScale(1800).ticks).toEqual([0, 500, 1000, 1500, 2000]);
    expect(niceScale(2400).ticks).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    expect(niceScale(4000).ticks).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(niceScale(8000).ticks.map((v) => formatRate(v))).toEqual([
      '0 B/s',
      '2.0 kB/s',
      '4.0 kB/s',
      '6.0 kB/s',
      '8.0 kB/s',
      '10 kB/s',
    ]);
  });
});

describe('units', () => {
  it('are the CLI’s: the UI formats with the same functions', () => {
    expect(formatRate).toBe(units.formatRate);
    expect(formatBytes).toBe(units.formatBytes);
    expect(formatLatency).toBe(units.formatLatency);
    expect(formatLatency(310)).toBe('0.31 ms');
    expect(formatRate(1500)).toBe('1.5 kB/s');
  });
});
