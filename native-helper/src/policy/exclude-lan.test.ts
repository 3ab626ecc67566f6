// The compile output of exclude mode and LAN access per app: rules, routes and the nft guards.
import { describe, expect, it } from 'vitest';
import type { Interface } from '../api/schema.ts';
import { renderTable } from '../mechanism/nft/spec.ts';
import { compile } from './compile.ts';
import { addApp, emptyPolicy, ensureEgressTables, setLanAccess, type PolicyDocument } from './model.ts';
import { hex, layoutFor, markFor, MARK_MASK, tableFor } from '../layout/kernel-layout.ts';
import { LAN_TABLE_INDEX } from './lan-access.ts';
import { BYPASS_TAG } from './exclude-mode.ts';

const layout = layoutFor('unit', 5);
type Iface = Pick<Interface, 'name' | 'kind' | 'usable' | 'addresses' | 'gateways'>;
const eth: Iface = {
  name: 'eth0', kind: 'ethernet', usable: true,
  addresses: [{ family: 4, address: '198.18.1.2', prefixLength: 24 }, { family: 6, address: 'fd5a:1::2', prefixLength: 64 }],
  gateways: [{ family: 4, address: '198.18.1.1' }, { family: 6, address: 'fd5a:1::1' }],
}; // prettier-ignore
const tun: Iface = {
  name: 'sy-office', kind: 'tunnel', usable: true,
  addresses: [{ family: 4, address: '10.77.0.2', prefixLength: 24 }], gateways: [],
}; // prettier-ignore

function policy(mode: PolicyDocument['mode']): PolicyDocument {
  let d = emptyPolicy();
  d = addApp(d, {
    id: 'ks',
    name: 'KS',
    icon: null,
    source: 'manual',
    matchers: { exe: ['/bin/x'] },
    choice: { mode: 'ordered', egresses: ['sy-office'], killSwitch: true },
  });
  return ensureEgressTables({ ...d, ...(mode ? { mode } : {}) });
}

describe('exclude mode', () => {
  it("lets a tunnel's own UDP (the bypass mark) out like system traffic: no rule routes it, nft returns first", () => {
    const d = policy({ kind: 'exclude', via: 'sy-office', killSwitch: true });
    const s = compile(d, [eth, tun], layout);
    const bypass = markFor(layout, BYPASS_TAG);
    expect(s.rules.some((r) => r.fwmark !== undefined && (bypass & (r.mask ?? MARK_MASK)) === r.fwmark)).toBe(
      false,
    );
    const out = renderTable(s.nft!);
    const at = out.indexOf(`meta mark ${hex(bypass)} return`);
    expect(at).toBeGreaterThan(-1);
    expect(at).toBeLessThan(out.indexOf('ct mark set meta mark'));
  });

  it('sends an app left on default through its egress with the mode kill switch; an app with a choice keeps it', () => {
    let d = policy({ kind: 'exclude', via: 'sy-office', killSwitch: true });
    d = addApp(d, { id: 'def', name: 'Def', icon: null, source: 'manual', matchers: { exe: ['/bin/d'] } });
    d = addApp(d, {
      id: 'own',
      name: 'Own',
      icon: null,
      source: 'manual',
      matchers: { exe: ['/bin/o'] },
      choice: { mode: 'ordered', egresses: ['eth0'], killSwitch: false },
    });
    d = ensureEgressTables(d);
    const markOf = (id: string) => markFor(layout, d.apps.find((a) => a.id === id)!.tag);
    const rulesOf = (id: string) =>
      compile(d, [eth, tun], layout).rules.filter((r) => r.fwmark === markOf(id));
    const office = tableFor(layout, d.egressTables['sy-office']!);
    expect(
      rulesOf('def')
        .filter((r) => r.action === 'lookup')
        .map((r) => r.table),
    ).toEqual([office, office]);
    expect(rulesOf('def').filter((r) => r.action === 'unreachable')).toHaveLength(2);
    expect(
      rulesOf('own')
        .filter((r) => r.action === 'lookup')
        .map((r) => r.table),
    ).toEqual([tableFor(layout, d.egressTables['eth0']!), tableFor(layout, d.egressTables['eth0']!)]);
    // In include mode the default app has no rule of its own: the system routing carries it.
    expect(
      compile({ ...d, mode: { kind: 'include' } }, [eth, tun], layout).rules.filter(
        (r) => r.fwmark === markOf('def'),
      ),
    ).toEqual([]);
  });

  it('routes unmarked packets only into its egress, and holds them there with the kill switch', () => {
    const d = policy({ kind: 'exclude', via: 'sy-office', killSwitch: true });
    const s = compile(d, [eth, tun], layout);
    const unmarked = s.rules.filter((r) => r.fwmark === 0);
    const table = tableFor(layout, d.egressTables['sy-office']!);
    expect(unmarked).toEqual(
      expect.arrayContaining([
        {
          family: 4,
          priority: layout.priorities.lookup + 8,
          fwmark: 0,
          mask: MARK_MASK,
          action: 'lookup',
          table,
        },
        {
          family: 6,
          priority: layout.priorities.lookup + 8,
          fwmark: 0,
          mask: MARK_MASK,
          action: 'lookup',
          table,
        },
        {
          family: 4,
          priority: layout.priorities.lookup + 9,
          fwmark: 0,
          mask: MARK_MASK,
          action: 'unreachable',
        },
        {
          family: 6,
          priority: layout.priorities.lookup + 9,
          fwmark: 0,
          mask: MARK_MASK,
          action: 'unreachable',
        },
      ]),
    );
    // Before them, main without its default routes: connected subnets, and the kernel's own check of
    // a new gateway route, never meet the kill switch.
    for (const family of [4, 6])
      expect(unmarked).toContainEqual({
        family,
        priority: layout.priorities.first,
        fwmark: 0,
        mask: MARK_MASK,
        action: 'lookup',
        table: 254,
        suppressPrefixlength: 0,
      });
    expect(unmarked).toHaveLength(6);
    expect(s.routes.filter((r) => r.table === table).map((r) => r.dev)).toContain('sy-office');
    const nft = renderTable(s.nft!);
    expect(nft).toContain('chain exclude_guard');
    expect(nft).toContain('meta mark != 0 return');
    expect(nft).toContain('oifname { "lo", "sy-office" } return');
    expect(nft).toContain('counter name exclude_kill drop');
  });

  it('without the kill switch, or paused, only routes', () => {
    const off = compile(policy({ kind: 'exclude', via: 'sy-office', killSwitch: false }), [eth, tun], layout);
    expect(off.rules.filter((r) => r.fwmark === 0).map((r) => r.action)).toEqual([
      'lookup',
      'lookup',
      'lookup',
      'lookup',
    ]);
    expect(renderTable(off.nft!)).not.toContain('exclude_guard');
    const paused = policy({ kind: 'exclude', via: 'sy-office', killSwitch: true });
    const p = compile({ ...paused, paused: true }, [eth, tun], layout);
    expect(p.rules.filter((r) => r.fwmark === 0).map((r) => r.action)).toEqual([
      'lookup',
      'lookup',
      'lookup',
      'lookup',
    ]);
  });

  it('include mode adds nothing for unmarked packets', () => {
    const s = compile(policy(undefined), [eth, tun], layout);
    expect(s.rules.some((r) => r.fwmark === 0)).toBe(false);
    expect(renderTable(s.nft!)).not.toContain('exclude');
  });
});

describe('LAN access', () => {
  it("looks up the uplinks' local networks first and lets them past the kill switch's guard", () => {
    const d = setLanAccess(policy(undefined), 'ks', true);
    const s = compile(d, [eth, { ...tun, usable: false }], layout);
    const mark = markFor(layout, 1);
    const lan = tableFor(layout, LAN_TABLE_INDEX);
    expect(s.rules).toContainEqual({
      family: 4,
      priority: layout.priorities.first,
      fwmark: mark,
      mask: MARK_MASK,
      action: 'lookup',
      table: lan,
    });
    const dsts = s.routes.filter((r) => r.table === lan).map((r) => `${r.dst} ${r.dev}`);
    expect(dsts.sort()).toEqual(
      [
        '198.18.1.0/24 eth0',
        '169.254.0.0/16 eth0',
        '224.0.0.251 eth0',
        'fd5a:1::/64 eth0',
        'fe80::/64 eth0',
        'ff02::fb eth0',
      ].sort(),
    );
    // The tunnel is not an uplink: its network is not local.
    expect(dsts.some((x) => x.includes('10.77.0.0'))).toBe(false);
    const nft = renderTable(s.nft!);
    expect(nft).toContain(
      `meta mark { ${hex(mark)} } meta mark . oifname != @kill_allowed oifname != { "eth0" }`,
    );
    expect(nft).toContain('ip daddr != { 169.254.0.0/16, 198.18.1.0/24, 224.0.0.251 }');
    expect(nft).toContain('ip6 daddr != { fd5a:1::/64, fe80::/10, ff02::fb }');
    // Its mark is not among the plain kill-switched ones.
    expect(s.nft!.sets.find((x) => x.name === 'kill_marks')!.elements).not.toContain(hex(mark));
  });

  it('adds nothing for an app without it', () => {
    const s = compile(policy(undefined), [eth, tun], layout);
    expect(s.rules.some((r) => r.priority === layout.priorities.first)).toBe(false);
    expect(s.routes.some((r) => r.table === tableFor(layout, LAN_TABLE_INDEX))).toBe(false);
  });
});
