import { describe, expect, it } from 'vitest';
import { gatewayLayout, uplinkMark } from '../layout/kernel-layout.ts';
import { renderTable } from '../mechanism/nft/spec.ts';
import { parseGatewayConfig } from './config.ts';
import { gatewayDesired } from './kernel-state.ts';

const key = Buffer.alloc(32, 1).toString('base64');
const cfg = (apps: { tag: number; allow: string[]; uplink?: string }[] = [], enableForwarding = true) =>
  parseGatewayConfig({
    instance: 'lab',
    privateKey: key,
    listenPort: 51820,
    tunName: 'sygw0',
    address: '198.19.77.1/24',
    uplinks: [
      { name: 'lan', interface: 'g1' },
      { name: 'bare', interface: 'g0' },
    ],
    peers: [{ name: 'p', publicKey: key, addresses: ['198.19.77.2/32'], apps }],
    enableForwarding,
  });

describe('the gateway as one desired state', () => {
  const layout = gatewayLayout('lab');
  const defaults = [
    { family: 4 as const, dev: 'g1', via: '198.18.9.1' },
    { family: 6 as const, dev: 'g1', via: 'fe80::1', onlink: true },
  ];

  it('wants the TUN, forwarding, masquerade out of every uplink and a table + two rules per uplink and family', () => {
    const d = gatewayDesired(cfg(), layout, defaults);
    expect(d.links).toEqual([{ name: 'sygw0', mtu: 1419, up: true, addresses: ['198.19.77.1/24'] }]);
    expect(d.sysctls).toEqual({ 'net/ipv4/ip_forward': '1', 'net/ipv6/conf/all/forwarding': '1' });
    expect(renderTable(d.nft!)).toContain('iifname "sygw0" oifname { "g1", "g0" } masquerade');
    const lan = uplinkMark(layout, 0);
    expect(d.routes).toEqual([
      { family: 4, table: lan, dst: 'default', dev: 'g1', via: '198.18.9.1', metric: 0 },
      { family: 6, table: lan, dst: 'default', dev: 'g1', via: 'fe80::1', metric: 1024, onlink: true },
    ]);
    expect(d.rules).toHaveLength(8);
    expect(d.rules.filter((r) => r.suppressPrefixlength === 0 && r.table === 254)).toHaveLength(4);
    expect(d.rules.filter((r) => r.table === r.fwmark)).toHaveLength(4);
    expect(gatewayDesired(cfg([], false), layout, defaults).sysctls).toEqual({});
  });

  it('refuses an app pinned to an uplink without a default route, before anything is applied', () => {
    expect(() =>
      gatewayDesired(cfg([{ tag: 1, allow: ['0.0.0.0/0'], uplink: 'bare' }]), layout, defaults),
    ).toThrow(/uplink bare \(g0\) has no default route/);
    expect(() =>
      gatewayDesired(cfg([{ tag: 1, allow: ['0.0.0.0/0'], uplink: 'lan' }]), layout, defaults),
    ).not.toThrow();
  });
});
