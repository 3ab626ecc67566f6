// Where a link's DNS servers come from, in order: systemd-resolved, else NetworkManager (both over
// D-Bus, only in the host's network namespace: busctl.ts). The user's settings come last and live in
// the policy (daemon/dns-resolvers.ts).
import { inInitialNetns } from './busctl.ts';
import { networkManagerServers } from './network-manager.ts';
import { resolvedServers } from './resolved.ts';

export type SystemSource = 'systemd-resolved' | 'NetworkManager';

export interface LinkServers {
  servers: string[];
  source: SystemSource;
}

/** What the system says about each link that has servers; links it knows nothing about are absent. */
export async function readSystemServers(
  links: readonly { name: string; index: number }[],
): Promise<Record<string, LinkServers>> {
  const out: Record<string, LinkServers> = {};
  if (!inInitialNetns()) return out;
  for (const l of links) {
    const fromResolved = await resolvedServers(l.index);
    if (fromResolved.length) {
      out[l.name] = { servers: fromResolved, source: 'systemd-resolved' };
      continue;
    }
    const fromNm = await networkManagerServers(l.name);
    if (fromNm.length) out[l.name] = { servers: fromNm, source: 'NetworkManager' };
  }
  return out;
}
