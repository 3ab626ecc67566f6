import { describe, expect, it } from 'vitest';
import { classTag, layoutFor, markFor } from '../layout/kernel-layout.ts';
import { compile } from './compile.ts';
import { classKey, neededClasses, planFlows } from './flow-plan.ts';
import { addApp, emptyPolicy, ensureEgressTables, ensureFlowClasses, type PolicyDocument } from './model.ts';
import { addGroup, addRule } from './rules.ts';
import { renderTable } from '../mechanism/nft/spec.ts';

const layout = layoutFor('fp', 3);
const now = new Date('2026-11-26T12:00:00Z');

function doc(): PolicyDocument {
  let d = emptyPolicy();
  for (const id of ['chat', 'mail'])
    d = addApp(d, { id, name: id, icon: null, source: 'manual', matchers: { exe: [`/usr/bin/${id}`] } });
  d = addGroup(d, 'Work', ['chat', 'mail']);
  d = addRule(
    d,
    {
      match: { subject: { kind: 'app', app: 'chat' }, ports: [{ from: 443, to: 443 }], protocol: 'tcp' },
      action: { type: 'clear' },
    },
    { now },
  ).doc;
  d = addRule(
    d,
    {
      match: {
        subject: { kind: 'group', group: 'work' },
        network: 'untrusted',
        destinations: ['198.18.0.0/15', 'fd5a::/16'],
      },
      action: { type: 'encrypt', tunnel: 'sy-work' },
    },
    { now },
  ).doc;
  d = addRule(
    d,
    {
      match: { subject: { kind: 'app', app: 'chat' }, ports: [{ from: 25, to: 25 }] },
      action: { type: 'block' },
    },
    { now },
  ).doc;
  return ensureFlowClasses(ensureEgressTables(d), neededClasses(d, []));
}

describe('planFlows', () => {
  it('gives each app and tunnel a flow class, whatever the trust now, and a table to the tunnel', () => {
    const d = doc();
    expect(Object.keys(d.flowClasses).sort()).toEqual(
      [classKey(1, 'sy-work'), classKey(2, 'sy-work')].sort(),
    );
    expect(d.egressTables['sy-work']).toBe(1);
  });

  it('on an untrusted network: entries in rule order, the encrypt rule marks the flow class', () => {
    const d = doc();
    const plan = planFlows({ doc: d, managedRules: [], layout, trustOf: () => 'untrusted' });
    const chat = plan.lists.find((l) => l.appMark === markFor(layout, 1))!;
    const cls = markFor(layout, classTag(d.flowClasses[classKey(1, 'sy-work')]!));
    expect(chat.marks).toEqual([markFor(layout, 1), cls].sort((a, b) => a - b));
    expect(chat.entries.map((e) => [e.action, e.family, e.prefix, e.ports, e.proto])).toEqual([
      ['clear', 0, null, [443, 443], 6],
      ['mark', 4, '198.18.0.0/15', [0, 65535], 0],
      ['mark', 6, 'fd5a::/16', [0, 65535], 0],
      ['block', 0, null, [25, 25], 0],
    ]);
    expect(plan.applied['chat']!.map((r) => r.layer)).toEqual(['user', 'user', 'user']);
    expect(plan.classes.map((c) => c.app).sort()).toEqual(['chat', 'mail']);
  });

  it('on a trusted network the untrusted-only rule is gone, and an all-clear app has no list', () => {
    const plan = planFlows({ doc: doc(), managedRules: [], layout, trustOf: () => 'trusted' });
    expect(plan.lists.map((l) => l.appMark)).toEqual([markFor(layout, 1)]);
    expect(plan.lists[0]!.entries.map((e) => e.action)).toEqual(['clear', 'block']);
    expect(plan.classes).toEqual([]);
  });

  it('a trust default that encrypts ends every list with a catch-all', () => {
    const d = {
      ...doc(),
      trustDefaults: { trusted: { type: 'clear' as const }, untrusted: { type: 'block' as const } },
    };
    const plan = planFlows({ doc: d, managedRules: [], layout, trustOf: () => 'untrusted' });
    const mail = plan.lists.find((l) => l.appMark === markFor(layout, 2))!;
    expect(mail.entries.at(-1)).toMatchObject({
      action: 'block',
      family: 0,
      prefix: null,
      ports: [0, 65535],
    });
    expect(plan.applied['mail']!.at(-1)).toMatchObject({ layer: 'default', id: 'default-untrusted' });
  });

  it('compile routes a flow class into its tunnel or nowhere, and nft repeats each match as a backstop', () => {
    const d = doc();
    const plan = planFlows({ doc: d, managedRules: [], layout, trustOf: () => 'untrusted' });
    const iface = {
      name: 'sy-work',
      kind: 'tunnel' as const,
      usable: true,
      addresses: [{ family: 4 as const, address: '10.77.0.2', prefixLength: 24 }],
      gateways: [],
    };
    const desired = compile(d, [iface], layout, { flows: plan });
    const cls = plan.classes[0]!;
    const mine = desired.rules.filter((r) => r.fwmark === cls.mark);
    expect(mine.map((r) => r.action).sort()).toEqual(['lookup', 'lookup', 'unreachable', 'unreachable']);
    expect(desired.classifier).toBe(plan.lists);
    const text = renderTable(desired.nft!);
    expect(text).toContain(`oifname "sy-work" counter name "rule_`);
    expect(text).toContain('ip daddr 198.18.0.0/15');
    expect(text).toContain('meta l4proto tcp th dport 443');
    expect(text).toContain('oifname != "lo" meta mark vmap @rule_chains');
  });
});
