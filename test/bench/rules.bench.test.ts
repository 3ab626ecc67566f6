import { describe, expect, it } from 'vitest';
import { layoutFor, markFor } from '../../native-helper/src/layout/kernel-layout.ts';
import { compile } from '../../native-helper/src/policy/compile.ts';
import { planFlows } from '../../native-helper/src/policy/flow-plan.ts';
import {
  benchRuleInputs,
  benchRulesPolicy,
  clearPortEntry,
  connectBenchList,
  CONNECT_CLIENT_C,
  LISTEN_PORT,
  parseClientOutput,
} from './rules.bench.ts';

const layout = layoutFor('sybtest');

/** What the classifier (bpf/flow_rules.bpf.c scan_one) decides for one entry, for an IPv4 TCP flow. */
function matches(
  e: ReturnType<typeof clearPortEntry>,
  flow: { address: string; port: number; proto: number },
): boolean {
  if (e.family && e.family !== 4) return false;
  if (e.proto && e.proto !== flow.proto) return false;
  if (flow.port < e.ports[0] || flow.port > e.ports[1]) return false;
  if (!e.prefix) return true;
  const [net = '', len = '32'] = e.prefix.split('/');
  const n = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(len));
  return Math.floor(n(flow.address) / size) === Math.floor(n(net) / size);
}

describe('benchRuleInputs', () => {
  const rules = benchRuleInputs(1000, { apps: ['a', 'b', 'c'], tunnel: 'sybt0' });
  it('makes n distinct rules in the benchmark range, round-robin over the apps, every action', () => {
    expect(rules).toHaveLength(1000);
    const destinations = rules.map((r) => r.match.destinations![0]!);
    expect(new Set(destinations).size).toBe(1000);
    for (const d of destinations) expect(d).toMatch(/^198\.18\.(12[89]|1[3-9]\d|2[0-5]\d)\.\d{1,3}$/);
    expect(rules.slice(0, 4).map((r) => r.match.subject)).toEqual([
      { kind: 'app', app: 'a' },
      { kind: 'app', app: 'b' },
      { kind: 'app', app: 'c' },
      { kind: 'app', app: 'a' },
    ]);
    expect(new Set(rules.map((r) => r.action.type))).toEqual(new Set(['encrypt', 'block', 'clear']));
  });
  it('refuses more rules than the range holds, and no apps', () => {
    expect(() => benchRuleInputs(40000, { apps: ['a'], tunnel: 't' })).toThrow(/at most 32768/);
    expect(() => benchRuleInputs(1, { apps: [], tunnel: 't' })).toThrow(/at least one app/);
  });
});

describe('benchRulesPolicy', () => {
  it('compiles to one classifier entry and nft chain line(s) per rule, with its flow classes numbered', () => {
    const doc = benchRulesPolicy(1000, { apps: 10, tunnel: 'sybt0', uplink: 'up1' });
    expect(doc.rules).toHaveLength(1000);
    expect(Object.keys(doc.egressTables).sort()).toEqual(['sybt0', 'up1']);
    expect(Object.keys(doc.flowClasses)).toHaveLength(10);
    const flows = planFlows({ doc, managedRules: [], layout, trustOf: () => 'trusted' });
    expect(flows.lists.reduce((n, l) => n + l.entries.length, 0)).toBe(1000);
    const desired = compile(doc, [], layout, { flows });
    expect(desired.classifier).toHaveLength(10);
    // encrypt: counter + tunnel + held; block and clear: counter + verdict.
    const chainRules = desired.nft!.chains.filter((c) => c.name.startsWith('rules_'));
    expect(chainRules.reduce((n, c) => n + c.rules.length, 0)).toBe(334 * 3 + 666 * 2);
  });
});

describe('connectBenchList', () => {
  const flow = { address: '127.0.0.1', port: LISTEN_PORT, proto: 6 };
  it.each([0, 100, 1000])(
    'holds %i entries the flow passes every check of but the destination, then its clear',
    (n) => {
      const list = connectBenchList(n, layout);
      expect(list.entries).toHaveLength(n + 1);
      expect(list.appMark).toBe(markFor(layout, 1));
      expect(list.marks).toContain(list.appMark);
      for (const e of list.entries.slice(0, n)) {
        expect(matches(e, flow)).toBe(false);
        // Only the destination fails: the scan does all its work on every entry.
        expect(matches({ ...e, prefix: null }, flow)).toBe(true);
      }
      expect(list.entries.at(-1)).toEqual(clearPortEntry());
      expect(matches(list.entries.at(-1)!, flow)).toBe(true);
    },
  );
  it('can end in a block instead, to prove the scan reaches the end', () => {
    expect(connectBenchList(100, layout, { final: 'block' }).entries.at(-1)!.action).toBe('block');
  });
});

describe('parseClientOutput', () => {
  it('reads the first connect and the samples', () => {
    expect(parseClientOutput('first mark 1510408193\n14025\n15001\n')).toEqual({
      first: { mark: 1510408193 },
      samplesNs: [14025, 15001],
    });
    expect(parseClientOutput('first errno 1 Operation not permitted\n')).toEqual({
      first: { errno: 1, name: 'Operation not permitted' },
      samplesNs: [],
    });
  });
  it('rejects anything else', () => {
    expect(() => parseClientOutput('listener: Address in use')).toThrow(/not "first mark M"/);
    expect(() => parseClientOutput('first mark 0\n12\nabc')).toThrow(/"abc" where a sample/);
  });
  it('goes with a client that prints what it parses', () => {
    expect(CONNECT_CLIENT_C).toContain('printf("first mark %u\\n", mark)');
    expect(CONNECT_CLIENT_C).toContain('printf("first errno %d %s\\n", errno, strerror(errno))');
  });
});
