import { describe, expect, it } from 'vitest';
import { computeWindow, scrollToReveal } from './windowing.ts';

describe('computeWindow', () => {
  it('renders only the rows in view plus overscan at the top', () => {
    const w = computeWindow({ count: 1000, rowHeight: 56, scrollTop: 0, viewportHeight: 560, overscan: 4 });
    expect(w).toEqual({ start: 0, end: 14, offset: 0, total: 56_000 });
  });

  it('follows the scroll position in the middle of a long list', () => {
    // 5600 px down is row 100; 560 px show rows 100..109.
    const w = computeWindow({
      count: 1000,
      rowHeight: 56,
      scrollTop: 5600,
      viewportHeight: 560,
      overscan: 4,
    });
    expect(w.start).toBe(96);
    expect(w.end).toBe(114);
    expect(w.offset).toBe(96 * 56);
  });

  it('counts a partly visible row at the bottom', () => {
    const w = computeWindow({ count: 1000, rowHeight: 50, scrollTop: 25, viewportHeight: 100, overscan: 0 });
    // Rows 0 (half), 1, 2 (half) are visible.
    expect([w.start, w.end]).toEqual([0, 3]);
  });

  it('clamps past the end, e.g. after the list shrank under a scrolled viewport', () => {
    const w = computeWindow({
      count: 20,
      rowHeight: 56,
      scrollTop: 99_999,
      viewportHeight: 560,
      overscan: 2,
    });
    expect(w.end).toBe(20);
    expect(w.start).toBe(8); // last 10 rows visible, 2 of overscan
    expect(w.total).toBe(1120);
  });

  it('handles an empty list and a list shorter than the viewport', () => {
    expect(computeWindow({ count: 0, rowHeight: 56, scrollTop: 0, viewportHeight: 500 })).toEqual({
      start: 0,
      end: 0,
      offset: 0,
      total: 0,
    });
    const w = computeWindow({ count: 3, rowHeight: 56, scrollTop: 0, viewportHeight: 500 });
    expect([w.start, w.end]).toEqual([0, 3]);
  });

  it('renders at least one row when the viewport has not been measured yet', () => {
    const w = computeWindow({ count: 10, rowHeight: 56, scrollTop: 0, viewportHeight: 0, overscan: 0 });
    expect(w.end).toBe(1);
  });
});

describe('scrollToReveal', () => {
  it('scrolls up to a row above the viewport', () => {
    expect(scrollToReveal(2, 50, 300, 200)).toBe(100);
  });
  it('scrolls down just enough for a row below the viewport', () => {
    expect(scrollToReveal(10, 50, 0, 200)).toBe(350);
  });
  it('leaves a visible row alone', () => {
    expect(scrollToReveal(3, 50, 100, 200)).toBeNull();
  });
});
