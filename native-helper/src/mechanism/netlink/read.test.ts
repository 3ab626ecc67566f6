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
    expect(classifyKind(link('wg0', 'wireguard', 'none'))).toBe('tunnel');
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
});
