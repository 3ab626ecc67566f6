// The y-axis of a live chart fits what it shows: its top is the largest value in the window rounded
// up to 1, 2 or 5 × a power of ten (1 kB/s of traffic fills the chart rather than lying flat at the
// bottom of a 10 kB/s axis), with evenly spaced ticks on round numbers.

/** Below this the chart shows an empty 0–1 kB/s axis rather than zooming into noise. */
export const MIN_TOP = 1000;

export interface YScale {
  top: number;
  /** Tick values from 0 to top. */
  ticks: number[];
}

export function niceScale(max: number, minTop = MIN_TOP): YScale {
  const want = Number.isFinite(max) && max > minTop ? max : minTop;
  const power = 10 ** Math.floor(Math.log10(want));
  const mantissa = [1, 2, 2.5, 5, 10].find((m) => m * power >= want * (1 - 1e-9)) ?? 10;
  const top = mantissa * power;
  // 1 → quarters, 2 → quarters (0.5 steps), 2.5 → 5 steps of 0.5, 5 → 5 steps of 1, 10 → 5 steps of 2.
  const steps = mantissa === 1 || mantissa === 2 ? 4 : 5;
  return { top, ticks: Array.from({ length: steps + 1 }, (_, i) => (top * i) / steps) };
}
