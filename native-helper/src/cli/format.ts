// Human output for the CLI: aligned tables, rates and byte counts people can read at a glance.
import { formatBytes, formatCount, formatLatency, formatRate } from '../api/units.ts';

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n');
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

// The units are the UI's (api/units.ts): kB and MB, bytes per second.
export const bytes = formatBytes;
export const count = formatCount;
export const rate = formatRate;
export const latency = formatLatency;

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
export const color = { red: paint(31), green: paint(32), yellow: paint(33), dim: paint(2), bold: paint(1) };

/** A command's result: JSON with --json, else the human text. */
export function print(p: { json: boolean }, value: unknown, human: () => string): void {
  console.log(p.json ? JSON.stringify(value, null, 2) : human());
}
