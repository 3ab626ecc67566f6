// The FakeHelper's events that create rules, answering as the helper does
// (native-helper/src/daemon/event-reactor.ts): a flag or quarantine is an event in force with the
// event-layer rules its templates made; ending it removes them; every step is an audit line. After each
// change: audit.appended per line, reactions.changed, rules.changed, then the held apps' app.changed.
import { heldEntry } from '#switchyard/api/events-model.ts';
import { eventMethods } from '#switchyard/api/events-schema.ts';
import {
  ApiError,
  type ActiveEvent,
  type App,
  type AuditEntry,
  type EventName,
  type Params,
  type ReactionTemplate,
  type ReactionsState,
  type Rule,
  type Schedule,
  type TemplateView,
} from '#switchyard/api/schema.ts';
import { BUILT_IN_TEMPLATES, DEMO_REACTIONS, DEMO_SCHEDULES, windowOpen } from './demo-events.ts';
import type { FakeRules } from './fake-rules.ts';

export type EventMethodName = keyof typeof eventMethods;
export function isEventMethod(name: string): name is EventMethodName {
  return Object.hasOwn(eventMethods, name);
}

type AuditInput = Omit<AuditEntry, 'seq' | 'time' | 'event' | 'kind' | 'app' | 'rule'> &
  Partial<Pick<AuditEntry, 'event' | 'kind' | 'app' | 'rule'>>;

/** "1 h", "90 min", "45 s", as the helper words a duration. */
export function duration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function describeEvent(e: ActiveEvent): string {
  return e.kind === 'app.flagged'
    ? `the flag on ${e.app} (${e.source}: ${e.reason})`
    : e.kind === 'app.quarantined'
      ? `the quarantine of ${e.app}`
      : `${e.kind} on ${e.subject}`;
}

export interface FakeReactionsDeps {
  apps: () => readonly App[];
  rules: FakeRules;
  now: () => number;
  emit: (event: EventName, data: unknown) => void;
  rand: () => number;
  /** These apps' flags or quarantines changed: the helper sets their `held` and sends app.changed. */
  heldChanged: (apps: readonly string[]) => void;
  /** Who a change made through the API is by, as the audit names it. */
  caller?: string;
}

export class FakeReactions {
  active: ActiveEvent[] = [];
  /** The user's templates (replacing built-in ones by id). */
  userTemplates: ReactionTemplate[] = [];
  schedules: Schedule[] = structuredClone(DEMO_SCHEDULES);
  audit: AuditEntry[] = [];
  #d: FakeReactionsDeps;
  #seq = 0;
  #caller: string;
  /** While the past is seeded nobody listens yet: nothing is sent. */
  #quiet = false;

  constructor(deps: FakeReactionsDeps, opts: { history?: boolean } = {}) {
    this.#d = deps;
    this.#caller = deps.caller ?? 'alice (uid 1000)';
    if (opts.history ?? true) this.#seed();
  }

  // ---------- views ----------

  templates(): TemplateView[] {
    const taken = new Set(this.userTemplates.map((t) => t.id));
    return [
      ...this.userTemplates.map((t) => ({ ...t, locked: false, builtIn: false })),
      ...BUILT_IN_TEMPLATES.filter((t) => !taken.has(t.id)).map((t) => ({
        ...t,
        locked: false,
        builtIn: true,
      })),
    ];
  }

  state(): ReactionsState {
    const now = this.#d.now();
    const ruleIds = new Set(this.#d.rules.rules.map((r) => r.id));
    return structuredClone({
      active: this.active.map((e) => ({ ...e, rules: e.rules.filter((id) => ruleIds.has(id)) })),
      templates: this.templates(),
      schedules: this.schedules.map((s) => ({ ...s, open: windowOpen(s, now) })),
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    });
  }

  /** An app's flags and quarantines as App.held shows them. */
  heldOf(app: string): App['held'] {
    return this.active
      .filter((e) => e.app === app && (e.kind === 'app.flagged' || e.kind === 'app.quarantined'))
      .map(heldEntry);
  }

  list(q: Params<'audit.list'>): AuditEntry[] {
    const since = q.since ? Date.parse(q.since) : -Infinity;
    return structuredClone(
      this.audit
        .filter((a) => Date.parse(a.time) >= since && (q.app === undefined || a.app === q.app))
        .slice(-q.limit),
    );
  }

  // ---------- live behaviour ----------

  /** Ends the events whose time is up, as the helper's timer does. */
  tick(): void {
    const now = this.#d.now();
    const due = this.active.filter((e) => e.endsAt && Date.parse(e.endsAt) <= now);
    if (!due.length) return;
    const audits: AuditInput[] = [];
    for (const e of due) this.#end(e, 'its time was up', 'the helper', audits);
    this.#commit(
      audits,
      due.flatMap((e) => (e.app ? [e.app] : [])),
    );
  }

  /** Event rules that expired by themselves: said in the audit. */
  rulesExpired(rules: readonly Rule[]): void {
    for (const r of rules)
      if (r.origin === 'event')
        this.#record({
          action: 'rule.expired',
          event: r.event?.id ?? null,
          rule: r.id,
          app: r.match.subject.kind === 'app' ? r.match.subject.app : null,
          by: 'the helper',
          message: `rule ${r.id} (${r.name}) expired at ${r.expiresAt}`,
        });
  }

  // ---------- the API ----------

  handle(method: EventMethodName, params: unknown): unknown {
    const ok = { ok: true as const };
    switch (method) {
      case 'findings.report':
        return this.#report(params as Params<'findings.report'>);
      case 'findings.clear': {
        const { app } = params as Params<'findings.clear'>;
        const cleared = this.clear(app, this.#caller);
        if (cleared) this.#changed(app, `flags and quarantine of ${app} cleared`);
        return { cleared };
      }
      case 'quarantine.start': {
        const { app, seconds, reason } = params as Params<'quarantine.start'>;
        const e = this.quarantine(app, seconds, reason, this.#caller);
        this.#changed(app, `${app} quarantined until ${e.endsAt}`);
        return e;
      }
      case 'reactions.get':
        return this.state();
      case 'templates.set': {
        const t = params as Params<'templates.set'>;
        const i = this.userTemplates.findIndex((x) => x.id === t.id);
        if (i >= 0) this.userTemplates[i] = t;
        else this.userTemplates.push(t);
        this.#d.emit('reactions.changed', this.state());
        this.#changed(null, `reaction template ${t.id} set: ${t.name}`);
        return this.templates().find((x) => x.id === t.id);
      }
      case 'templates.remove': {
        const { id } = params as Params<'templates.remove'>;
        if (!this.userTemplates.some((t) => t.id === id))
          throw new ApiError(
            'NOT_FOUND',
            `no template of yours with id ${id}; built-in ones are switched off with enabled: false`,
          );
        this.userTemplates = this.userTemplates.filter((t) => t.id !== id);
        this.#d.emit('reactions.changed', this.state());
        this.#changed(null, `reaction template ${id} removed`);
        return ok;
      }
      case 'schedules.set': {
        const s = params as Params<'schedules.set'>;
        const i = this.schedules.findIndex((x) => x.name === s.name);
        if (i >= 0) this.schedules[i] = s;
        else this.schedules.push(s);
        this.#d.emit('reactions.changed', this.state());
        this.#changed(null, `schedule ${s.name}: ${s.days.join(', ')} ${s.from}–${s.to}`);
        return ok;
      }
      case 'schedules.remove': {
        const { name } = params as Params<'schedules.remove'>;
        if (!this.schedules.some((s) => s.name === name))
          throw new ApiError('NOT_FOUND', `no schedule named ${name}`);
        this.schedules = this.schedules.filter((s) => s.name !== name);
        this.#d.emit('reactions.changed', this.state());
        this.#changed(null, `schedule ${name} removed`);
        return ok;
      }
      case 'audit.list':
        return this.list(params as Params<'audit.list'>);
    }
  }

  /** Quarantines an app (replacing a quarantine in force); its rules block it until the end. */
  quarantine(
    app: string,
    seconds: number,
    reason: string | undefined,
    by: string,
    at = this.#d.now(),
  ): ActiveEvent {
    this.#requireApp(app);
    const audits: AuditInput[] = [];
    for (const old of this.active.filter((e) => e.kind === 'app.quarantined' && e.app === app))
      this.#end(old, 'replaced by a new quarantine', by, audits);
    const e = this.#newEvent(
      {
        kind: 'app.quarantined',
        app,
        source: 'quarantine',
        reason: reason ?? `quarantined by hand for ${duration(seconds)}`,
        severity: 'high',
        by,
        endsAt: new Date(at + seconds * 1000).toISOString(),
        subject: null,
      },
      at,
    );
    audits.push({
      action: 'event.started',
      event: e.id,
      kind: e.kind,
      app,
      by,
      message: `${app} quarantined until ${e.endsAt}: ${e.reason}`,
    });
    this.#begin(e, audits);
    this.#commit(audits, [app], at);
    return structuredClone(this.active.find((x) => x.id === e.id)!);
  }

  /** Flags an app (or repeats the flag in force, raising its severity). */
  flag(
    app: string,
    report: { source: string; reason: string; severity: 'low' | 'high'; subject: string | null; how: string },
    by: string,
    at = this.#d.now(),
  ): ActiveEvent {
    const who = `${by} via ${report.source}`;
    const existing = this.active.find((e) => e.kind === 'app.flagged' && e.app === app);
    const audits: AuditInput[] = [];
    let e: ActiveEvent;
    if (existing) {
      existing.repeats += 1;
      if (existing.severity === 'low' && report.severity === 'high') existing.severity = 'high';
      audits.push({
        action: 'event.repeated',
        event: existing.id,
        kind: existing.kind,
        app,
        by: who,
        message: `${app} flagged again by ${report.source}: ${report.reason}${report.subject ? ` (${report.subject})` : ''}`,
      });
      e = existing;
    } else {
      e = this.#newEvent(
        {
          kind: 'app.flagged',
          app,
          source: report.source,
          reason: report.reason,
          severity: report.severity,
          by: who,
          endsAt: null,
          subject: report.subject,
        },
        at,
      );
      audits.push({
        action: 'event.started',
        event: e.id,
        kind: e.kind,
        app,
        by: who,
        message: `${app} flagged by ${report.source} (${report.severity}): ${report.reason}; ${report.how}`,
      });
      this.#begin(e, audits);
    }
    this.#commit(audits, [app], at);
    this.#emit('app.flagged', {
      app,
      source: report.source,
      reason: report.reason,
      severity: e.severity,
      event: e.id,
    });
    return structuredClone(e);
  }

  /** Ends an app's flags and quarantines; returns how many ended. */
  clear(app: string, by: string, at = this.#d.now()): number {
    this.#requireApp(app);
    const held = this.active.filter(
      (e) => e.app === app && (e.kind === 'app.flagged' || e.kind === 'app.quarantined'),
    );
    if (!held.length) return 0;
    const audits: AuditInput[] = [];
    for (const e of held) this.#end(e, 'cleared', by, audits);
    this.#commit(audits, [app], at);
    return held.length;
  }

  // ---------- inside ----------

  #report(p: Params<'findings.report'>): ActiveEvent {
    const apps = this.#d.apps();
    let found: { app: string; subject: string | null; how: string } | undefined;
    try {
      if (p.app !== undefined) {
        this.#requireApp(p.app);
        found = { app: p.app, subject: null, how: 'named by the reporter' };
      } else if (p.pid !== undefined) {
        const a = apps.find((x) => x.pids.includes(p.pid!));
        if (!a)
          throw new ApiError('NOT_FOUND', `process ${p.pid} is gone or belongs to no app Switchyard manages`);
        found = { app: a.id, subject: `pid ${p.pid}`, how: `process ${p.pid} is one of its processes` };
      } else {
        const path = (p.exe ?? p.file)!;
        const a = apps.find((x) => x.matchers.exe?.includes(path));
        if (!a)
          throw new ApiError(
            'NOT_FOUND',
            p.exe !== undefined
              ? `no app Switchyard manages runs ${path}; name the app instead (--app)`
              : `no app Switchyard manages wrote, runs or has ${path} open; name the app instead (--app)`,
          );
        found = { app: a.id, subject: path, how: 'it is the executable of that app' };
      }
    } catch (err) {
      if (err instanceof ApiError)
        this.#record({
          action: 'report.refused',
          by: this.#caller,
          message: `report refused: ${p.source}: ${err.message}`,
        });
      throw err;
    }
    return this.flag(found.app, { ...p, ...found }, this.#caller);
  }

  #requireApp(app: string): void {
    if (!this.#d.apps().some((a) => a.id === app))
      throw new ApiError('NOT_FOUND', `no app '${app}'; \`switchyard apps\` lists them`);
  }

  #newEvent(e: Omit<ActiveEvent, 'id' | 'startedAt' | 'repeats' | 'rules'>, at: number): ActiveEvent {
    const hex = Array.from({ length: 10 }, () => Math.floor(this.#d.rand() * 16).toString(16)).join('');
    return { ...e, id: `e-${hex}`, startedAt: new Date(at).toISOString(), repeats: 0, rules: [] };
  }

  /** Puts the event in force with the rules its enabled templates make of it. */
  #begin(e: ActiveEvent, audits: AuditInput[]): void {
    this.active.push(e);
    const rank = { low: 0, high: 1 };
    for (const t of this.templates()) {
      if (!t.enabled || t.on.kind !== e.kind) continue;
      if (e.kind === 'app.flagged' && rank[e.severity] < rank[t.minSeverity]) continue;
      if (t.covers.kind !== 'event-app' || !e.app) continue; // the demo's events are all about an app
      if (t.action.type === 'encrypt') continue; // no tunnel choice in the fake's reactions
      const rule = this.#d.rules.addEventRule({
        name: `${t.name} (${e.source})`.slice(0, 120),
        expiresAt: e.endsAt,
        match: {
          subject: { kind: 'app', app: e.app },
          destinations: [],
          ports: [],
          protocol: 'any',
          network: 'any',
        },
        action: { type: 'block' },
        event: { source: e.source, reason: e.reason, id: e.id, template: t.id },
      });
      e.rules.push(rule.id);
      audits.push({
        action: 'rule.created',
        event: e.id,
        kind: e.kind,
        app: e.app,
        rule: rule.id,
        by: e.by,
        message: `rule ${rule.id} "${rule.name}": block${rule.expiresAt ? ` until ${rule.expiresAt}` : ' until the event ends'}`,
      });
    }
  }

  #end(e: ActiveEvent, why: string, by: string, audits: AuditInput[]): void {
    for (const r of this.#d.rules.removeRules(e.rules))
      audits.push({
        action: 'rule.removed',
        event: e.id,
        kind: e.kind,
        app: e.app,
        rule: r.id,
        by,
        message: `rule ${r.id} "${r.name}" removed: ${why}`,
      });
    audits.push({
      action: 'event.ended',
      event: e.id,
      kind: e.kind,
      app: e.app,
      by,
      message: `${describeEvent(e)} ended: ${why}`,
    });
    this.active = this.active.filter((x) => x !== e);
  }

  #record(a: AuditInput, at = this.#d.now()): AuditEntry {
    const entry: AuditEntry = {
      seq: ++this.#seq,
      time: new Date(at).toISOString(),
      event: null,
      kind: null,
      app: null,
      rule: null,
      ...a,
    };
    this.audit.push(entry);
    this.#emit('audit.appended', structuredClone(entry));
    return entry;
  }

  /** Audited, told, applied: the order the helper's commit follows. */
  #commit(audits: readonly AuditInput[], apps: readonly string[], at = this.#d.now()): void {
    for (const a of audits) this.#record(a, at);
    if (this.#quiet) return;
    this.#emit('reactions.changed', this.state());
    this.#d.rules.changed();
    this.#d.heldChanged(apps);
  }

  #emit(event: EventName, data: unknown): void {
    if (!this.#quiet) this.#d.emit(event, data);
  }

  #changed(app: string | null, summary: string): void {
    this.#d.emit('policy.changed', { app, summary, actor: { uid: 1000, user: 'alice', via: 'api' } });
  }

  /** The demo's past: a few quarantines and flags that came and went, and Firefox flagged now. */
  #seed(): void {
    this.#quiet = true;
    const now = this.#d.now();
    const has = (id: string) => this.#d.apps().some((a) => a.id === id);
    for (const { ago, do: d } of DEMO_REACTIONS) {
      const at = now - ago * 60_000;
      if (d.kind === 'refuse') {
        this.#record({ action: 'report.refused', by: d.by, message: `report refused: ${d.why}` }, at);
        continue;
      }
      if (!has(d.app)) continue;
      if (d.kind === 'quarantine') this.quarantine(d.app, d.minutes * 60, undefined, d.by, at);
      else if (d.kind === 'flag')
        this.flag(d.app, { ...d, how: 'it is the executable of that app' }, 'root (uid 0)', at);
      else if (d.kind === 'clear') this.clear(d.app, d.by, at);
      else {
        const audits: AuditInput[] = [];
        for (const e of this.active.filter((x) => x.app === d.app))
          this.#end(e, 'its time was up', 'the helper', audits);
        this.#commit(audits, [d.app], at);
      }
    }
    this.#quiet = false;
  }
}
