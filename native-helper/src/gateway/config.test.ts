import { describe, expect, it } from 'vitest';
import { genkey, pubkey } from '../tunnel/keys.ts';
import { TunnelConfig } from '../tunnel/config.ts';
import { GATEWAY_MAX_SLOTS, parseGatewayConfig } from './config.ts';

const base = () => ({
  privateKey: genkey(),
  listenPort: 51820,
  address: '198.19.77.1/24',
  uplinks: [{ name: 'wan', interface: 'eth0' }],
  peers: [
    {
      name: 'laptop',
      publicKey: pubkey(genkey()),
      addresses: ['198.19.77.2/32'],
      apps: [{ tag: 7, allow: ['0.0.0.0/0'] }],
    },
  ],
});

describe('gateway config', () => {
  it('accepts a complete config and fills defaults', () => {
    const c = parseGatewayConfig(base());
    expect(c.tunName).toBe('sygw0');
    expect(c.enableForwarding).toBe(true);
    expect(c.instance).toBe('default');
  });

  it('takes the resolvers it offers its peers (at most two addresses), and none by default', () => {
    expect(parseGatewayConfig(base()).dns).toEqual([]);
    expect(parseGatewayConfig({ ...base(), dns: ['198.19.77.1', 'fd77::1'] }).dns).toEqual([
      '198.19.77.1',
      'fd77::1',
    ]);
    expect(() => parseGatewayConfig({ ...base(), dns: ['resolver.lan'] })).toThrow(
      /a resolver is an IPv4 or IPv6 address/,
    );
    expect(() => parseGatewayConfig({ ...base(), dns: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] })).toThrow(
      /at most 2 resolvers/,
    );
  });

  it('takes 1,000 peers, and counts key groups against the slots the data path has', () => {
    const peer = (i: number, groups = 0) => ({
      name: `p${i}`,
      publicKey: pubkey(genkey()),
      addresses: [`198.19.${64 + (i >> 8)}.${i & 255}/32`],
      apps: [],
      groups: Array.from({ length: groups }, (_, g) => ({ name: `g${g}`, apps: [] })),
    });
    expect(
      parseGatewayConfig({ ...base(), peers: Array.from({ length: 1000 }, (_, i) => peer(i)) }).peers,
    ).toHaveLength(1000);
    // 300 peers with 15 groups each need 4,800 slots.
    const grouped = Array.from({ length: 300 }, (_, i) => peer(i, 15));
    expect(() => parseGatewayConfig({ ...base(), peers: grouped })).toThrow(
      `300 peers with their key groups need 4800 slots; a gateway has ${GATEWAY_MAX_SLOTS}`,
    );
  });

  it('names the problem: unknown uplink, shared key, bad key, bad prefix', () => {
    const b1 = base();
    b1.peers[0]!.apps[0] = { tag: 7, allow: ['0.0.0.0/0'], uplink: 'lte' } as never;
    expect(() => parseGatewayConfig(b1)).toThrow(/peers.0.apps.0.uplink: no uplink named lte/);
    const b2 = base();
    b2.peers.push({ ...b2.peers[0]!, name: 'twin' });
    expect(() => parseGatewayConfig(b2)).toThrow(/share one public key/);
    expect(() => parseGatewayConfig({ ...base(), privateKey: 'short' })).toThrow(/keygen/);
    const b3 = base();
    b3.peers[0]!.addresses = ['198.19.77.2/40'];
    expect(() => parseGatewayConfig(b3)).toThrow(/peers.0.addresses.0/);
    expect(() => parseGatewayConfig({ ...base(), surprise: 1 })).toThrow();
  });

  it("key groups of a peer: named once each, their apps checked like the peer's", () => {
    const b = base();
    const withGroups = {
      ...b,
      peers: [
        {
          ...b.peers[0]!,
          groups: [
            { name: 'work', apps: [{ tag: 8, allow: ['0.0.0.0/0'] }] },
            { name: 'personal', apps: [] },
          ],
        },
      ],
    };
    expect(parseGatewayConfig(withGroups).peers[0]!.groups.map((g) => g.name)).toEqual(['work', 'personal']);
    expect(parseGatewayConfig(base()).peers[0]!.groups).toEqual([]);
    const twice = structuredClone(withGroups);
    twice.peers[0]!.groups[1]!.name = 'work';
    expect(() => parseGatewayConfig(twice)).toThrow(/group work appears twice/);
    const badUplink = structuredClone(withGroups);
    (badUplink.peers[0]!.groups[0]!.apps[0] as { uplink?: string }).uplink = 'lte';
    expect(() => parseGatewayConfig(badUplink)).toThrow(
      /peers.0.groups.0.apps.0.uplink: no uplink named lte/,
    );
    const badName = structuredClone(withGroups);
    badName.peers[0]!.groups[0]!.name = 'Work';
    expect(() => parseGatewayConfig(badName)).toThrow(/key group/);
  });

  it('takes one tunnel address or one per family, always as a list', () => {
    expect(parseGatewayConfig(base()).address).toEqual(['198.19.77.1/24']);
    const both = parseGatewayConfig({ ...base(), address: ['198.19.77.1/24', 'fd77::1/64'] });
    expect(both.address).toEqual(['198.19.77.1/24', 'fd77::1/64']);
    expect(() => parseGatewayConfig({ ...base(), address: ['198.19.77.1/24', '198.19.78.1/24'] })).toThrow(
      /one address per family/,
    );
    expect(() => parseGatewayConfig({ ...base(), address: [] })).toThrow(/address/);
  });
});

describe('tunnel config', () => {
  it('validates keys and names and defaults the cipher to auto', () => {
    const ok = TunnelConfig.parse({
      name: 'sytun0',
      privateKey: genkey(),
      gateway: { host: 'gw.example', port: 51820 },
      gatewayPublicKey: pubkey(genkey()),
      address: '198.19.77.2/32',
    });
    expect(ok.cipher).toBe('auto');
    expect(ok.mtu).toBeUndefined();
    expect(TunnelConfig.safeParse({ ...ok, name: 'a-name-longer-than-15' }).success).toBe(false);
    expect(TunnelConfig.safeParse({ ...ok, gatewayPublicKey: 'x' }).success).toBe(false);
  });
});
