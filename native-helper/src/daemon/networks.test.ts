import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Interface, Network } from '../api/schema.ts';
import type { Neighbor } from '../mechanism/netlink/neighbors.ts';
import { EventBus } from './event-bus.ts';
import { Networks, networkId } from './networks.ts';
import { PolicyState } from './policy-state.ts';
import { Problems } from './problems.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const uplink = (name: string, gw: string, address: string): Interface => ({
  name,
  index: 2,
  kind: 'wifi',
  up: true,
  usable: true,
  mac: null,
  mtu: 1500,
  addresses: [{ family: 4, address, prefixLength: 24 }],
  gateways: [{ family: 4, address: gw }],
  apps: [],
  counters: { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 },
});

function setup(neighbors: Neighbor[], ssids: Record<string, string | Error> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-networks-'));
  dirs.push(dir);
  const policy = new PolicyState(join(dir, 'state'), null, new Problems(new EventBus(), () => {}));
  const told: Network[][] = [];
  const asked: string[] = [];
  const ssidAsked: string[] = [];
  const networks = new Networks({
    policy,
    changed: (list) => told.push(list),
    readNeighbors: async () => neighbors,
    resolveNeighbor: async (address, dev) => void asked.push(`${address}%${dev}`),
    readSsid: async (ifname) => {
      ssidAsked.push(ifname);
      const ssid = ssids[ifname];
      if (ssid instanceof Error) throw ssid;
      return ssid ?? null;
    },
    systemUplink: async () => 'wlan0',
    now: () => new Date('2026-11-26T12:00:00Z'),
  });
  return { policy, networks, told, asked, ssidAsked };
}

const wlan = uplink('wlan0', '198.18.1.1', '198.18.1.2');
const gwMac = (mac: string): Neighbor => ({
  ifname: 'wlan0',
  address: '198.18.1.1',
  mac,
  state: ['REACHABLE'],
});

describe('Networks', () => {
  it('names a network by its gateway MAC, remembers it untrusted, and gives apps its trust once marked', async () => {
    const { policy, networks, told } = setup([gwMac('02:00:00:00:00:01')]);
    const ctx = await networks.identify([wlan]);
    const id = networkId({ gatewayMac: '02:00:00:00:00:01', ssid: null, subnet: null })!;
    expect(ctx).toEqual({ networkOf: { wlan0: id }, systemUplink: 'wlan0' });
    expect(policy.current.networks.map((n) => [n.id, n.trust, n.fingerprint.subnet])).toEqual([
      [id, null, '198.18.1.0/24'],
    ]);
    expect(told.at(-1)!.map((n) => [n.effectiveTrust, n.interfaces])).toEqual([['untrusted', ['wlan0']]]);
    expect(networks.setTrust(id, 'trusted').effectiveTrust).toBe('trusted');
    networks.setUnknownTrust('trusted');
    expect(policy.current.unknownTrust).toBe('trusted');
    expect(() => networks.setTrust('n-000000000000', 'trusted')).toThrow(/no network/);
  });

  it('an unresolved gateway is not identified: untrusted, not remembered, and the kernel is asked to resolve it', async () => {
    const { policy, networks, asked } = setup([]);
    const ctx = await networks.identify([wlan]);
    expect(ctx.networkOf).toEqual({ wlan0: null });
    expect(policy.current.networks).toEqual([]);
    expect(asked).toEqual(['198.18.1.1%wlan0']);
    const shown = networks.list();
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ effectiveTrust: 'untrusted', interfaces: ['wlan0'], trust: null });
  });

  it('another gateway MAC is another network; the one before stays known, and nothing is told twice', async () => {
    const neighbors = [gwMac('02:00:00:00:00:01')];
    const { policy, networks, told } = setup(neighbors);
    await networks.identify([wlan]);
    await networks.identify([wlan]);
    expect(told).toHaveLength(1);
    neighbors[0] = gwMac('02:00:00:00:00:02');
    const ctx = await networks.identify([wlan]);
    expect(told).toHaveLength(2);
    expect(policy.current.networks).toHaveLength(2);
    expect(ctx.networkOf.wlan0).toBe(
      networkId({ gatewayMac: '02:00:00:00:00:02', ssid: null, subnet: null }),
    );
    expect(
      networks
        .list()
        .filter((n) => n.interfaces.length)
        .map((n) => n.id),
    ).toEqual([ctx.networkOf.wlan0]);
  });

  it('one gateway MAC with two SSIDs is two networks, each with its SSID in the fingerprint and name', async () => {
    const mac = '02:00:00:00:00:01';
    const ssids: Record<string, string> = { wlan0: 'Home' };
    const wired = { ...uplink('eth1', '198.18.2.1', '198.18.2.2'), kind: 'ethernet' as const };
    const { policy, networks, ssidAsked } = setup([gwMac(mac)], ssids);
    const home = (await networks.identify([wlan, wired])).networkOf.wlan0;
    ssids.wlan0 = 'Café 5G';
    const cafe = (await networks.identify([wlan, wired])).networkOf.wlan0;

    expect(home).toBe(networkId({ gatewayMac: mac, ssid: 'Home', subnet: null }));
    expect(cafe).toBe(networkId({ gatewayMac: mac, ssid: 'Café 5G', subnet: null }));
    expect(cafe).not.toBe(home);
    expect(policy.current.networks.map((n) => [n.id, n.name, n.fingerprint])).toEqual([
      [home, '"Home" via 198.18.1.1', { gatewayMac: mac, ssid: 'Home', subnet: '198.18.1.0/24' }],
      [cafe, '"Café 5G" via 198.18.1.1', { gatewayMac: mac, ssid: 'Café 5G', subnet: '198.18.1.0/24' }],
    ]);
    // Only the Wi-Fi uplink is asked for an SSID.
    expect(ssidAsked).toEqual(['wlan0', 'wlan0']);
  });

  it('an SSID that cannot be read counts as none: the network is told by its gateway MAC', async () => {
    const mac = '02:00:00:00:00:01';
    const { policy, networks } = setup([gwMac(mac)], { wlan0: new Error('nl80211 broke') });
    const ctx = await networks.identify([wlan]);
    expect(ctx.networkOf.wlan0).toBe(networkId({ gatewayMac: mac, ssid: null, subnet: null }));
    expect(policy.current.networks.map((n) => [n.name, n.fingerprint.ssid])).toEqual([
      [`Network via 198.18.1.1 (${mac})`, null],
    ]);
  });
});
