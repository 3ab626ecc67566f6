// Numbers as people read them, the same in the CLI and the UI: bytes in decimal units (kB, MB),
// rates in bytes per second, latencies in ms. Imports nothing, so the renderer can use it too
// (`#switchyard/api/units.ts`).

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** 0 B, 999 B, 1.5 kB, 12 kB, 3.1 MB: one decimal below 10, none above. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0 B';
  let i = 0;
  while (n >= 1000 && i < UNITS.length - 1) {
    n /= 1000;
    i++;
  }
  // 999.96 kB would round to "1000 kB": say 1.0 MB.
  if (i > 0 && i < UNITS.length - 1 && Math.round(n) >= 1000) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n < 10 ? n.toFixed(1) : Math.round(n)} ${UNITS[i]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** A latency given in µs, in ms: 0.04 ms, 0.42 ms, 3.2 ms, 120 ms; from a second up, in s. */
export function formatLatency(us: number): string {
  if (!Number.isFinite(us) || us < 0) return '–';
  const ms = us / 1000;
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms < 0.01 && ms > 0 ? '<0.01' : ms.toFixed(2)} ms`;
}

/** A count at a glance: 999, 1.2k, 3.4M. */
export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e9).toFixed(1)}G`;
}
