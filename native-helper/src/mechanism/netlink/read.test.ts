import { describe, expect, it } from 'vitest';
import { failedLine } from './batch.ts';
import { classifyKind, interfacesFromSnapshot, tableId } from './read.ts';

const link = (
  name: string,
  infoKind: string | null = null,
  linkType = 'ether',
  flags: string[] = ['UP', 'LOWER_UP'],
) => ({ name, infoKind, linkType, flags });

describe('netlink parsing', () => {
  it('classifies interface kinds', () => {
    expect(classifyKind(link('lo', null, 'loopback', ['LOOPBACK', 'UP']))).toBe('loopback');
    expect(classifyKind(link('wlp2s0'))).toBe('wifi');
    expect(classifyKind(link('anything'), true)).toBe('wifi');
    expect(classifyKind(link('enp0s3'))).toBe('ethernet');
    expect(classifyKind(link('eth0'))).toBe('ethernet');
    expect(classifyKind(link('up1', 'veth'))).toBe('ethernet');
    expect(classifyKind(link('wg0', 'wireguard', 'none'))).toBe('wireguard');
    // wireguard-go: a tun with a UAPI socket named after it; without the socket, a plain tunnel.
    expect(classifyKind(link('wg0', 'tun', 'none'), false, true)).toBe('wireguard');
    expect(classifyKind(link('wg0', 'tun', 'none'))).toBe('tunnel');
    expect(classifyKind(link('tun0', 'tun', 'none'))).toBe('tunnel');
    expect(classifyKind(link('sy-gw'))).toBe('tunnel');
    expect(classifyKind(link('br0', 'bridge'))).toBe('virtual');
    expect(classifyKind(link('weird'))).toBe('other');
  });

  it('maps table names and finds the failed batch line', () => {
    expect(tableId('main')).toBe(254);
    expect(tableId(undefined)).toBe(254);
    expect(tableId('1509950464')).toBe(1509950464);
    expect(failedLine('Cannot find device "nope"\nCommand failed -:2\n')).toBe(2);
    expect(failedLine('garbage')).toBeNull();
  });

  it('builds interfaces: usable needs up, carrier and a main default route', () => {
    const base = {
      mtu: 1500,
      operstate: 'UP',
      mac: '02:00:00:00:00:01',
      stats: { rxBytes: 10, txBytes: 20 },
    };
    const snap = {
      links: [
        { ...base, index: 2, name: 'up1', flags: ['UP', 'LOWER_UP'], linkType: 'ether', infoKind: 'veth' },
        { ...base, index: 3, name: 'up2', flags: ['UP', 'NO-CARRIER'], linkType: 'ether', infoKind: 'veth' },
      ],
      addresses: [
        {
          ifname: 'up1',
          family: 4 as const,
          address: '198.18.1.2',
          prefixLength: 24,
          scope: 'global',
          tentative: false,
        },
      ],
      routes: [
        {
          family: 4 as const,
          table: 254,
          type: 'unicast',
          dst: 'default',
          gateway: '198.18.1.1',
          dev: 'up1',
          prefsrc: null,
          metric: 100,
          scope: null,
          protocol: null,
          flags: [],
        },
        {
          family: 4 as const,
          table: 254,
          type: 'unicast',
          dst: 'default',
          gateway: '198.18.2.1',
          dev: 'up2',
          prefsrc: null,
          metric: 200,
          scope: null,
          protocol: null,
          flags: ['linkdown'],
        },
      ],
    };
    const [a, b] = interfacesFromSnapshot(snap);
    expect(a).toMatchObject({
      name: 'up1',
      kind: 'ethernet',
      usable: true,
      gateways: [{ family: 4, address: '198.18.1.1' }],
    });
    expect(a!.counters.txBytes).toBe(20);
    expect(b).toMatchObject({ name: 'up2', usable: false });
  });

  it('a WireGuard device is usable with an address alone (no gateway, no default route in main)', () => {
    const dev = (name: string, flags: string[]) => ({
      index: 7,
      name,
      flags,
      mtu: 1420,
      operstate: 'UNKNOWN',
      mac: null,
      linkType: 'none',
      infoKind: 'tun',
      stats: { rxBytes: 0, txBytes: 0 },
    });
    const addr = (ifname: string) => ({
      ifname,
      family: 4 as const,
      address: '10.99.0.2',
      prefixLength: 32,
      scope: 'global',
      tentative: false,
    });
    const snap = {
      links: [dev('wg0', ['POINTOPOINT', 'NOARP', 'UP', 'LOWER_UP']), dev('wg1', ['POINTOPOINT', 'NOARP'])],
      addresses: [addr('wg0'), addr('wg1')],
      routes: [],
    };
    const [up, down] = interfacesFromSnapshot(snap, new Map(), new Set(['wg0', 'wg1']));
    expect(up).toMatchObject({ kind: 'wireguard', usable: true, gateways: [] });
    expect(down).toMatchObject({ kind: 'wireguard', usable: false });
    // Without an address it carries nothing.
    const bare = interfacesFromSnapshot({ ...snap, addresses: [] }, new Map(), new Set(['wg0']));
    expect(bare[0]!.usable).toBe(false);
  });
});
