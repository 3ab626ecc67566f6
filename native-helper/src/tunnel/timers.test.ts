import { describe, expect, it } from 'vitest';
import { IndexAllocator, TokenBucket } from './timers.ts';

describe('TokenBucket', () => {
  it('allows the burst, then refills at the rate', () => {
    let now = 0;
    const b = new TokenBucket(3, 2, () => now);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    now += 499;
    expect(b.take()).toBe(false);
    now += 2;
    expect(b.take()).toBe(true);
    now += 10_000;
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
  });
});

describe('IndexAllocator', () => {
  it('hands out indices unique modulo the table size, and reuses released slots', () => {
    const a = new IndexAllocator(16);
    const got = Array.from({ length: 16 }, () => a.allocate());
    expect(new Set(got.map((i) => i % 16)).size).toBe(16);
    expect(() => a.allocate()).toThrow(/no free tunnel session slot/);
    a.release(got[3]!);
    expect(a.allocate() % 16).toBe(got[3]! % 16);
  });
});
