// Each egress's DNS servers: the system's first, else the user's settings; which apps need the forwarder.
import { describe, expect, it } from 'vitest';
import type { Interface } from '../api/schema.ts';
import { layoutFor, markFor } from '../layout/kernel-layout.ts';
import { questionOf } from '../mechanism/dns/forwarder.ts';
import { emptyPolicy, type PolicyDocument } from '../policy/model.ts';
import { DnsResolvers } from './dns-resolvers.ts';

const iface = (name: string, index: number): Interface =>
  ({
    name,
    index,
    kind: name === 'lo' ? 'loopback' : 'ethernet',
    up: true,
    usable: true,
    addresses: [],
  }) as unknown as Interface;

function make(active: Record<number, string | null> = {}, gateway: Record<string, string[]> = {}) {
  let doc: PolicyDocument = emptyPolicy();
  let refreshes = 0;
  const layout = layoutFor('dnstest');
  const dns = new DnsResolvers({
    policy: () => doc,
    commit: (d) => (doc = d),
    interfaces: () => [iface('lo', 1), iface('wlan0', 2), iface('eth0', 3), iface('sy-tun0', 4)],
    layout,
    apps: () => Object.entries(active).map(([tag, a]) => ({ tag: Number(tag), active: a })),
    refresh: () => refreshes++,
    log: () => {},
    readSystem: async () => ({ eth0: { servers: ['192.0.2.53'], source: 'systemd-resolved' } }),
    gatewayResolvers: () => gateway,
  });
  return { dns, layout, doc: () => doc, refreshes: () => refreshes };
}

describe('DnsResolvers', () => {
  it("takes the system's servers first, the settings otherwise, and saves settings in the policy", async () => {
    const t = make();
    await t.dns.start();
    t.dns.stop();
    const r = t.dns.set('WLAN0', ['198.18.1.1', 'fd5a:1::1', '198.18.1.1']);
    expect(r).toEqual({
      egress: 'wlan0',
      servers: ['198.18.1.1', 'fd5a:1::1'],
      source: 'settings',
      settings: ['198.18.1.1', 'fd5a:1::1'],
      redirected: true,
    });
    t.dns.set('eth0', ['203.0.113.1']);
    expect(t.dns.forCompile()).toEqual({ wlan0: ['198.18.1.1', 'fd5a:1::1'], eth0: ['192.0.2.53'] });
    expect(t.dns.show().map((e) => [e.egress, e.source])).toEqual([
      ['eth0', 'systemd-resolved'],
      ['sy-tun0', null],
      ['wlan0', 'settings'],
    ]);
    t.dns.set('wlan0', []);
    expect(t.doc().dnsResolvers).toEqual({ eth0: ['203.0.113.1'] });
    expect(t.refreshes()).toBeGreaterThanOrEqual(4);
  });

  it("takes a tunnel's resolvers from its gateway, unless the user set others", async () => {
    const gateway: Record<string, string[]> = { 'sy-tun0': ['10.77.0.1'] };
    const t = make({ 7: 'sy-tun0' }, gateway);
    await t.dns.start();
    t.dns.stop();
    expect(t.dns.one('sy-tun0')).toEqual({
      egress: 'sy-tun0',
      servers: ['10.77.0.1'],
      source: 'gateway',
      settings: [],
      redirected: true,
    });
    expect(t.dns.forCompile()).toEqual({ eth0: ['192.0.2.53'], 'sy-tun0': ['10.77.0.1'] });
    t.dns.set('sy-tun0', ['10.77.0.53']);
    expect(t.dns.one('sy-tun0')).toMatchObject({ servers: ['10.77.0.53'], source: 'settings' });
    expect(t.dns.forCompile()['sy-tun0']).toEqual(['10.77.0.53']);
    t.dns.set('sy-tun0', []);
    expect(t.dns.one('sy-tun0')).toMatchObject({ servers: ['10.77.0.1'], source: 'gateway' });
    // A gateway offering IPv6 only: the tunnel's apps are served by the forwarder, as on any egress.
    gateway['sy-tun0'] = ['fd77::1'];
    expect(t.dns.forwards()).toMatchObject([{ tag: 7, egress: 'sy-tun0', servers: ['fd77::1'] }]);
    delete gateway['sy-tun0'];
    expect(t.dns.one('sy-tun0')).toMatchObject({ servers: [], source: null, redirected: false });
  });

  it('refuses what is not an address, and loopback servers, in words', () => {
    const t = make();
    expect(() => t.dns.set('wlan0', ['dns.example'])).toThrow('"dns.example" is not an IPv4 or IPv6 address');
    expect(() => t.dns.set('wlan0', ['127.0.0.53'])).toThrow(/loopback address/);
    expect(() => t.dns.set('lo', ['192.0.2.1'])).toThrow(/loopback interface/);
  });

  it('forwards only apps whose active egress has IPv6 servers only, with their own mark', () => {
    const t = make({ 7: 'wlan0', 8: 'eth0', 9: null, 0x1234: 'wlan0' });
    t.dns.set('wlan0', ['fd5a:1::1']);
    t.dns.set('eth0', ['198.18.2.1', 'fd5a:2::1']);
    expect(t.dns.forwards()).toEqual([
      { tag: 7, address: '127.83.0.7', mark: markFor(t.layout, 7), egress: 'wlan0', servers: ['fd5a:1::1'] },
      {
        tag: 0x1234,
        address: '127.83.18.52',
        mark: markFor(t.layout, 0x1234),
        egress: 'wlan0',
        servers: ['fd5a:1::1'],
      },
    ]);
  });

  it("reads a query's name and type for the lookup events", () => {
    const q = Buffer.from('abcd01000001000000000000' + '0677686f616d69036c616200' + '00100001', 'hex');
    expect(questionOf(q)).toEqual({ name: 'whoami.lab', type: 16 });
    expect(questionOf(Buffer.from('00', 'hex'))).toEqual({ name: null, type: null });
  });
});
