// Per-app uplinks: the data path files each app's uplink mark under the packet's flow, the TUN's
// tc ingress program sets it as skb->mark, and here one policy rule + table per uplink routes marked
// packets out of that uplink. Marks, tables and rules are derived from the instance name; only ours
// are ever added or removed.
import { output, run } from '../mechanism/exec.ts';
import { fnv1a32 } from '../layout/kernel-layout.ts';

/** Before the main table (32766) and the client helper's rules; below 10000 is left to others. */
export const UPLINK_RULE_PRIORITY = 10000;

/** 0x5B, then 16 bits of the instance, then the uplink (1-based): the mark and the table number. */
export function uplinkMark(instance: string, index: number): number {
  const h = fnv1a32(instance);
  return ((0x5b << 24) | (((h ^ (h >>> 16)) & 0xffff) << 8) | (index + 1)) >>> 0;
}

export interface UplinkRouting {
  instance: string;
  uplinks: { name: string; interface: string }[];
  /** Uplinks some app names explicitly: each must have a default route to copy. */
  pinned: Set<string>;
  netns?: string;
}

type IpRoute = { dst: string; gateway?: string; dev?: string; flags?: string[] };

const FAMILIES = ['-4', '-6'] as const;

function rules(instance: string, index: number, family: string): string[][] {
  const mark = String(uplinkMark(instance, index));
  return [
    // More specific routes of the main table (tunnel subnet, connected networks) still win.
    [family, 'rule', 'add', 'fwmark', mark, 'lookup', 'main', 'suppress_prefixlength', '0', 'pref'],
    [family, 'rule', 'add', 'fwmark', mark, 'lookup', mark, 'pref'],
  ].map((r, i) => [...r, String(UPLINK_RULE_PRIORITY + i)]);
}

/**
 * Copies each uplink's default route from the main table into its own table and adds its rules.
 * An uplink without a default route gets no table (its marked packets follow the main table), unless
 * an app names it: then this throws, since that app's traffic could not be kept on it.
 */
export async function installUplinkRouting(opts: UplinkRouting): Promise<void> {
  const ip = (argv: string[]) => (opts.netns ? ['ip', '-n', opts.netns, ...argv] : ['ip', ...argv]);
  await removeUplinkRouting(opts.instance, opts.uplinks.length, opts.netns);
  for (const [i, u] of opts.uplinks.entries()) {
    const table = String(uplinkMark(opts.instance, i));
    let copied = 0;
    for (const family of FAMILIES) {
      const json = await output(
        ip(['-j', family, 'route', 'show', 'table', 'main', 'default', 'dev', u.interface]),
      );
      const route = (JSON.parse(json || '[]') as IpRoute[])[0];
      if (!route) continue;
      const via = route.gateway ? ['via', route.gateway] : [];
      const onlink = route.flags?.includes('onlink') ? ['onlink'] : [];
      await run(
        ip([family, 'route', 'replace', 'default', ...via, 'dev', u.interface, ...onlink, 'table', table]),
      );
      copied++;
    }
    if (!copied && opts.pinned.has(u.name))
      throw new Error(
        `uplink ${u.name} (${u.interface}) has no default route in the main table; add one (a higher metric keeps it from being preferred) so apps assigned to it can leave through it`,
      );
    for (const family of FAMILIES) for (const r of rules(opts.instance, i, family)) await run(ip(r));
  }
}

export async function removeUplinkRouting(instance: string, count: number, netns?: string): Promise<void> {
  const ip = (argv: string[]) => (netns ? ['ip', '-n', netns, ...argv] : ['ip', ...argv]);
  for (let i = 0; i < count; i++) {
    const table = String(uplinkMark(instance, i));
    for (const family of FAMILIES) {
      for (const r of rules(instance, i, family)) {
        const del = r.map((a) => (a === 'add' ? 'del' : a));
        // A rule may exist more than once after a crash: delete until none is left.
        while ((await run(ip(del), { allowFailure: true })).code === 0);
      }
      await run(ip([family, 'route', 'flush', 'table', table]), { allowFailure: true });
    }
  }
}
