// Events that create and expire rules (seed 2): findings from security tools, quarantines, schedule
// windows and networks. Each event in force is stored with the rules its templates made; ending it
// removes them at once. Every step is written to the audit log. The rules themselves are ordinary
// event-layer rules: flow-plan.ts puts them in the kernel like any other.
import { randomBytes } from 'node:crypto';
import type { ActiveEvent, AuditEntry, ReactionTemplate, Schedule, Severity } from '../api/events-model.ts';
import type { ReactionsState, TemplateView } from '../api/events-schema.ts';
import { ApiError, type AppId } from '../api/schema.ts';
import type { Network, Rule } from '../api/rules-model.ts';
import type { PolicyDocument } from '../policy/model.ts';
import { effectiveTemplates, reactionRules } from '../policy/reactions.ts';
import { addRule, describeAction } from '../policy/rules.ts';
import { isTimeZone, openWindow, systemTimeZone } from '../policy/schedule.ts';
import type { AuditInput, AuditLog, AuditQuery } from '../storage/audit-log.ts';
import type { EventBus } from './event-bus.ts';
import type { PolicyState } from './policy-state.ts';

/** Where each uplink is: from Networks (context and list). */
export interface Attachment {
  uplink: string;
  /** Null while the network is being identified. */
  network: Network | null;
}

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

export interface Caller {
  uid: number;
  /** "root (uid 0)", "the tray", "the helper". */
  label: string;
}

/** Reports per caller: a burst, then a steady rate; beyond it RATE_LIMITED. */
const REPORT_BURST = 20;
const REPORTS_PER_SECOND = 5;
/** At most one audit line per caller this often about refused reports (a flood must not fill it). */
const REFUSAL_AUDIT_MS = 10_000;
/** Timers longer than this are re-armed in steps. */
const MAX_TIMER_MS = 60_000;

export class EventReactor {
  private timer: NodeJS.Timeout | null = null;
  private readonly buckets = new Map<number, { tokens: number; at: number }>();
  private readonly refusals = new Map<number, { count: number; lastAudit: number; why: string }>();
  private readonly now: () => Date;

  constructor(private readonly deps: EventReactorDeps) {
    this.now = deps.now ?? (() => new Date());
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

  /** Takes a report's token first, so a flood of garbage is limited as much as good reports. */
  admit(caller: Caller): void {
    const now = this.now().getTime();
    const b = this.buckets.get(caller.uid) ?? { tokens: REPORT_BURST, at: now };
    b.tokens = Math.min(REPORT_BURST, b.tokens + ((now - b.at) / 1000) * REPORTS_PER_SECOND);
    b.at = now;
    this.buckets.set(caller.uid, b);
    if (b.tokens < 1) {
      this.refused(caller, 'too many reports');
      throw new ApiError(
        'RATE_LIMITED',
        `too many reports from ${caller.label}: at most ${REPORTS_PER_SECOND} a second (bursts of ${REPORT_BURST}); try again shortly`,
      );
    }
    b.tokens -= 1;
  }

  /** Audits a refused report, at most once per caller per interval (with how many were refused). */
  refused(caller: Caller, why: string): void {
    const now = this.now().getTime();
    const r = this.refusals.get(caller.uid) ?? { count: 0, lastAudit: -Infinity, why };
    r.count += 1;
    r.why = why;
    this.refusals.set(caller.uid, r);
    if (now - r.lastAudit < REFUSAL_AUDIT_MS) return;
    this.record([
      {
        action: 'report.refused',
        by: caller.label,
        message:
          r.count === 1
            ? `report refused: ${why}`
            : `${r.count} reports refused since the last note; the latest: ${why}`,
      },
    ]);
    r.count = 0;
    r.lastAudit = now;
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
      const audits: AuditInput[] = [
        {
          action: 'event.repeated',
          event: existing.id,
          kind: existing.kind,
          app: found.app,
          by,
          message: `${found.app} flagged again by ${report.source}: ${report.reason}${found.subject ? ` (${found.subject})` : ''}`,
        },
      ];
      let next = this.replaceEvent(doc, again);
      // A finding of higher severity may trigger templates a low one did not: make its rules again.
      if (rises) next = this.remake(next, again, audits);
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
    const e = this.newEvent({
      kind: 'app.flagged',
      app: found.app,
      source: report.source,
      reason: report.reason,
      severity: report.severity,
      by,
      endsAt: null,
      subject: found.subject,
    });
    const audits: AuditInput[] = [
      {
        action: 'event.started',
        event: e.id,
        kind: e.kind,
        app: e.app,
        by,
        message: `${found.app} flagged by ${report.source} (${report.severity}): ${report.reason}; ${found.how}`,
      },
    ];
    await this.commit(this.begin(doc, e, audits), audits, [found.app]);
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
    const audits: AuditInput[] = [];
    let next = doc;
    // A new quarantine replaces the one in force (a longer or shorter one).
    for (const old of doc.events.filter((e) => e.kind === 'app.quarantined' && e.app === app))
      next = this.end(next, old, `replaced by a new quarantine`, caller.label, audits);
    const e = this.newEvent({
      kind: 'app.quarantined',
      app,
      source: 'quarantine',
      reason: reason ?? `quarantined by hand for ${duration(seconds)}`,
      severity: 'high',
      by: caller.label,
      endsAt,
      subject: null,
    });
    audits.push({
      action: 'event.started',
      event: e.id,
      kind: e.kind,
      app,
      by: caller.label,
      message: `${app} quarantined until ${endsAt}: ${e.reason}`,
    });
    await this.commit(this.begin(next, e, audits), audits, [app]);
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
    const audits: AuditInput[] = [];
    let next = doc;
    for (const e of held) next = this.end(next, e, 'cleared', caller.label, audits);
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
    const audits: AuditInput[] = [];
    for (const e of doc.events)
      if (e.app === app && e.kind === 'app.flagged')
        doc = this.remake(doc, e, audits, 'its update servers changed');
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
    const now = this.now();
    const tz = this.timeZone();
    let doc = this.deps.policy.current;
    const audits: AuditInput[] = [];
    for (const e of doc.events)
      if (e.endsAt && Date.parse(e.endsAt) <= now.getTime())
        doc = this.end(
          doc,
          e,
          e.kind === 'schedule' ? 'its window closed' : 'its time was up',
          'the helper',
          audits,
        );
    for (const s of doc.schedules) {
      const win = openWindow(s, now, tz);
      const open = doc.events.find((e) => e.kind === 'schedule' && e.subject === s.name);
      if (open && (!win || open.endsAt !== win.end.toISOString()))
        doc = this.end(doc, open, win ? 'its schedule changed' : 'its window closed', 'the helper', audits);
      if (win && (!open || open.endsAt !== win.end.toISOString())) {
        const e = this.newEvent({
          kind: 'schedule',
          app: null,
          source: 'schedule',
          reason: `schedule ${s.name}: ${s.days.join(', ')} ${s.from}–${s.to} (${tz})`,
          severity: 'low',
          by: 'the helper',
          endsAt: win.end.toISOString(),
          subject: s.name,
        });
        audits.push({
          action: 'event.started',
          event: e.id,
          kind: e.kind,
          by: 'the helper',
          message: `${e.reason}: window open until ${e.endsAt}`,
        });
        doc = this.begin(doc, e, audits);
      }
    }
    // Schedules that were removed end their events.
    for (const e of doc.events)
      if (e.kind === 'schedule' && !doc.schedules.some((s) => s.name === e.subject))
        doc = this.end(doc, e, 'its schedule was removed', 'the helper', audits);
    if (doc !== this.deps.policy.current) await this.commit(doc, audits);
    this.arm(now);
  }

  /** Starts and ends the network events: one per uplink on an unknown or untrusted network. */
  async syncNetworks(): Promise<void> {
    let doc = this.deps.policy.current;
    const audits: AuditInput[] = [];
    const wanted = new Map<
      string,
      { kind: 'network.unknown' | 'network.untrusted'; uplink: string; label: string }
    >();
    for (const a of this.deps.attachments()) {
      const label = a.network ? `network "${a.network.name}"` : 'a network not identified yet';
      if (!a.network || a.network.trust === null)
        wanted.set(`network.unknown|${a.uplink}`, { kind: 'network.unknown', uplink: a.uplink, label });
      if (!a.network || a.network.effectiveTrust === 'untrusted')
        wanted.set(`network.untrusted|${a.uplink}`, { kind: 'network.untrusted', uplink: a.uplink, label });
    }
    for (const e of doc.events) {
      if (e.kind !== 'network.unknown' && e.kind !== 'network.untrusted') continue;
      if (wanted.delete(`${e.kind}|${e.subject}`)) continue;
      doc = this.end(doc, e, `${e.subject} left that network, or it was marked`, 'the helper', audits);
    }
    for (const w of wanted.values()) {
      const e = this.newEvent({
        kind: w.kind,
        app: null,
        source: 'network',
        reason: `${w.uplink} is on ${w.label}, ${w.kind === 'network.unknown' ? 'which nobody marked' : 'which is untrusted'}`,
        severity: 'low',
        by: 'the helper',
        endsAt: null,
        subject: w.uplink,
      });
      audits.push({
        action: 'event.started',
        event: e.id,
        kind: e.kind,
        by: 'the helper',
        message: e.reason,
      });
      doc = this.begin(doc, e, audits);
    }
    if (doc !== this.deps.policy.current) await this.commit(doc, audits);
  }

  /** EncryptionRules removed expired rules: say so for event rules, and end events left with none. */
  rulesExpired(expired: readonly Rule[]): void {
    const audits: AuditInput[] = [];
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

  // ---------- the document ----------

  private newEvent(e: Omit<ActiveEvent, 'id' | 'startedAt' | 'repeats' | 'rules'>): ActiveEvent {
    return {
      ...e,
      id: `e-${randomBytes(5).toString('hex')}`,
      startedAt: this.now().toISOString(),
      repeats: 0,
      rules: [],
    };
  }

  /** Adds the event and the rules its templates make (flags and quarantines first in the layer). */
  private begin(doc: PolicyDocument, e: ActiveEvent, audits: AuditInput[]): PolicyDocument {
    const withEvent = { ...doc, events: [...doc.events, e] };
    return this.addRulesFor(withEvent, e, audits);
  }

  private addRulesFor(doc: PolicyDocument, e: ActiveEvent, audits: AuditInput[]): PolicyDocument {
    const now = this.now();
    const { rules, skipped } = reactionRules(e, this.templates(), {
      doc: this.deps.policy.effectiveOf(doc),
      tunnels: this.deps.tunnels(),
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

  /** Removes an event's rules and makes them again from the templates (its severity changed). */
  private remake(
    doc: PolicyDocument,
    e: ActiveEvent,
    audits: AuditInput[],
    why = 'its severity changed',
  ): PolicyDocument {
    const cleared = this.removeRules(doc, e, why, e.by, audits);
    const reset = {
      ...cleared,
      events: cleared.events.map((x) => (x.id === e.id ? { ...x, rules: [] } : x)),
    };
    return this.addRulesFor(reset, { ...e, rules: [] }, audits);
  }

  private end(
    doc: PolicyDocument,
    e: ActiveEvent,
    why: string,
    by: string,
    audits: AuditInput[],
  ): PolicyDocument {
    const next = this.removeRules(doc, e, why, by, audits);
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

  private removeRules(
    doc: PolicyDocument,
    e: ActiveEvent,
    why: string,
    by: string,
    audits: AuditInput[],
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

  private replaceEvent(doc: PolicyDocument, e: ActiveEvent): PolicyDocument {
    return { ...doc, events: doc.events.map((x) => (x.id === e.id ? e : x)) };
  }

  /** Written first (the rules are durable), then audited, told, and applied. */
  private async commit(
    doc: PolicyDocument,
    audits: AuditInput[],
    hold: readonly AppId[] = [],
  ): Promise<void> {
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

  private record(audits: readonly AuditInput[]): void {
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

/** "1 h", "90 min", "45 s". */
export function duration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
