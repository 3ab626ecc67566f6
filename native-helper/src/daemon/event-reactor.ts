// Events that create and expire rules (seed 2): findings from security tools, quarantines, schedule
// windows and networks. Each event in force is stored with the rules its templates made; ending it
// removes them at once. Every step is written to the audit log. The rules themselves are ordinary
// event-layer rules: flow-plan.ts puts them in the kernel like any other.
import type {
  ActiveEvent,
  AuditEntry,
  AuditNote,
  ReactionTemplate,
  Schedule,
  Severity,
} from '../api/events-model.ts';
import type { ReactionsState, TemplateView } from '../api/events-schema.ts';
import { ApiError, type AppId } from '../api/schema.ts';
import type { Rule } from '../api/rules-model.ts';
import type { PolicyDocument } from '../policy/model.ts';
import { effectiveTemplates } from '../policy/reactions.ts';
import {
  type LedgerContext,
  endEvent,
  newEvent,
  remakeEvent,
  replaceEvent,
  startEvent,
} from '../policy/event-ledger.ts';
import { type Attachment, networkChanges, timeChanges } from '../policy/event-triggers.ts';

export type { Attachment };
import { isTimeZone, openWindow, systemTimeZone } from '../policy/schedule.ts';
import type { AuditLog, AuditQuery } from '../storage/audit-log.ts';
import type { EventBus } from './event-bus.ts';
import { type Caller, ReportLimiter } from './report-limiter.ts';

export type { Caller };
import type { PolicyState } from './policy-state.ts';

/** A finding resolved to the app it is about. */
export interface ResolvedFinding {
  app: AppId;
  /** What it named: the file, executable or process. */
  subject: string | null;
  /** How the app was found, for the audit ("the process that wrote it (pid 4242)"). */
  how: string;
}

export interface EventReactorDeps {
  policy: PolicyState;
  bus: EventBus;
  audit: AuditLog;
  log: (msg: string) => void;
  /** Apply the policy again. */
  refresh: () => Promise<void>;
  /** Tunnel names, in the order they were added. */
  tunnels: () => string[];
  attachments: () => Attachment[];
  /**
   * Freezes the apps' processes until the returned thaw, so that an app flagged or quarantined sends
   * nothing between the finding and its rules being in the kernel.
   */
  hold?: (apps: readonly AppId[]) => Promise<() => Promise<void>>;
  now?: () => Date;
}

/** Timers longer than this are re-armed in steps. */
const MAX_TIMER_MS = 60_000;

export class EventReactor {
  private timer: NodeJS.Timeout | null = null;
  private readonly limiter: ReportLimiter;
  private readonly now: () => Date;

  constructor(private readonly deps: EventReactorDeps) {
    this.now = deps.now ?? (() => new Date());
    this.limiter = new ReportLimiter(this.now, (note) => this.record([note]));
  }

  /** Ends what ended while the helper was down, opens schedule windows, arms the timer. */
  start(): void {
    void this.tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  // ---------- views ----------

  state(): ReactionsState {
    const doc = this.deps.policy.current;
    const tz = this.timeZone();
    const now = this.now();
    return {
      active: doc.events.map((e) => ({
        ...e,
        rules: e.rules.filter((id) => doc.rules.some((r) => r.id === id)),
      })),
      templates: this.templates().map(({ template, locked, builtIn }): TemplateView => ({
        ...template,
        locked,
        builtIn,
      })),
      schedules: doc.schedules.map((s) => ({ ...s, open: openWindow(s, now, tz) !== null })),
      timeZone: tz,
    };
  }

  audit(q: AuditQuery): AuditEntry[] {
    return this.deps.audit.read(q);
  }

  /** Whether the app is flagged or quarantined now. */
  heldApps(): Map<AppId, ActiveEvent[]> {
    const out = new Map<AppId, ActiveEvent[]>();
    for (const e of this.deps.policy.current.events)
      if (e.app && (e.kind === 'app.flagged' || e.kind === 'app.quarantined'))
        out.set(e.app, [...(out.get(e.app) ?? []), e]);
    return out;
  }

  // ---------- findings and quarantines ----------

  /** Takes a report's token (RATE_LIMITED past the caller's rate); a refusal is audited in summary. */
  admit(caller: Caller): void {
    this.limiter.admit(caller);
  }

  refused(caller: Caller, why: string): void {
    this.limiter.refused(caller, why);
  }

  async flag(
    found: ResolvedFinding,
    report: { source: string; reason: string; severity: Severity },
    caller: Caller,
  ): Promise<ActiveEvent> {
    const doc = this.deps.policy.current;
    const by = `${caller.label} via ${report.source}`;
    const existing = doc.events.find((e) => e.kind === 'app.flagged' && e.app === found.app);
    if (existing) {
      const rises = existing.severity === 'low' && report.severity === 'high';
      const again: ActiveEvent = {
        ...existing,
        repeats: existing.repeats + 1,
        severity: rises ? 'high' : existing.severity,
      };
      const audits: AuditNote[] = [
        {
          action: 'event.repeated',
          event: existing.id,
          kind: existing.kind,
          app: found.app,
          by,
          message: `${found.app} flagged again by ${report.source}: ${report.reason}${found.subject ? ` (${found.subject})` : ''}`,
        },
      ];
      let next = replaceEvent(doc, again);
      // A finding of higher severity may trigger templates a low one did not: make its rules again.
      if (rises) next = remakeEvent(next, again, this.ledger(), audits, 'its severity changed');
      await this.commit(next, audits, rises ? [found.app] : []);
      this.deps.bus.emit('app.flagged', {
        app: found.app,
        source: report.source,
        reason: report.reason,
        severity: again.severity,
        event: again.id,
      });
      return this.deps.policy.current.events.find((e) => e.id === existing.id)!;
    }
    const e = newEvent(
      {
        kind: 'app.flagged',
        app: found.app,
        source: report.source,
        reason: report.reason,
        severity: report.severity,
        by,
        endsAt: null,
        subject: found.subject,
      },
      this.now(),
    );
    const audits: AuditNote[] = [
      {
        action: 'event.started',
        event: e.id,
        kind: e.kind,
        app: e.app,
        by,
        message: `${found.app} flagged by ${report.source} (${report.severity}): ${report.reason}; ${found.how}`,
      },
    ];
    await this.commit(startEvent(doc, e, this.ledger(), audits), audits, [found.app]);
    this.deps.bus.emit('app.flagged', {
      app: found.app,
      source: report.source,
      reason: report.reason,
      severity: e.severity,
      event: e.id,
    });
    return this.deps.policy.current.events.find((x) => x.id === e.id)!;
  }

  async quarantine(
    app: AppId,
    seconds: number,
    reason: string | undefined,
    caller: Caller,
  ): Promise<ActiveEvent> {
    this.requireApp(app);
    const doc = this.deps.policy.current;
    const now = this.now();
    const endsAt = new Date(now.getTime() + seconds * 1000).toISOString();
    const audits: AuditNote[] = [];
    let next = doc;
    // A new quarantine replaces the one in force (a longer or shorter one).
    for (const old of doc.events.filter((e) => e.kind === 'app.quarantined' && e.app === app))
      next = endEvent(next, old, `replaced by a new quarantine`, caller.label, audits);
    const e = newEvent(
      {
        kind: 'app.quarantined',
        app,
        source: 'quarantine',
        reason: reason ?? `quarantined by hand for ${duration(seconds)}`,
        severity: 'high',
        by: caller.label,
        endsAt,
        subject: null,
      },
      this.now(),
    );
    audits.push({
      action: 'event.started',
      event: e.id,
      kind: e.kind,
      app,
      by: caller.label,
      message: `${app} quarantined until ${endsAt}: ${e.reason}`,
    });
    await this.commit(startEvent(next, e, this.ledger(), audits), audits, [app]);
    return this.deps.policy.current.events.find((x) => x.id === e.id)!;
  }

  /** Clears an app's flags and quarantines; returns how many events ended. */
  async clearApp(app: AppId, caller: Caller): Promise<number> {
    this.requireApp(app);
    const doc = this.deps.policy.current;
    const held = doc.events.filter(
      (e) => e.app === app && (e.kind === 'app.flagged' || e.kind === 'app.quarantined'),
    );
    if (!held.length) return 0;
    const audits: AuditNote[] = [];
    let next = doc;
    for (const e of held) next = endEvent(next, e, 'cleared', caller.label, audits);
    await this.commit(next, audits);
    return held.length;
  }

  /** Sets where an app gets its updates, and remakes the rules of its flags (they may allow them). */
  async setUpdateServers(app: AppId, destinations: readonly string[]): Promise<void> {
    if (!this.deps.policy.current.apps.some((a) => a.id === app))
      throw new ApiError('NOT_FOUND', `no app '${app}'; \`switchyard apps\` lists them`);
    let doc: PolicyDocument = {
      ...this.deps.policy.current,
      apps: this.deps.policy.current.apps.map((a) =>
        a.id === app ? { ...a, updateServers: [...new Set(destinations)] } : a,
      ),
    };
    const audits: AuditNote[] = [];
    for (const e of doc.events)
      if (e.app === app && e.kind === 'app.flagged')
        doc = remakeEvent(doc, e, this.ledger(), audits, 'its update servers changed');
    await this.commit(doc, audits);
  }

  // ---------- templates and schedules ----------

  templates() {
    return effectiveTemplates(this.deps.policy.managedTemplates, this.deps.policy.current.templates);
  }

  async setTemplate(t: ReactionTemplate): Promise<TemplateView> {
    if (this.deps.policy.managedTemplates.some((m) => m.id === t.id))
      throw new ApiError('MANAGED', `template ${t.id} comes from the managed policy and is locked.`);
    const doc = this.deps.policy.current;
    const templates = doc.templates.some((x) => x.id === t.id)
      ? doc.templates.map((x) => (x.id === t.id ? t : x))
      : [...doc.templates, t];
    await this.commit({ ...doc, templates }, []);
    return this.state().templates.find((x) => x.id === t.id)!;
  }

  async removeTemplate(id: string): Promise<void> {
    const doc = this.deps.policy.current;
    if (!doc.templates.some((t) => t.id === id))
      throw new ApiError(
        'NOT_FOUND',
        this.deps.policy.managedTemplates.some((t) => t.id === id)
          ? `template ${id} comes from the managed policy and is locked.`
          : `no template of yours with id ${id}; built-in ones are switched off with enabled: false`,
      );
    await this.commit({ ...doc, templates: doc.templates.filter((t) => t.id !== id) }, []);
  }

  async setSchedule(s: Schedule): Promise<void> {
    const doc = this.deps.policy.current;
    const schedules = doc.schedules.some((x) => x.name === s.name)
      ? doc.schedules.map((x) => (x.name === s.name ? s : x))
      : [...doc.schedules, s];
    this.deps.policy.commit({ ...doc, schedules });
    await this.tick();
  }

  async removeSchedule(name: string): Promise<void> {
    const doc = this.deps.policy.current;
    if (!doc.schedules.some((s) => s.name === name))
      throw new ApiError('NOT_FOUND', `no schedule named ${name}`);
    this.deps.policy.commit({ ...doc, schedules: doc.schedules.filter((s) => s.name !== name) });
    await this.tick();
  }

  timeZone(): string {
    const tz = this.deps.policy.current.timeZone;
    return tz && isTimeZone(tz) ? tz : systemTimeZone();
  }

  // ---------- time and networks ----------

  /**
   * Ends events whose time is up, opens and closes schedule windows, and arms the timer for the next
   * of either (each minute while schedules exist, so a window opens at its minute).
   */
  async tick(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const audits: AuditNote[] = [];
    const doc = timeChanges(this.deps.policy.current, this.timeZone(), this.ledger(), audits);
    if (doc !== this.deps.policy.current) await this.commit(doc, audits);
    this.arm(this.now());
  }

  /** Starts and ends the network events: one per uplink on an unknown or untrusted network. */
  async syncNetworks(): Promise<void> {
    const audits: AuditNote[] = [];
    const doc = networkChanges(this.deps.policy.current, this.deps.attachments(), this.ledger(), audits);
    if (doc !== this.deps.policy.current) await this.commit(doc, audits);
  }

  /** EncryptionRules removed expired rules: say so for event rules, and end events left with none. */
  rulesExpired(expired: readonly Rule[]): void {
    const audits: AuditNote[] = [];
    for (const r of expired)
      if (r.origin === 'event')
        audits.push({
          action: 'rule.expired',
          event: r.event?.id ?? null,
          rule: r.id,
          app: r.match.subject.kind === 'app' ? r.match.subject.app : null,
          by: 'the helper',
          message: `rule ${r.id} (${r.name}) expired at ${r.expiresAt}`,
        });
    if (audits.length) this.record(audits);
  }

  private ledger(): LedgerContext {
    return {
      templates: this.templates(),
      effective: (doc) => this.deps.policy.effectiveOf(doc),
      tunnels: this.deps.tunnels(),
      now: this.now(),
    };
  }

  /** Written first (the rules are durable), then audited, told, and applied. */
  private async commit(doc: PolicyDocument, audits: AuditNote[], hold: readonly AppId[] = []): Promise<void> {
    const thaw = hold.length && this.deps.hold ? await this.deps.hold(hold) : null;
    try {
      this.deps.policy.commit(doc);
      this.record(audits);
      this.deps.bus.emit('reactions.changed', this.state());
      await this.deps.refresh();
    } finally {
      await thaw?.();
    }
    this.arm(this.now());
  }

  private record(audits: readonly AuditNote[]): void {
    for (const a of audits) {
      const entry = this.deps.audit.append(a);
      this.deps.log(`audit: ${entry.message}`);
      this.deps.bus.emit('audit.appended', entry);
    }
  }

  private arm(now: Date): void {
    if (this.timer) clearTimeout(this.timer);
    const doc = this.deps.policy.current;
    const ends = doc.events.flatMap((e) => (e.endsAt ? [Date.parse(e.endsAt)] : []));
    const nextMinute = doc.schedules.length ? Math.floor(now.getTime() / 60_000) * 60_000 + 60_000 : Infinity;
    const at = Math.min(nextMinute, ...ends);
    if (!Number.isFinite(at)) {
      this.timer = null;
      return;
    }
    const wait = Math.min(Math.max(at - now.getTime(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => void this.tick(), wait);
    this.timer.unref();
  }

  private requireApp(app: AppId): void {
    if (!this.deps.policy.effective().apps.some((a) => a.id === app))
      throw new ApiError('NOT_FOUND', `no app '${app}'; \`switchyard apps\` lists them`);
  }
}

/** "1 h", "90 min", "45 s". */
export function duration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
