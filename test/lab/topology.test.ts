// The lab description stays inside its address ranges and names everything after the prefix.
import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkPrefix, describeLab, MAX_UPLINKS } from './topology.ts';

const allowed = new BlockList();
allowed.addSubnet('198.18.0.0', 15, 'ipv4');
allowed.addSubnet('fd5a::', 16, 'ipv6');

function inLabRanges(address: string): boolean {
  return allowed.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
}

describe('lab topology', () => {
  const topo = describeLab('sytabcde', MAX_UPLINKS);
  const fragments = [topo.core, ...topo.uplinkFragments];

  it('uses only 198.18.0.0/15 and fd5a::/16', () => {
    const addresses = [
      ...fragments.flatMap((f) => f.addresses.map((a) => a.cidr.split('/')[0]!)),
      ...fragments.flatMap((f) => f.routes.map((r) => r.via)),
      ...Object.values(topo.addresses),
    ];
    expect(addresses.length).toBeGreaterThan(50);
    expect(addresses.filter((a) => !inLabRanges(a))).toEqual([]);
    expect(inLabRanges('192.0.2.1')).toBe(false); // the check itself can fail
  });

  it('gives every uplink its own subnets, gateway and ISP, with Ethernet preferred by metric', () => {
    const subnets = topo.uplinks.flatMap((u) => [u.v4.subnet, u.v6.subnet]);
    expect(new Set(subnets).size).toBe(subnets.length);
    expect(new Set(topo.uplinks.map((u) => u.ispRole)).size).toBe(MAX_UPLINKS);
    const [wifi, ethernet] = topo.uplinks;
    expect([wifi?.ifname, ethernet?.ifname]).toEqual(['wlan0', 'enp3s0']);
    expect(ethernet!.metric).toBeLessThan(wifi!.metric);
  });

  it('keeps interface names within IFNAMSIZ and rejects bad prefixes and uplink counts', () => {
    const names = fragments.flatMap((f) => f.veths.flatMap((v) => [v.a.ifname, v.b.ifname]));
    expect(names.filter((n) => n.length > 15)).toEqual([]);
    expect(() => checkPrefix('Bad-prefix')).toThrow(/invalid/);
    expect(() => describeLab('sylab', 0)).toThrow(/from 1 to/);
    expect(() => describeLab('sylab', MAX_UPLINKS + 1)).toThrow(/from 1 to/);
  });
});
