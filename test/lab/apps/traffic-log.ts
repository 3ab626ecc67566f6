// The sample apps' machine-readable log: one JSON object per line on stdout.
import { parseArgs } from 'node:util';

export interface TrafficRecord {
  /** ISO time. */
  t: string;
  kind: 'http' | 'udp' | 'dns';
  ok: boolean;
  /** The client address the server reported (HTTP/UDP) or the resolver address whoami.lab returned. */
  serverSawAddress: string | null;
  error?: string;
  [detail: string]: unknown;
}

export function logTraffic(record: Omit<TrafficRecord, 't'>): void {
  process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...record }) + '\n');
}

export function errorText(err: unknown): string {
  return err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
}

export interface AppOptions {
  host: string;
  intervalMs: number;
  /** Stop after this many rounds; 0 runs until killed. */
  count: number;
}

/** Common flags: --host (default server.lab), --interval-ms (default 1000), --count (default 0 = forever). */
export function appOptions(defaultIntervalMs = 1000): AppOptions {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: 'server.lab' },
      'interval-ms': { type: 'string', default: String(defaultIntervalMs) },
      count: { type: 'string', default: '0' },
    },
  });
  return { host: values.host, intervalMs: Number(values['interval-ms']), count: Number(values.count) };
}

/** Run `round` every interval (never overlapping) until --count rounds are done. */
export async function every(opts: AppOptions, round: () => Promise<void>): Promise<void> {
  process.on('SIGTERM', () => process.exit(0));
  for (let i = 0; opts.count === 0 || i < opts.count; i++) {
    const started = Date.now();
    await round();
    await new Promise((r) => setTimeout(r, Math.max(0, opts.intervalMs - (Date.now() - started))));
  }
}
