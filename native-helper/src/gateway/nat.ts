// The gateway's forwarding and NAT: one nft table per gateway instance, masquerading tunnel traffic out
// of the uplinks. Desired state only; the reconciler owns the table and nothing outside it.
import type { GatewayLayout } from '../layout/kernel-layout.ts';
import type { TableSpec } from '../mechanism/nft/spec.ts';

export function natTable(layout: GatewayLayout, tun: string, uplinkInterfaces: readonly string[]): TableSpec {
  const ifs = uplinkInterfaces.map((u) => `"${u}"`).join(', ');
  return {
    name: layout.nftTable,
    counters: [],
    sets: [],
    maps: [],
    chains: [
      {
        name: 'postrouting',
        hook: { type: 'nat', hook: 'postrouting', priority: 'srcnat', policy: 'accept' },
        rules: [`iifname "${tun}" oifname { ${ifs} } masquerade`],
      },
    ],
  };
}

/** IP forwarding on in the gateway's namespace; the reconciler restores the old values at teardown. */
export function forwardingSysctls(): Record<string, string> {
  return { 'net/ipv4/ip_forward': '1', 'net/ipv6/conf/all/forwarding': '1' };
}
