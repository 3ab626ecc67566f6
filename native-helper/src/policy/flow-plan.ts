// Encryption rules → what the kernel does per flow. Pure.
//   For each app, the rules that cover it and fit the trust of its network now, in order, then the trust
//   default, become classifier entries (bpf/flow_rules.bpf.c decides on connect/sendmsg) and the same
//   matches as nft rules (counting flows and bytes per rule, and the backstop: a flow an encrypt rule
//   covers never leaves by another interface, a blocked one never leaves).
//   Each (app, tunnel, key group) that an encrypt rule names is a flow class with a tag of its own;
//   compile() routes its mark into the tunnel and nowhere else.
import type { Rule, RuleAction, Trust } from '../api/rules-model.ts';
import type { ClassifierEntry, ClassifierList } from '../mechanism/bpf/classifier.ts';
import { classTag, markFor, type Layout } from '../layout/kernel-layout.ts';
import type { PolicyApp, PolicyDocument } from './model.ts';
import { orderedRules, ruleCoversApp } from './rules.ts';

export interface FlowClass {
  key: string;
  tag: number;
  mark: number;
  app: string;
  appTag: number;
  tunnel: string;
  keyGroup: string | null;
}

/** One rule as it applies to one app now. */
export interface AppliedRule {
  id: string;
  layer: 'managed' | 'event' | 'user' | 'default';
  action: RuleAction;
}

export interface FlowPlan {
  lists: ClassifierList[];
  classes: FlowClass[];
  /** nft: one chain per app with rules, entered by any of its marks. */
  chains: { name: string; marks: number[]; rules: string[] }[];
  counters: string[];
  /** App id → the rules that apply to it now, in order (the default last when it is not "clear"). */
  applied: Record<string, AppliedRule[]>;
  /** App id → its classifier list and, per entry, the rule it came from (explain names it). */
  byApp: Record<string, { list: ClassifierList; rules: AppliedRule[] }>;
}

export interface FlowInputs {
  doc: PolicyDocument;
  managedRules: readonly Rule[];
  layout: Layout;
  /** The trust of each app's network now (see trust.ts). */
  trustOf: (app: PolicyApp) => Trust;
}

export function classKey(appTag: number, tunnel: string, keyGroup?: string | null): string {
  return `${appTag}>${tunnel}/${keyGroup ?? ''}`;
}

/** Every flow class any rule could need, whatever the trust now, so their numbers stay put. */
export function neededClasses(doc: PolicyDocument, managedRules: readonly Rule[]): string[] {
  const keys = new Set<string>();
  const actions = [doc.trustDefaults.trusted, doc.trustDefaults.untrusted];
  for (const app of doc.apps) {
    for (const { rule } of orderedRules(doc, managedRules))
      if (rule.action.type === 'encrypt' && ruleCoversApp(rule, app.id, doc.groups))
        keys.add(classKey(app.tag, rule.action.tunnel, rule.action.keyGroup));
    for (const a of actions) if (a.type === 'encrypt') keys.add(classKey(app.tag, a.tunnel, a.keyGroup));
  }
  return [...keys].sort();
}

/** nft-safe counter names per rule id ("r-1a2b3c" → "rule_r_1a2b3c"). */
export const ruleCounter = (id: string) => `rule_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
export const flowCounter = (id: string) => `flows_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
export const HELD_COUNTER = 'rules_held';

interface Expanded {
  entry: ClassifierEntry;
  nft: string;
}

const PROTO = { tcp: 6, udp: 17, any: 0 } as const;

function expand(rule: Pick<Rule, 'match'>): Expanded[] {
  const m = rule.match;
  const dsts = m.destinations.length ? m.destinations : [null];
  const ports: [number, number][] = m.ports.length ? m.ports.map((p) => [p.from, p.to]) : [[0, 65535]];
  const out: Expanded[] = [];
  for (const dst of dsts) {
    const family = dst === null ? 0 : dst.includes(':') ? 6 : 4;
    const prefix = dst === null ? null : dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
    for (const [lo, hi] of ports) {
      const anyPort = lo === 0 && hi === 65535;
      const parts: string[] = [];
      if (prefix) parts.push(`${family === 4 ? 'ip' : 'ip6'} daddr ${prefix}`);
      if (m.protocol !== 'any') parts.push(`meta l4proto ${m.protocol}`);
      else if (!anyPort) parts.push('meta l4proto { tcp, udp }');
      if (!anyPort) parts.push(`th dport ${lo === hi ? lo : `${lo}-${hi}`}`);
      out.push({
        entry: { family, proto: PROTO[m.protocol], prefix, ports: [lo, hi], action: 'clear' },
        nft: parts.join(' '),
      });
    }
  }
  return out;
}

const trustFits = (rule: Rule, trust: Trust) => rule.match.network === 'any' || rule.match.network === trust;

export function planFlows(input: FlowInputs): FlowPlan {
  const { doc, layout } = input;
  const ordered = orderedRules(doc, input.managedRules);
  const classes = new Map<string, FlowClass>();
  const classOf = (app: PolicyApp, tunnel: string, keyGroup?: string): FlowClass => {
    const key = classKey(app.tag, tunnel, keyGroup);
    const n = doc.flowClasses[key];
    if (n === undefined)
      throw new Error(
        `flow class ${key} has no number in the policy; call ensureFlowClasses() before compile().`,
      );
    const c = classes.get(key) ?? {
      key,
      tag: classTag(n),
      mark: markFor(layout, classTag(n)),
      app: app.id,
      appTag: app.tag,
      tunnel,
      keyGroup: keyGroup ?? null,
    };
    classes.set(key, c);
    return c;
  };

  const plan: FlowPlan = { lists: [], classes: [], chains: [], counters: [], applied: {}, byApp: {} };
  const counters = new Set<string>();
  for (const app of doc.apps) {
    const trust = input.trustOf(app);
    const rules: { id: string; layer: AppliedRule['layer']; action: RuleAction; match: Rule['match'] }[] =
      ordered
        .filter(({ rule }) => trustFits(rule, trust) && ruleCoversApp(rule, app.id, doc.groups))
        .map(({ rule, layer }) => ({ id: rule.id, layer, action: rule.action, match: rule.match }));
    const fallback = doc.trustDefaults[trust];
    if (fallback.type !== 'clear')
      rules.push({
        id: `default-${trust}`,
        layer: 'default',
        action: fallback,
        match: {
          subject: { kind: 'app', app: app.id },
          destinations: [],
          ports: [],
          protocol: 'any',
          network: 'any',
        },
      });
    if (!rules.length) continue;
    plan.applied[app.id] = rules.map(({ id, layer, action }) => ({ id, layer, action }));

    const appMark = markFor(layout, app.tag);
    const entries: ClassifierEntry[] = [];
    const entryRules: AppliedRule[] = [];
    const nft: string[] = [];
    const marks = new Set([appMark]);
    for (const r of rules) {
      const [rc, fc] = [ruleCounter(r.id), flowCounter(r.id)];
      counters.add(rc).add(fc);
      const cls = r.action.type === 'encrypt' ? classOf(app, r.action.tunnel, r.action.keyGroup) : null;
      if (cls) marks.add(cls.mark);
      for (const x of expand(r)) {
        entryRules.push({ id: r.id, layer: r.layer, action: r.action });
        const m = x.nft ? `${x.nft} ` : '';
        nft.push(`${m}ct state new counter name "${fc}"`);
        if (r.action.type === 'clear') {
          entries.push(x.entry);
          nft.push(`${m}counter name "${rc}" return`);
        } else if (r.action.type === 'block') {
          entries.push({ ...x.entry, action: 'block' });
          nft.push(`${m}counter name "${rc}" drop`);
        } else {
          entries.push({ ...x.entry, action: 'mark', mark: cls!.mark });
          nft.push(`${m}oifname "${r.action.tunnel}" counter name "${rc}" return`);
          nft.push(`${m}counter name "${HELD_COUNTER}" drop`);
        }
      }
    }
    const list = { marks: [...marks].sort((a, b) => a - b), appMark, entries };
    // All clear: nothing for the classifier to decide (no list means clear); nft still counts.
    if (!rules.every((r) => r.action.type === 'clear')) plan.lists.push(list);
    plan.byApp[app.id] = { list, rules: entryRules };
    plan.chains.push({ name: `rules_${app.tag}`, marks: [...marks], rules: nft });
  }
  plan.classes = [...classes.values()].sort((a, b) => a.tag - b.tag);
  plan.counters = [...counters, HELD_COUNTER].sort();
  return plan;
}
