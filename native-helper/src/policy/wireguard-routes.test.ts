// A WireGuard egress's table: point-to-point, often a /32 and no IPv6.
import { describe, expect, it } from 'vitest';
import { egressRoutes } from './compile.ts';

describe('egress table of a WireGuard device', () => {
  it('routes by device with its own source, and leaves out a family it has no address in', () => {
    const wg0 = {
      name: 'wg0',
      kind: 'wireguard' as const,
      usable: true,
      addresses: [{ family: 4 as const, address: '10.99.0.2', prefixLength: 32 }],
      gateways: [],
    };
    expect(egressRoutes(wg0, 1000)).toEqual([
      { family: 4, table: 1000, dst: 'default', dev: 'wg0', src: '10.99.0.2', metric: 0, scope: 'link' },
    ]);
  });

  it('adds the connected prefix and the IPv6 default when it has them', () => {
    const routes = egressRoutes(
      {
        name: 'wg0',
        kind: 'wireguard',
        usable: true,
        addresses: [
          { family: 4, address: '10.99.0.2', prefixLength: 24 },
          { family: 6, address: 'fd99::2', prefixLength: 64 },
        ],
        gateways: [],
      },
      1000,
    );
    expect(routes.map((r) => `${r.family} ${r.dst} ${r.dev} ${r.src}`)).toEqual([
      '4 default wg0 10.99.0.2',
      '4 10.99.0.0/24 wg0 10.99.0.2',
      '6 default wg0 fd99::2',
      '6 fd99::/64 wg0 fd99::2',
    ]);
  });
});
