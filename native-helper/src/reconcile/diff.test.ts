import { describe, expect, it } from 'vitest';
import type { ActualState } from './actual.ts';
import { batchLines, diff, nftHash, routeLine, ruleLine } from './diff.ts';
import type { DesiredState, RouteSpec, RuleSpec } from './types.ts';

const lookup = (priority: number, mark: number, table: number): RuleSpec => ({
  family: 4,
  priority,
  fwmark: mark,
  mask: 0xffffffff,
  action: 'lookup',
  table,
});
const kill = (mark: number): RuleSpec => ({
  family: 4,
  priority: 10092,
  fwmark: mark,
  mask: 0xffffffff,
  action: 'unreachable',
});
const route = (table: number, via: string): RouteSpec => ({
  family: 4,
  table,
  dst: 'default',
  via,
  dev: 'up1',
  src: '198.18.1.2',
  metric: 0,
});
const nft = { name: 'switchyard_t', counters: [{ name: 'tx_1' }], sets: [], maps: [], chains: [] };

function actualOf(d: DesiredState): ActualState {
  return {
    rules: d.rules,
    routes: d.routes,
    nft: d.nft ? { text: '', hash: nftHash(d.nft) } : null,
    sysctls: { ...d.sysctls },
  };
}

describe('diff', () => {
  const desired: DesiredState = {
    rules: [lookup(10082, 0x5a050001, 7), kill(0x5a050001)],
    routes: [route(7, '198.18.1.1')],
    nft,
    sysctls: { 'net/ipv4/conf/up1/src_valid_mark': '1' },
  };

  it('is empty when the kernel already matches (idempotent)', () => {
    expect(diff(actualOf(desired), desired, 'switchyard_t')).toEqual([]);
    // counter values do not count as a change
    expect(
      diff(
        actualOf({ ...desired, nft: { ...nft, counters: [{ name: 'tx_1', packets: 5, bytes: 9 }] } }),
        desired,
      ),
    ).toEqual([]);
  });

  it('builds everything from empty, routes before rules', () => {
    const ops = diff({ rules: [], routes: [], nft: null, sysctls: {} }, desired, 'switchyard_t');
    expect(ops.map((o) => o.op)).toEqual(['sysctl', 'route-replace', 'rule-add', 'rule-add', 'nft-replace']);
    expect(batchLines(ops, 4)).toEqual([
      'route replace default via 198.18.1.1 dev up1 src 198.18.1.2 table 7 metric 0',
      'rule add priority 10082 fwmark 0x5a050001/0xffffffff lookup 7',
      'rule add priority 10092 fwmark 0x5a050001/0xffffffff unreachable',
    ]);
    expect(batchLines(ops, 6)).toEqual([]);
  });

  it('adds the new rule before deleting the old one and never touches a kill rule that stays', () => {
    const next: DesiredState = {
      ...desired,
      rules: [lookup(10082, 0x5a050001, 8), kill(0x5a050001)],
      routes: [route(8, '198.18.1.1')],
    };
    const ops = diff(actualOf(desired), next, 'switchyard_t');
    expect(ops.map((o) => o.op)).toEqual(['route-replace', 'rule-add', 'rule-del', 'route-del']);
    expect(
      ops.some((o) => (o.op === 'rule-del' || o.op === 'rule-add') && o.rule.action === 'unreachable'),
    ).toBe(false);
  });

  it('replaces a route whose gateway changed and removes duplicates left by a killed helper', () => {
    const a = actualOf(desired);
    a.routes = [route(7, '198.18.1.254')];
    a.rules = [...desired.rules, kill(0x5a050001)];
    const ops = diff(a, desired, 'switchyard_t');
    expect(ops).toEqual([
      { op: 'route-replace', route: route(7, '198.18.1.1') },
      { op: 'rule-del', rule: kill(0x5a050001) },
    ]);
  });

  it('deletes the nft table when none is wanted and renders rule/route lines', () => {
    const ops = diff(actualOf(desired), { rules: [], routes: [], nft: null, sysctls: {} }, 'switchyard_t');
    expect(ops.map((o) => o.op)).toEqual(['nft-delete', 'rule-del', 'rule-del', 'route-del']);
    expect(
      ruleLine('del', {
        family: 6,
        priority: 10081,
        fwmark: 0x5a050003,
        mask: 0xffffffff,
        action: 'prohibit',
      }),
    ).toBe('rule del priority 10081 fwmark 0x5a050003/0xffffffff prohibit');
    expect(
      routeLine('del', {
        family: 6,
        table: 9,
        dst: 'fd5a:1::/64',
        dev: 'up1',
        src: 'fd5a:1::2',
        metric: 1024,
      }),
    ).toBe('route del fd5a:1::/64 dev up1 table 9 metric 1024');
  });
});

describe('links, suppress_prefixlength and onlink', () => {
  const tun = { name: 'sytun0', mtu: 1419, up: true, addresses: ['198.19.7.1/24', 'fd5a:0:0::1/64'] };
  const desired: DesiredState = { rules: [], routes: [], nft: null, sysctls: {}, links: [tun] };

  it('sets a missing link up and adds its addresses before routes, and deletes stray ones last', () => {
    const ops = diff(
      {
        rules: [],
        routes: [],
        nft: null,
        sysctls: {},
        links: { sytun0: { mtu: 1500, up: false, addresses: ['198.19.9.9/24'] } },
      },
      { ...desired, routes: [route(0x5a010001, '198.19.7.2')] },
    );
    expect(ops.map((o) => o.op)).toEqual(['link-set', 'addr-add', 'addr-add', 'route-replace', 'addr-del']);
    expect(batchLines(ops, 4)).toEqual([
      'link set dev sytun0 mtu 1419 up',
      'address add 198.19.7.1/24 dev sytun0',
      `route replace default via 198.19.7.2 dev up1 src 198.18.1.2 table ${0x5a010001} metric 0`,
      'address del 198.19.9.9/24 dev sytun0',
    ]);
    expect(batchLines(ops, 6)).toEqual(['address add fd5a::1/64 dev sytun0']);
  });

  it('finds nothing to do when the link already matches, whatever the IPv6 spelling', () => {
    const actual: ActualState = {
      rules: [],
      routes: [],
      nft: null,
      sysctls: {},
      links: { sytun0: { mtu: 1419, up: true, addresses: ['fd5a::1/64', '198.19.7.1/24'] } },
    };
    expect(diff(actual, desired)).toEqual([]);
    expect(diff({ ...actual, links: { sytun0: { ...actual.links!.sytun0!, up: false } } }, desired)).toEqual([
      { op: 'link-set', link: tun },
    ]);
  });

  it('keys and renders suppress_prefixlength rules and onlink routes', () => {
    const suppress: RuleSpec = { ...lookup(10000, 0x5b123401, 254), suppressPrefixlength: 0 };
    expect(ruleLine('add', suppress)).toBe(
      'rule add priority 10000 fwmark 0x5b123401/0xffffffff lookup 254 suppress_prefixlength 0',
    );
    const plain = lookup(10000, 0x5b123401, 254);
    const d: DesiredState = { rules: [suppress], routes: [], nft: null, sysctls: {} };
    // The same rule without suppress is a different rule: replaced, not kept.
    expect(diff(actualOf({ ...d, rules: [plain] }), d).map((o) => o.op)).toEqual(['rule-add', 'rule-del']);
    const onlink: RouteSpec = {
      ...route(7, 'fe80::1'),
      family: 6,
      src: undefined,
      metric: 1024,
      onlink: true,
    };
    expect(routeLine('replace', onlink)).toBe(
      'route replace default via fe80::1 dev up1 onlink table 7 metric 1024',
    );
    expect(
      diff(actualOf({ ...d, rules: [], routes: [{ ...onlink, onlink: false }] }), {
        ...d,
        rules: [],
        routes: [onlink],
      }),
    ).toEqual([{ op: 'route-replace', route: onlink }]);
  });
});
