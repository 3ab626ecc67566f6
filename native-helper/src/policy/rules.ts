// Encryption rules and app groups in the policy document: add, remove, reorder, expire, and the one
// ordered list (managed, then event, then user rules; the trust defaults come after all of them). Pure.
import { randomBytes } from 'node:crypto';
import {
  RuleInput,
  ruleCoversApp,
  type Rule,
  type RuleAction,
  type RuleLayer,
  type RuleOrigin,
  type Trust,
} from '../api/rules-model.ts';
import type { PolicyDocument } from './model.ts';

export const LAYERS: readonly RuleLayer[] = ['managed', 'event', 'user', 'default'];

export interface OrderedRule {
  rule: Rule;
  layer: Exclude<RuleLayer, 'default'>;
  /** From 1, over the whole list. */
  position: number;
}

/** The managed rules first, then the document's event rules, then its user rules, each in its own order. */
export function orderedRules(doc: PolicyDocument, managed: readonly Rule[]): OrderedRule[] {
  const list = [
    ...managed.map((rule) => ({ rule, layer: 'managed' as const })),
    ...doc.rules.filter((r) => r.origin === 'event').map((rule) => ({ rule, layer: 'event' as const })),
    ...doc.rules.filter((r) => r.origin === 'user').map((rule) => ({ rule, layer: 'user' as const })),
  ];
  return list.map((r, i) => ({ ...r, position: i + 1 }));
}

function newRuleId(taken: ReadonlySet<string>): string {
  for (;;) {
    const id = `r-${randomBytes(4).toString('hex').slice(0, 6)}`;
    if (!taken.has(id)) return id;
  }
}

export function describeAction(a: RuleAction): string {
  if (a.type === 'encrypt')
    return `encrypt through ${a.tunnel}${a.keyGroup ? ` (key group ${a.keyGroup})` : ''}`;
  return a.type === 'clear' ? 'send in clear' : 'block';
}

function defaultName(input: RuleInput): string {
  const m = input.match;
  const who = m.subject.kind === 'app' ? m.subject.app : `group ${m.subject.group}`;
  const what = [
    m.protocol && m.protocol !== 'any' ? m.protocol : null,
    m.ports?.length
      ? `port ${m.ports.map((p) => (p.from === p.to ? p.from : `${p.from}-${p.to}`)).join(',')}`
      : null,
    m.destinations?.length ? `to ${m.destinations.join(', ')}` : null,
    m.network && m.network !== 'any' ? `on ${m.network} networks` : null,
  ].filter(Boolean);
  return `${who}${what.length ? ` ${what.join(' ')}` : ''}: ${describeAction(input.action)}`.slice(0, 120);
}

/** Subjects must exist: an app of the policy (or the managed policy) or a group. */
export function checkSubject(doc: PolicyDocument, input: RuleInput, managedApps: ReadonlySet<string>): void {
  const s = input.match.subject;
  if (s.kind === 'app' && !doc.apps.some((a) => a.id === s.app) && !managedApps.has(s.app))
    throw new Error(`no app "${s.app}" in the policy; add the app first, or name a group.`);
  if (s.kind === 'group' && !doc.groups.some((g) => g.name.toLowerCase() === s.group.toLowerCase()))
    throw new Error(`no group "${s.group}"; create it with \`switchyard group add ${s.group} APP…\` first.`);
}

/**
 * Adds a rule at the end of its layer (or before `before`, a rule of the same layer). Returns the new
 * document and the rule.
 */
export function addRule(
  doc: PolicyDocument,
  raw: RuleInput,
  opts: { now: Date; origin?: Exclude<RuleOrigin, 'managed'>; before?: string; event?: Rule['event'] },
): { doc: PolicyDocument; rule: Rule } {
  const input = RuleInput.parse(raw);
  const expiresAt = input.expiresAt
    ? new Date(input.expiresAt).toISOString()
    : input.expiresIn
      ? new Date(opts.now.getTime() + input.expiresIn * 1000).toISOString()
      : null;
  if (expiresAt && new Date(expiresAt) <= opts.now)
    throw new Error('the expiry is in the past; give a later time.');
  const rule: Rule = {
    id: newRuleId(new Set(doc.rules.map((r) => r.id))),
    name: input.name ?? defaultName(input),
    origin: opts.origin ?? 'user',
    createdAt: opts.now.toISOString(),
    expiresAt,
    match: input.match,
    action: input.action,
    ...(opts.event ? { event: opts.event } : {}),
  };
  const rules = [...doc.rules];
  const at = opts.before ? rules.findIndex((r) => r.id === opts.before) : -1;
  if (opts.before && (at < 0 || rules[at]!.origin !== rule.origin))
    throw new Error(`no ${rule.origin} rule "${opts.before}" to insert before.`);
  if (at >= 0) rules.splice(at, 0, rule);
  else rules.push(rule);
  return { doc: { ...doc, rules }, rule };
}

export function removeRule(doc: PolicyDocument, id: string): PolicyDocument {
  if (!doc.rules.some((r) => r.id === id))
    throw new Error(`no rule "${id}"; \`switchyard rules\` lists them.`);
  return { ...doc, rules: doc.rules.filter((r) => r.id !== id) };
}

/** Moves a rule before another of its own layer, or to the end of its layer when before is null. */
export function moveRule(doc: PolicyDocument, id: string, before: string | null): PolicyDocument {
  const rule = doc.rules.find((r) => r.id === id);
  if (!rule) throw new Error(`no rule "${id}" (managed rules are locked).`);
  if (before === id) return doc;
  const rest = doc.rules.filter((r) => r.id !== id);
  if (before === null) {
    const lastOfLayer = rest.map((r) => r.origin).lastIndexOf(rule.origin);
    rest.splice(lastOfLayer + 1, 0, rule);
    return { ...doc, rules: rest };
  }
  const at = rest.findIndex((r) => r.id === before);
  if (at < 0) throw new Error(`no rule "${before}" to move before (managed rules are locked).`);
  if (rest[at]!.origin !== rule.origin)
    throw new Error(
      `rule ${id} is a ${rule.origin} rule and ${before} a ${rest[at]!.origin} rule; rules move only within their layer.`,
    );
  rest.splice(at, 0, rule);
  return { ...doc, rules: rest };
}

/** Drops rules whose expiry has passed; returns them so the caller can say so. */
export function expireRules(doc: PolicyDocument, now: Date): { doc: PolicyDocument; expired: Rule[] } {
  const expired = doc.rules.filter((r) => r.expiresAt && new Date(r.expiresAt) <= now);
  if (!expired.length) return { doc, expired };
  return { doc: { ...doc, rules: doc.rules.filter((r) => !expired.includes(r)) }, expired };
}

/** The next moment a rule expires, or null. */
export function nextExpiry(rules: readonly Rule[]): Date | null {
  const times = rules.flatMap((r) => (r.expiresAt ? [new Date(r.expiresAt).getTime()] : []));
  return times.length ? new Date(Math.min(...times)) : null;
}

export function setTrustDefault(doc: PolicyDocument, trust: Trust, action: RuleAction): PolicyDocument {
  return { ...doc, trustDefaults: { ...doc.trustDefaults, [trust]: action } };
}

// ---------- groups ----------

function findGroup(doc: PolicyDocument, name: string) {
  return doc.groups.find((g) => g.name.toLowerCase() === name.toLowerCase());
}

function checkApps(doc: PolicyDocument, apps: readonly string[], managedApps: ReadonlySet<string>): void {
  const unknown = apps.filter((a) => !doc.apps.some((x) => x.id === a) && !managedApps.has(a));
  if (unknown.length)
    throw new Error(`no app ${unknown.map((a) => `"${a}"`).join(', ')} in the policy; add it first.`);
}

export function addGroup(
  doc: PolicyDocument,
  name: string,
  apps: readonly string[],
  managedApps: ReadonlySet<string> = new Set(),
): PolicyDocument {
  if (findGroup(doc, name)) throw new Error(`group "${name}" exists; change its apps with \`group set\`.`);
  checkApps(doc, apps, managedApps);
  return { ...doc, groups: [...doc.groups, { name, apps: [...new Set(apps)] }] };
}

export function setGroup(
  doc: PolicyDocument,
  name: string,
  apps: readonly string[],
  managedApps: ReadonlySet<string> = new Set(),
): PolicyDocument {
  const g = findGroup(doc, name);
  if (!g) throw new Error(`no group "${name}"; create it with \`group add\`.`);
  checkApps(doc, apps, managedApps);
  return { ...doc, groups: doc.groups.map((x) => (x === g ? { ...x, apps: [...new Set(apps)] } : x)) };
}

export function removeGroup(doc: PolicyDocument, name: string): PolicyDocument {
  const g = findGroup(doc, name);
  if (!g) throw new Error(`no group "${name}".`);
  const users = doc.rules.filter(
    (r) => r.match.subject.kind === 'group' && r.match.subject.group.toLowerCase() === name.toLowerCase(),
  );
  if (users.length)
    throw new Error(
      `group "${g.name}" is used by rule${users.length > 1 ? 's' : ''} ${users.map((r) => r.id).join(', ')}; remove ${users.length > 1 ? 'them' : 'it'} first.`,
    );
  return { ...doc, groups: doc.groups.filter((x) => x !== g) };
}

export { ruleCoversApp };
