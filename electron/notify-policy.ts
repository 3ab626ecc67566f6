// Which helper events become desktop notifications, and in what words. Only events that change
// whether an app's traffic flows: its kill switch blocked it, or it failed over to another path; an
// app flagged or quarantined, an uplink on an untrusted or unknown network (events that create rules).
import type { ActiveEvent } from '#switchyard/api/events-model.ts';
import type { AppId, EventData, EventEnvelope } from '#switchyard/api/schema.ts';
import { timeLeft } from './time-left.ts';

export interface Notice {
  /** Same key = same news; repeats within the debounce window are dropped. */
  key: string;
  title: string;
  body: string;
  urgency: 'normal' | 'critical';
}

export type AppName = (id: AppId) => string;

export function noticeFor(env: EventEnvelope, appName: AppName): Notice | null {
  switch (env.event) {
    case 'egress.killed': {
      const d = env.data as { app: AppId; egresses: string[] };
      const name = appName(d.app);
      const list = d.egresses.length ? d.egresses.join(', ') : 'its chosen egress';
      return {
        key: `killed:${d.app}`,
        title: `${name} is blocked`,
        body: `${list} ${d.egresses.length > 1 ? 'are' : 'is'} down and the kill switch stops ${name} from using any other path.`,
        urgency: 'critical',
      };
    }
    case 'egress.failover': {
      const d = env.data as { app: AppId; from: string | null; to: string | null };
      const name = appName(d.app);
      const lost = d.from ? `${d.from} is down` : 'Its first choice is down';
      return {
        key: `failover:${d.app}:${d.to ?? 'default'}`,
        title: d.to ? `${name} switched to ${d.to}` : `${name} uses the system route`,
        body: d.to
          ? `${lost}; ${name} now goes through ${d.to}.`
          : `${lost} and none of its choices is up; ${name} uses the system's default route.`,
        urgency: 'normal',
      };
    }
    default:
      return null;
  }
}

/** Drops a notice whose key was shown less than windowMs ago. */
export class NoticeDebouncer {
  private readonly shown = new Map<string, number>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  admit(notice: Notice): boolean {
    const t = this.now();
    for (const [k, at] of this.shown) if (t - at >= this.windowMs) this.shown.delete(k);
    if (this.shown.has(notice.key)) return false;
    this.shown.set(notice.key, t);
    return true;
  }
}

/** An event in force worth a notification: the fields of an ActiveEvent it needs (an app.flagged has them too). */
export type Alert = Pick<
  ActiveEvent,
  'id' | 'kind' | 'app' | 'subject' | 'source' | 'reason' | 'severity' | 'endsAt'
>;

const ALERT_KINDS: ReadonlySet<ActiveEvent['kind']> = new Set([
  'app.flagged',
  'app.quarantined',
  'network.unknown',
  'network.untrusted',
]);

/** One notice for a burst of alerts: each in a line, the title naming one or two of them. */
export function alertsNotice(alerts: readonly Alert[], appName: AppName, now: number): Notice {
  // An uplink on an unmarked network usually raises both kinds at once: say it once.
  const unknownOn = new Set(alerts.filter((a) => a.kind === 'network.unknown').map((a) => a.subject));
  const told = alerts.filter((a) => !(a.kind === 'network.untrusted' && unknownOn.has(a.subject)));
  const words = told.map((a) => alertWords(a, appName, now, alerts));
  const title =
    words.length === 1
      ? words[0]!.headline
      : words.length === 2
        ? `${words[0]!.headline} and ${words[1]!.headline}`
        : `Switchyard: ${words.length} alerts`;
  return {
    key: `alerts:${alerts.map((a) => a.id).join(',')}`,
    title,
    body: words.map((w) => w.line).join('\n'),
    urgency: alerts.some((a) => a.kind === 'app.flagged' && a.severity === 'high') ? 'critical' : 'normal',
  };
}

function alertWords(
  a: Alert,
  appName: AppName,
  now: number,
  all: readonly Alert[],
): { headline: string; line: string } {
  const name = a.app ? appName(a.app) : '';
  const uplink = a.subject ?? 'an uplink';
  switch (a.kind) {
    case 'app.flagged':
      return { headline: `${name} was flagged`, line: `${name} was flagged by ${a.source}: ${a.reason}.` };
    case 'app.quarantined':
      return {
        headline: `${name} is quarantined`,
        line: `${name} is quarantined${a.endsAt ? `, ${timeLeft(a.endsAt, now)}` : ''}: ${a.reason}.`,
      };
    case 'network.unknown': {
      const untrusted = all.some((b) => b.kind === 'network.untrusted' && b.subject === a.subject);
      return {
        headline: `${uplink} is on an unknown network`,
        line: `${a.reason}${untrusted ? '; it is treated as untrusted' : ''}. Mark it trusted or untrusted in Switchyard.`,
      };
    }
    default:
      return { headline: `${uplink} is on an untrusted network`, line: `${a.reason}.` };
  }
}

/**
 * Gathers alerts from reactions.changed and app.flagged: the first new one waits delayMs for the rest
 * of its burst, then all go to flush together. An event id is told at most once.
 */
export class AlertBatcher {
  /** Ids told or waiting; kept while the event is in force (ids are never reused). */
  private readonly seen = new Set<string>();
  private readonly pending = new Map<string, Alert>();
  private timer: NodeJS.Timeout | null = null;
  private connectedAt: number;

  constructor(
    private readonly flush: (alerts: Alert[]) => void,
    private readonly delayMs = 1500,
    private readonly now: () => number = Date.now,
  ) {
    this.connectedAt = now();
  }

  /** The shell (re)connected to the helper: events that started before now are old news. */
  connected(): void {
    this.connectedAt = this.now();
  }

  /** reactions.changed: the events in force now. */
  active(active: readonly ActiveEvent[]): void {
    const ids = new Set(active.map((e) => e.id));
    for (const id of this.seen) if (!ids.has(id)) this.seen.delete(id);
    // One that ended before its notice went out is no news any more.
    for (const id of this.pending.keys()) if (!ids.has(id)) this.pending.delete(id);
    for (const e of active)
      if (Date.parse(e.startedAt) < this.connectedAt) this.seen.add(e.id);
      else this.add(e);
    if (!this.pending.size) this.cancel();
  }

  /** app.flagged: also for a repeated flag, which keeps its event id and so is not told again. */
  flagged(d: EventData<'app.flagged'>): void {
    this.add({
      id: d.event,
      kind: 'app.flagged',
      app: d.app,
      subject: null,
      source: d.source,
      reason: d.reason,
      severity: d.severity,
      endsAt: null,
    });
  }

  stop(): void {
    this.cancel();
    this.pending.clear();
  }

  private add(a: Alert): void {
    if (!ALERT_KINDS.has(a.kind) || this.seen.has(a.id)) return;
    if (a.endsAt && Date.parse(a.endsAt) <= this.now()) return;
    this.seen.add(a.id);
    this.pending.set(a.id, a);
    this.timer ??= setTimeout(() => {
      this.timer = null;
      const alerts = [...this.pending.values()];
      this.pending.clear();
      if (alerts.length) this.flush(alerts);
    }, this.delayMs);
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
