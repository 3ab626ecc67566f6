// What the lab suites share: waiting for a condition, and the probe that reports which address the
// lab's servers saw for an app's HTTP, UDP (IPv4 and IPv6) and DNS traffic.
import { join } from 'node:path';
import type { Lab } from '../lab/lab.ts';
import { REPO, SWITCHYARD, type RunningHelper } from '../lab/switchyard-helper.ts';

export const NODE = ['node', '--import', join(REPO, 'node_modules/tsx/dist/esm/index.mjs')];
export const PROBE = join(REPO, 'test/integration/fixtures/probe.ts');
/** The cmdline matcher of the test app "probe": only probes started with --managed match it. */
export const PROBE_MATCHER = 'fixtures/probe\\.ts --managed';

export interface Seen {
  address: string | null;
  error?: string;
}
export interface ProbeResult {
  httpV4: Seen;
  httpV6: Seen;
  udpV4: Seen;
  udpV6: Seen;
  dns: Seen;
}

/** Poll fn until ok(value) or the timeout, then fail with the last value seen. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 400));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

/** argv of one probe round against the lab's servers. */
export function probeArgv(lab: Lab, opts: { managed?: boolean; timeoutMs?: number } = {}): string[] {
  return [
    ...NODE,
    PROBE,
    ...(opts.managed ? ['--managed'] : []),
    '--v4',
    lab.servers.v4,
    '--v6',
    lab.servers.v6,
    '--timeout',
    String(opts.timeoutMs ?? 2000),
  ];
}

export function parseProbe(stdout: string): ProbeResult {
  return JSON.parse(stdout.trim().split('\n').pop()!) as ProbeResult;
}

/** A probe round as app `app`, started with `switchyard run` in the lab's desktop. */
export async function probeAs(
  lab: Lab,
  helper: RunningHelper,
  app: string,
  timeoutMs = 2000,
  /** false: a command line PROBE_MATCHER does not match, so only `run --app` puts it in the app. */
  managed = true,
): Promise<ProbeResult> {
  const argv = [
    SWITCHYARD,
    'run',
    '--app',
    app,
    '--socket',
    helper.socket,
    '--',
    ...probeArgv(lab, { managed, timeoutMs }),
  ];
  return parseProbe(await lab.exec('desktop', argv));
}

/** What the servers saw, in a fixed order: HTTP v4, UDP v4, HTTP v6, UDP v6, DNS. */
export function addresses(r: ProbeResult): (string | null)[] {
  return [r.httpV4.address, r.udpV4.address, r.httpV6.address, r.udpV6.address, r.dns.address];
}
