import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryTrim } from './memory-trim.ts';

describe('memory trim', () => {
  afterEach(() => vi.useRealTimers());

  it('trims once, after the work has been quiet for a while', () => {
    vi.useFakeTimers();
    const trim = vi.fn(() => true);
    const t = new MemoryTrim(trim, 5000, 3_600_000);
    t.poke();
    vi.advanceTimersByTime(4000);
    t.poke(); // more work: wait again
    vi.advanceTimersByTime(4000);
    expect(trim).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(trim).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(trim).toHaveBeenCalledTimes(1);
    t.stop();
  });

  it('also trims now and then while idle', () => {
    vi.useFakeTimers();
    const trim = vi.fn(() => true);
    const t = new MemoryTrim(trim, 5000, 60_000);
    vi.advanceTimersByTime(180_000);
    expect(trim).toHaveBeenCalledTimes(3);
    t.stop();
  });

  it('does nothing after stop, and survives an addon without trimMemory', () => {
    vi.useFakeTimers();
    const stopped = vi.fn(() => true);
    const t = new MemoryTrim(stopped, 100, 500);
    t.poke();
    t.stop();
    vi.advanceTimersByTime(1000);
    expect(stopped).not.toHaveBeenCalled();
    const missing = new MemoryTrim(() => {
      throw new TypeError('native(...).trimMemory is not a function');
    }, 100);
    missing.poke();
    expect(() => vi.advanceTimersByTime(1000)).not.toThrow();
    missing.stop();
  });
});
