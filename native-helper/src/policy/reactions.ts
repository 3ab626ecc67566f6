// Which rules an event creates: the reaction templates (managed, the user's, the built-in ones) and
// what each one makes of an event in force. Pure; the daemon's EventReactor commits the result.
import type { ActiveEvent, ReactionTemplate, ReactionTemplateInput, Severity } from '../api/events-model.ts';
import { ReactionTemplate as TemplateSchema } from '../api/events-model.ts';
import type { RuleAction, RuleMatch } from '../api/rules-model.ts';
import type { PolicyDocument } from './model.ts';

const builtIn = (t: ReactionTemplateInput): ReactionTemplate => TemplateSchema.parse(t);

/** What Switchyard does out of the box; the user may replace or disable each by its id. */
export const BUILT_IN_TEMPLATES: readonly ReactionTemplate[] = [
  builtIn({
    id: 'flagged',
    name: 'A flagged app is blocked, except its update servers',
    on: { kind: 'app.flagged' },
    covers: { kind: 'event-app' },
    action: { type: 'allow-only', destinations: [], updateServers: true },
  }),
  builtIn({
    id: 'quarantined',
    name: 'A quarantined app is blocked',
    on: { kind: 'app.quarantined' },
    covers: { kind: 'event-app' },
    action: { type: 'block' },
  }),
  builtIn({
    id: 'unknown-network-work',
    name: 'On an unknown network, the Work group is encrypted',
    on: { kind: 'network.unknown' },
    covers: { kind: 'group', group: 'Work' },
    action: { type: 'encrypt' },
  }),
];

export interface TemplateEntry {
  template: ReactionTemplate;
  locked: boolean;
  builtIn: boolean;
}

/** Managed templates first (locked), then the user's, then the built-in ones nobody replaced. */
export function effectiveTemplates(
  managed: readonly ReactionTemplate[],
  user: readonly ReactionTemplate[],
): TemplateEntry[] {
  const taken = new Set(managed.map((t) => t.id));
  const out: TemplateEntry[] = managed.map((template) => ({ template, locked: true, builtIn: false }));
  for (const t of user)
    if (!taken.has(t.id)) {
      taken.add(t.id);
      out.push({ template: t, locked: false, builtIn: false });
    }
  for (const t of BUILT_IN_TEMPLATES)
    if (!taken.has(t.id)) out.push({ template: t, locked: false, builtIn: true });
  return out;
}

/** A rule an event wants, before it gets an id. */
export interface WantedRule {
  name: string;
  match: RuleMatch;
  action: RuleAction;
  expiresAt: string | null;
  template: string;
}

export interface ReactionContext {
  doc: PolicyDocument;
  /** The helper's tunnels, in the order they were added: an encrypt without a name takes the first. */
  tunnels: readonly string[];
  now: Date;
}

const SEVERITY_RANK: Record<Severity, number> = { low: 0, high: 1 };

function triggers(t: ReactionTemplate, e: ActiveEvent): boolean {
  if (!t.enabled || t.on.kind !== e.kind) return false;
  if (t.on.kind === 'schedule') return e.subject === t.on.schedule;
  if (e.kind === 'app.flagged') return SEVERITY_RANK[e.severity] >= SEVERITY_RANK[t.minSeverity];
  return true;
}

function expiry(t: ReactionTemplate, e: ActiveEvent, now: Date): string | null {
  const ends = e.endsAt ? Date.parse(e.endsAt) : Infinity;
  const own =
    t.lifetime.kind === 'for'
      ? now.getTime() + t.lifetime.seconds * 1000
      : t.lifetime.kind === 'until'
        ? Date.parse(t.lifetime.time)
        : Infinity;
  const at = Math.min(ends, own);
  return Number.isFinite(at) ? new Date(at).toISOString() : null;
}

function clip(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The rules each template makes of the event, in order, and why a template made none (a group or
 * tunnel that does not exist, an event with no app): said in the audit, never an error.
 */
export function reactionRules(
  e: ActiveEvent,
  templates: readonly TemplateEntry[],
  ctx: ReactionContext,
): { rules: WantedRule[]; skipped: string[] } {
  const rules: WantedRule[] = [];
  const skipped: string[] = [];
  for (const { template: t } of templates) {
    if (!triggers(t, e)) continue;
    const skip = (why: string) => skipped.push(`template ${t.id}: ${why}`);
    let subject: RuleMatch['subject'];
    let appIds: string[];
    if (t.covers.kind === 'event-app') {
      if (!e.app) {
        skip('it covers the app of the event, and this event is about no app');
        continue;
      }
      subject = { kind: 'app', app: e.app };
      appIds = [e.app];
    } else if (t.covers.kind === 'app') {
      const id = t.covers.app;
      if (!ctx.doc.apps.some((a) => a.id === id)) {
        skip(`there is no app ${id}`);
        continue;
      }
      subject = { kind: 'app', app: id };
      appIds = [id];
    } else {
      const name = t.covers.group.toLowerCase();
      const g = ctx.doc.groups.find((x) => x.name.toLowerCase() === name);
      if (!g) {
        skip(`there is no group ${t.covers.group}`);
        continue;
      }
      subject = { kind: 'group', group: g.name };
      appIds = g.apps;
    }
    const base = {
      destinations: [],
      ports: [],
      protocol: 'any' as const,
      network: 'any' as const,
    };
    const expiresAt = expiry(t, e, ctx.now);
    const label = clip(`${t.name} (${e.kind === 'schedule' ? `schedule ${e.subject}` : e.source})`);
    const a = t.action;
    if (a.type === 'block') {
      rules.push({
        name: label,
        match: { ...base, subject },
        action: { type: 'block' },
        expiresAt,
        template: t.id,
      });
    } else if (a.type === 'encrypt') {
      const tunnel = a.tunnel ?? ctx.tunnels[0];
      if (!tunnel) {
        skip('there is no tunnel to encrypt through');
        continue;
      }
      rules.push({
        name: label,
        match: { ...base, subject },
        action: { type: 'encrypt', tunnel, ...(a.keyGroup ? { keyGroup: a.keyGroup } : {}) },
        expiresAt,
        template: t.id,
      });
    } else {
      const allowed = new Set(a.destinations);
      if (a.updateServers)
        for (const app of ctx.doc.apps)
          if (appIds.includes(app.id)) for (const d of app.updateServers ?? []) allowed.add(d);
      if (allowed.size)
        rules.push({
          name: clip(`${label}: allowed destinations`),
          match: { ...base, subject, destinations: [...allowed].slice(0, 64) },
          action: { type: 'clear' },
          expiresAt,
          template: t.id,
        });
      rules.push({
        name: label,
        match: { ...base, subject },
        action: { type: 'block' },
        expiresAt,
        template: t.id,
      });
    }
  }
  return { rules, skipped };
}
