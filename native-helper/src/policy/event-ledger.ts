// The ledger of events in force, on the policy document: starting an event adds it with the rules its
// reaction templates make; ending it removes them. Each step adds what it did to the audit notes. Pure.
import { randomBytes } from 'node:crypto';
import type { ActiveEvent, AuditNote } from '../api/events-model.ts';
import type { PolicyDocument } from './model.ts';
import { type TemplateEntry, reactionRules } from './reactions.ts';
import { addRule, describeAction } from './rules.ts';

export interface LedgerContext {
  templates: readonly TemplateEntry[];
  /** The document with the managed policy laid over it (groups, apps). */
  effective: (doc: PolicyDocument) => PolicyDocument;
  tunnels: readonly string[];
  now: Date;
}

export function newEvent(
  e: Omit<ActiveEvent, 'id' | 'startedAt' | 'repeats' | 'rules'>,
  now: Date,
): ActiveEvent {
  return {
    ...e,
    id: `e-${randomBytes(5).toString('hex')}`,
    startedAt: now.toISOString(),
    repeats: 0,
    rules: [],
  };
}

/** Adds the event and the rules its templates make (flags and quarantines first in the layer). */
export function startEvent(
  doc: PolicyDocument,
  e: ActiveEvent,
  ctx: LedgerContext,
  audits: AuditNote[],
): PolicyDocument {
  return addRulesFor({ ...doc, events: [...doc.events, e] }, e, ctx, audits);
}

/** Removes an event's rules and makes them again from the templates (its severity or app changed). */
export function remakeEvent(
  doc: PolicyDocument,
  e: ActiveEvent,
  ctx: LedgerContext,
  audits: AuditNote[],
  why: string,
): PolicyDocument {
  const cleared = removeRules(doc, e, why, e.by, audits);
  const reset = { ...cleared, events: cleared.events.map((x) => (x.id === e.id ? { ...x, rules: [] } : x)) };
  return addRulesFor(reset, { ...e, rules: [] }, ctx, audits);
}

export function endEvent(
  doc: PolicyDocument,
  e: ActiveEvent,
  why: string,
  by: string,
  audits: AuditNote[],
): PolicyDocument {
  const next = removeRules(doc, e, why, by, audits);
  audits.push({
    action: 'event.ended',
    event: e.id,
    kind: e.kind,
    app: e.app,
    by,
    message: `${describeEvent(e)} ended: ${why}`,
  });
  return { ...next, events: next.events.filter((x) => x.id !== e.id) };
}

export function replaceEvent(doc: PolicyDocument, e: ActiveEvent): PolicyDocument {
  return { ...doc, events: doc.events.map((x) => (x.id === e.id ? e : x)) };
}

function addRulesFor(
  doc: PolicyDocument,
  e: ActiveEvent,
  ctx: LedgerContext,
  audits: AuditNote[],
): PolicyDocument {
  const now = ctx.now;
  const { rules, skipped } = reactionRules(e, ctx.templates, {
    doc: ctx.effective(doc),
    tunnels: ctx.tunnels,
    now,
  });
  const urgent = e.kind === 'app.flagged' || e.kind === 'app.quarantined';
  const before = urgent ? doc.rules.find((r) => r.origin === 'event')?.id : undefined;
  let next = doc;
  const ids: string[] = [];
  for (const w of rules) {
    if (w.expiresAt && Date.parse(w.expiresAt) <= now.getTime()) continue;
    const r = addRule(
      next,
      {
        name: w.name,
        match: w.match,
        action: w.action,
        ...(w.expiresAt ? { expiresAt: w.expiresAt } : {}),
      },
      {
        now,
        origin: 'event',
        ...(before ? { before } : {}),
        event: { source: e.source, reason: e.reason, id: e.id, template: w.template },
      },
    );
    next = r.doc;
    ids.push(r.rule.id);
    audits.push({
      action: 'rule.created',
      event: e.id,
      kind: e.kind,
      app: e.app,
      rule: r.rule.id,
      by: e.by,
      message: `rule ${r.rule.id} "${r.rule.name}": ${describeAction(r.rule.action)}${r.rule.expiresAt ? ` until ${r.rule.expiresAt}` : ' until the event ends'}`,
    });
  }
  for (const why of skipped)
    audits.push({
      action: 'rule.created',
      event: e.id,
      kind: e.kind,
      app: e.app,
      by: e.by,
      message: `no rule: ${why}`,
    });
  return {
    ...next,
    events: next.events.map((x) => (x.id === e.id ? { ...x, rules: [...x.rules, ...ids] } : x)),
  };
}

function removeRules(
  doc: PolicyDocument,
  e: ActiveEvent,
  why: string,
  by: string,
  audits: AuditNote[],
): PolicyDocument {
  const gone = doc.rules.filter((r) => e.rules.includes(r.id));
  for (const r of gone)
    audits.push({
      action: 'rule.removed',
      event: e.id,
      kind: e.kind,
      app: e.app,
      rule: r.id,
      by,
      message: `rule ${r.id} "${r.name}" removed: ${why}`,
    });
  return { ...doc, rules: doc.rules.filter((r) => !e.rules.includes(r.id)) };
}

export function describeEvent(e: ActiveEvent): string {
  switch (e.kind) {
    case 'app.flagged':
      return `the flag on ${e.app} (${e.source}: ${e.reason})`;
    case 'app.quarantined':
      return `the quarantine of ${e.app}`;
    case 'schedule':
      return `the window of schedule ${e.subject}`;
    default:
      return `${e.kind} on ${e.subject}`;
  }
}
