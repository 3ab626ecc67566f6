import { describe, expect, it } from 'vitest';
import type { Interface } from '../api/schema.ts';
import { renderTable } from '../mechanism/nft/spec.ts';
import { compile, networkOf } from './compile.ts';
import type { FlowPlan } from './flow-plan.ts';
import { addApp, emptyPolicy, ensureEgressTables, setChoice, type PolicyDocument } from './model.ts';
import { hex, layoutFor, markFor, tableFor } from '../layout/kernel-layout.ts';

const layout = layoutFor('unit', 5);
type Iface = Pick<Interface, 'name' | 'kind' | 'usable' | 'addresses' | 'gateways'>;
const up1: Iface = {
  name: 'up1', kind: 'ethernet', usable: true,
  addresses: [{ family: 4, address: '198.18.1.2', prefixLength: 24 }, { family: 6, address: 'fd5a:1::2', prefixLength: 64 }, { family: 6, address: 'fe80::1', prefixLength: 64 }],
  gateways: [{ family: 4, address: '198.18.1.1' }, { family: 6, address: 'fd5a:1::1' }],
}; // prettier-ignore
const up2: Iface = {
  ...up1,
  name: 'up2',
  addresses: [{ family: 4, address: '198.18.2.2', prefixLength: 24 }],
  gateways: [{ family: 4, address: '198.18.2.1' }],
};

function policy(): PolicyDocument {
  const m = { icon: null, source: 'manual' as const, matchers: { exe: ['/bin/x'] } };
  let d = emptyPolicy();
  d = addApp(d, {
    ...m,
    id: 'ks',
    name: 'KS',
    choice: { mode: 'ordered', egresses: ['up2', 'up1'], killSwitch: true },
  });
  d = addApp(d, {
    ...m,
    id: 'fo',
    name: 'FO',
    choice: { mode: 'ordered', egresses: ['up1'], killSwitch: false },
  });
  d = addApp(d, { ...m, id: 'bl', name: 'BL', choice: { mode: 'block' } });
  d = addApp(d, { ...m, id: 'df', name: 'DF' });
  return ensureEgressTables(d);
}

describe('compile', () => {
  it('computes connected prefixes like the kernel prints them', () => {
    expect(networkOf(4, '198.18.1.77', 24)).toBe('198.18.1.0/24');
    expect(networkOf(4, '10.1.2.3', 0)).toBe('0.0.0.0/0');
    expect(networkOf(6, 'fd5a:1::2', 64)).toBe('fd5a:1::/64');
    expect(networkOf(6, 'fd5a:1:2:3:4:5:6:7', 48)).toBe('fd5a:1:2::/48');
    expect(networkOf(6, '2001:db8:0:1::5', 64)).toBe('2001:db8:0:1::/64');
  });

  it('emits lookup rules in order, an always-present kill rule and a block rule, in both families', () => {
    const p = policy();
    const d = compile(p, [up1, up2], layout);
    const ks = markFor(layout, 1);
    const t = (e: string) => tableFor(layout, p.egressTables[e]!);
    for (const family of [4, 6] as const) {
      const mine = d.rules.filter((r) => r.family === family && r.fwmark === ks);
      expect(mine).toEqual([
        {
          family,
          priority: layout.priorities.lookup,
          fwmark: ks,
          mask: 0xffffffff,
          action: 'lookup',
          table: t('up2'),
        },
        {
          family,
          priority: layout.priorities.lookup + 1,
          fwmark: ks,
          mask: 0xffffffff,
          action: 'lookup',
          table: t('up1'),
        },
        { family, priority: layout.priorities.kill, fwmark: ks, mask: 0xffffffff, action: 'unreachable' },
      ]);
      expect(d.rules.filter((r) => r.family === family && r.fwmark === markFor(layout, 3))).toEqual([
        {
          family,
          priority: layout.priorities.block,
          fwmark: markFor(layout, 3),
          mask: 0xffffffff,
          action: 'prohibit',
        },
      ]);
    }
    // default app: no rules; no-kill app: lookup only
    expect(d.rules.some((r) => r.fwmark === markFor(layout, 4))).toBe(false);
    expect(d.rules.filter((r) => r.fwmark === markFor(layout, 2)).map((r) => r.action)).toEqual([
      'lookup',
      'lookup',
    ]);
    // kill rule stays even when every egress is down
    const down = compile(
      p,
      [
        { ...up1, usable: false },
        { ...up2, usable: false },
      ],
      layout,
    );
    expect(down.rules.filter((r) => r.fwmark === ks && r.action === 'unreachable')).toHaveLength(2);
    expect(down.routes).toEqual([]);
  });

  it('fills one table per egress with default and connected routes carrying the source address', () => {
    const p = policy();
    const d = compile(p, [up1, up2], layout);
    const t1 = tableFor(layout, p.egressTables.up1!);
    expect(d.routes.filter((r) => r.table === t1)).toEqual([
      { family: 4, table: t1, dst: 'default', via: '198.18.1.1', dev: 'up1', src: '198.18.1.2', metric: 0 },
      { family: 4, table: t1, dst: '198.18.1.0/24', dev: 'up1', src: '198.18.1.2', metric: 0, scope: 'link' },
      { family: 6, table: t1, dst: 'default', via: 'fd5a:1::1', dev: 'up1', src: 'fd5a:1::2', metric: 1024 },
      { family: 6, table: t1, dst: 'fd5a:1::/64', dev: 'up1', src: 'fd5a:1::2', metric: 1024 },
    ]);
    expect(d.routes.filter((r) => r.dev === 'up2').every((r) => r.family === 4)).toBe(true);
    expect(d.sysctls['net/ipv4/conf/up1/src_valid_mark']).toBe('1');
    expect(d.sysctls['net/ipv6/conf/up2/ignore_routes_with_linkdown']).toBe('1');
  });

  it('puts kill-switched marks and their allowed interfaces in nft, with counters per app', () => {
    const d = compile(policy(), [up1, up2], layout);
    const text = renderTable(d.nft!);
    const ks = '0x5a050001';
    expect(text).toContain(`set kill_marks { type mark; elements = { ${ks} }; }`);
    expect(text).toContain(`${ks} . "lo", ${ks} . "up2", ${ks} . "up1"`);
    expect(text).toContain(
      'meta mark @kill_marks meta mark . oifname != @kill_allowed counter name meta mark map @kill_counters drop',
    );
    expect(text).toContain('ct mark set meta mark');
    expect(text).toContain('0x5a050004 : "tx_4"');
    expect(d.nft!.counters.filter((c) => c.name !== 'wrong_source')).toHaveLength(12);
  });

  it("lets an app leave an interface only with that interface's own source address", () => {
    const d = compile(policy(), [up1, up2], layout);
    const text = renderTable(d.nft!);
    const own4 = d.nft!.sets.find((s) => s.name === 'own_sources4')!;
    expect(own4.elements).toEqual(
      [up1, up2]
        .flatMap((i) => i.addresses.filter((a) => a.family === 4).map((a) => `"${i.name}" . ${a.address}`))
        .sort(),
    );
    expect(text).toContain('oifname . ip saddr != @own_sources4 counter name wrong_source drop');
    expect(text).toContain(
      'ip6 saddr != fe80::/10 oifname . ip6 saddr != @own_sources6 counter name wrong_source drop',
    );
  });

  it('paused lifts block and kill rules and nft drops but keeps lookups', () => {
    const p = { ...policy(), paused: true };
    const d = compile(p, [up1, up2], layout);
    expect(d.rules.some((r) => r.action === 'prohibit' || r.action === 'unreachable')).toBe(false);
    expect(d.rules.filter((r) => r.action === 'lookup')).toHaveLength(6);
    expect(renderTable(d.nft!)).not.toContain('drop');
  });

  it('override routes every non-blocked app through the override egress', () => {
    let p = policy();
    p = ensureEgressTables({ ...p, override: 'up2' });
    const d = compile(p, [up1, up2], layout);
    const lookups = d.rules.filter((r) => r.action === 'lookup' && r.family === 4);
    expect(lookups).toHaveLength(3); // ks, fo, df
    expect(new Set(lookups.map((r) => r.table))).toEqual(new Set([tableFor(layout, p.egressTables.up2!)]));
    expect(d.rules.some((r) => r.fwmark === markFor(layout, 3) && r.action === 'prohibit')).toBe(true);
  });

  it('redirects loopback DNS of apps whose active egress has a resolver, with route_localnet there', () => {
    const p = policy();
    const d = compile(p, [up1, { ...up2, usable: false }], layout, {
      dnsResolvers: { up1: ['fd5a::53', '198.18.1.53'], up2: ['198.18.2.53'] },
    });
    const text = renderTable(d.nft!);
    // ks failed over to up1, fo is on up1; blocked and default apps get none
    expect(d.nft!.maps.find((m) => m.name === 'dns_resolvers')!.elements).toEqual([
      [hex(markFor(layout, 1)), '198.18.1.53'],
      [hex(markFor(layout, 2)), '198.18.1.53'],
    ]);
    const down = compile(
      p,
      [
        { ...up1, usable: false },
        { ...up2, usable: false },
      ],
      layout,
      { dnsResolvers: { up1: ['198.18.1.53'] } },
    );
    expect(renderTable(down.nft!)).not.toContain('dns_'); // killed apps get no redirect
    expect(text).toContain('dnat ip to meta mark map @dns_resolvers');
    expect(text).toContain('masquerade');
    expect(text).toContain('iifname { "up1" } ip daddr 127.0.0.0/8 drop');
    expect(d.sysctls['net/ipv4/conf/up1/route_localnet']).toBe('1');
    expect(d.sysctls['net/ipv4/conf/up2/route_localnet']).toBeUndefined();
    expect(renderTable(compile(p, [up1, up2], layout).nft!)).not.toContain('dns_');
  });

  it("drops a held app's lookups to the loopback stub (the stub would send them by the default uplink)", () => {
    const p = policy();
    const down = [
      { ...up1, usable: false },
      { ...up2, usable: false },
    ];
    const text = renderTable(compile(p, down, layout).nft!);
    const ks = hex(markFor(layout, 1));
    expect(text).toContain(
      `meta mark { ${ks} } ip daddr 127.0.0.0/8 meta l4proto { udp, tcp } th dport 53 counter name meta mark map @kill_counters drop`,
    );
    expect(text).toContain(`meta mark { ${ks} } ip6 daddr ::1`);
    // fo has no kill switch: it falls back to the system routing, stub included
    expect(text).not.toContain(hex(markFor(layout, 2)) + ' } ip daddr 127');
    // while an egress is usable nothing is held
    expect(renderTable(compile(p, [up1, up2], layout).nft!)).not.toContain('th dport 53 counter');
  });

  it("sends an encrypt rule's lookups to its tunnel's server, or nowhere", () => {
    const p = ensureEgressTables(policy(), ['tun0']);
    const cls = {
      key: 'k',
      tag: 0xf001,
      mark: markFor(layout, 0xf001),
      app: 'ks',
      appTag: 1,
      tunnel: 'tun0',
      keyGroup: null,
    };
    const flows = { classes: [cls], lists: [], chains: [], counters: [] } as unknown as FlowPlan;
    const tun = { ...up1, name: 'tun0', kind: 'tunnel' as const };
    const on = compile(p, [up1, up2, tun], layout, { flows, dnsResolvers: { tun0: ['10.77.0.1'] } });
    expect(on.nft!.maps.find((m) => m.name === 'dns_resolvers')!.elements).toContainEqual([
      hex(cls.mark),
      '10.77.0.1',
    ]);
    const none = renderTable(compile(p, [up1, up2, tun], layout, { flows }).nft!);
    expect(none).toContain(`meta mark { ${hex(cls.mark)} } ip daddr 127.0.0.0/8`);
    const down = renderTable(
      compile(p, [up1, up2, { ...tun, usable: false }], layout, {
        flows,
        dnsResolvers: { tun0: ['10.77.0.1'] },
      }).nft!,
    );
    expect(down).toContain(`meta mark { ${hex(cls.mark)} } ip daddr 127.0.0.0/8`);
  });

  it("copies DNS replies to the instance's apps into its own NFLOG group, with the app's mark, only when asked", () => {
    const input = (opts: { logDnsReplies?: boolean }) =>
      compile(policy(), [up1, up2], layout, opts).nft!.chains.find((c) => c.name === 'input')!.rules;
    const rule = `ct mark & 0xffff0000 == 0x5a050000 meta l4proto { udp, tcp } th sport 53 meta mark set ct mark log group ${0x5a05}`;
    expect(input({ logDnsReplies: true })[0]).toBe(rule);
    // Before the rx counter, which stays as it was.
    expect(input({ logDnsReplies: true }).slice(1)).toEqual(input({}));
    expect(input({}).join('\n')).not.toContain('log group');
    // Another instance logs to another group.
    const other = compile(policy(), [up1], layoutFor('other', 6), { logDnsReplies: true }).nft!;
    expect(renderTable(other)).toContain(`log group ${0x5a06}`);
  });

  it('refuses an egress without a table and too many egresses', () => {
    const p = setChoice(policy(), 'df', { mode: 'ordered', egresses: ['wg9'], killSwitch: false });
    expect(() => compile(p, [up1], layout)).toThrow(/ensureEgressTables/);
  });
});
