// Two fresh network namespaces joined by one veth: the ground every throughput anchor and the tunnel
// bench stand on. Nothing is created in, or moved out of, the host namespace: the veth is born in A
// with its peer placed straight into B.
import { readFile } from 'node:fs/promises';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { backgroundProcessesIn, type BenchContext } from './harness.ts';

export interface NetnsPair {
  a: string;
  b: string;
  /** veth device names inside A and B. */
  vethA: string;
  vethB: string;
  /** Addresses (no prefix length) on the veth ends. */
  addrA: string;
  addrB: string;
  /** Stops harness-started processes inside, then deletes both namespaces (also done by ctx cleanup). */
  destroy(): Promise<void>;
}

export interface NetnsPairOptions {
  /** Short word in the namespace names, e.g. 'anchor' → syb1a2b3c-anchor1-a. */
  label: string;
  /** /24 prefix inside 198.18.0.0/15; A gets .1, B gets .2. Default 198.18.0. */
  subnet24?: string;
  mtu?: number;
}

/** Runs argv inside a namespace (ip netns exec). */
export function inNs(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

export async function createNetnsPair(ctx: BenchContext, opts: NetnsPairOptions): Promise<NetnsPair> {
  const id = ctx.uniqueName(opts.label.slice(0, 4));
  const a = `${id}-a`;
  const b = `${id}-b`;
  const subnet = opts.subnet24 ?? '198.18.0';
  if (!/^198\.(18|19)\.\d{1,3}$/.test(subnet))
    throw new Error(`subnet24 ${subnet} is outside 198.18.0.0/15; use the benchmark range.`);
  const pair: NetnsPair = {
    a,
    b,
    vethA: 'veth-a',
    vethB: 'veth-b',
    addrA: `${subnet}.1`,
    addrB: `${subnet}.2`,
    destroy: async () => {
      await deleteNs(ctx, b);
      await deleteNs(ctx, a);
    },
  };
  // Registered before creation so a half-built pair is still removed.
  ctx.defer(`delete namespaces ${a} ${b}`, pair.destroy);
  for (const ns of [a, b]) {
    await run(['ip', 'netns', 'add', ns]);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await run([
    'ip',
    '-n',
    a,
    'link',
    'add',
    pair.vethA,
    'type',
    'veth',
    'peer',
    'name',
    pair.vethB,
    'netns',
    b,
  ]);
  for (const [ns, dev, addr] of [
    [a, pair.vethA, pair.addrA],
    [b, pair.vethB, pair.addrB],
  ] as const) {
    if (opts.mtu) await run(['ip', '-n', ns, 'link', 'set', dev, 'mtu', String(opts.mtu)]);
    await run(['ip', '-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
    await run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }
  await run(inNs(a, ['ping', '-c', '1', '-W', '2', pair.addrB]));
  ctx.log(`namespaces ${a} (${pair.addrA}) and ${b} (${pair.addrB}) joined by a veth`);
  return pair;
}

async function deleteNs(ctx: Pick<BenchContext, 'log'>, ns: string): Promise<void> {
  const listed = await run(['ip', 'netns', 'list'], { allowFailure: true });
  if (!listed.stdout.split('\n').some((l) => l.split(' ')[0] === ns)) return;
  // A process left inside would keep the namespace alive after its name is gone: stop ours (by PID)
  // first; anything else is a bug worth naming, not something to kill blindly.
  await Promise.all(backgroundProcessesIn(ns).map((p) => p.stop()));
  const pids = (await run(['ip', 'netns', 'pids', ns], { allowFailure: true })).stdout
    .split('\n')
    .filter(Boolean);
  if (pids.length) {
    const names = await Promise.all(
      pids.map((p) =>
        readFile(`/proc/${p}/comm`, 'utf8').then(
          (c) => `${p} ${c.trim()}`,
          () => p,
        ),
      ),
    );
    ctx.log(`namespace ${ns} still holds processes not started with startBackground(): ${names.join(', ')}.`);
  }
  await run(['ip', 'netns', 'del', ns]);
}

/** Names of namespaces whose name starts with prefix (to prove a run left nothing behind). */
export async function namespacesWithPrefix(prefix: string): Promise<string[]> {
  const { stdout } = await run(['ip', 'netns', 'list'], { allowFailure: true });
  return stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}
