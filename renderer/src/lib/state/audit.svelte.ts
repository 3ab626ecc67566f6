// The audit trail of events that create rules: what started, repeated and ended, which rules were made
// and removed, which reports were refused. Read with audit.list (the helper filters by app and time),
// then appended live from audit.appended; filtered by action here; exported as JSON Lines or CSV.
import type { AuditAction, AuditEntry } from '#switchyard/api/schema.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';

export const AUDIT_ACTIONS: { value: AuditAction; label: string; tone: string }[] = [
  { value: 'event.started', label: 'Event started', tone: 'bad' },
  { value: 'event.repeated', label: 'Event repeated', tone: 'warn' },
  { value: 'event.ended', label: 'Event ended', tone: 'ok' },
  { value: 'rule.created', label: 'Rule created', tone: 'accent' },
  { value: 'rule.removed', label: 'Rule removed', tone: 'neutral' },
  { value: 'rule.expired', label: 'Rule expired', tone: 'neutral' },
  { value: 'report.refused', label: 'Report refused', tone: 'warn' },
  { value: 'keygroup.down', label: 'Key group down', tone: 'bad' },
  { value: 'keygroup.up', label: 'Key group up', tone: 'ok' },
  { value: 'peer.set', label: 'Peer set', tone: 'accent' },
  { value: 'peer.removed', label: 'Peer removed', tone: 'neutral' },
  { value: 'keygroup.revoked', label: 'Key group revoked', tone: 'bad' },
];

/** The label and tone of an entry: a "rule.created" without a rule says a template made none. */
export function actionOf(e: AuditEntry): { label: string; tone: string } {
  if (e.action === 'rule.created' && e.rule === null) return { label: 'No rule made', tone: 'neutral' };
  return AUDIT_ACTIONS.find((a) => a.value === e.action) ?? { label: e.action, tone: 'neutral' };
}

const SUBJECTS: Record<string, string> = {
  'network.unknown': 'Unknown network',
  'network.untrusted': 'Untrusted network',
  schedule: 'Schedule',
};

/** What an entry without an app is about: a network, a schedule, a report. */
export function subjectOf(e: AuditEntry): string {
  if (e.kind && SUBJECTS[e.kind]) return SUBJECTS[e.kind]!;
  if (e.action === 'report.refused') return 'A report';
  return e.kind === 'tunnel' ? 'A tunnel' : 'Switchyard';
}

export const AUDIT_SINCE = [
  { value: 'hour', label: 'Last hour', ms: 3600_000 },
  { value: 'day', label: 'Last 24 hours', ms: 86_400_000 },
  { value: 'week', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: 'all', label: 'All time', ms: Infinity },
] as const;
export type AuditSince = (typeof AUDIT_SINCE)[number]['value'];

/** How many entries one read asks for (the helper answers the newest that match). */
export const AUDIT_LIMIT = 2000;
/** At most this many are kept as live entries arrive. */
export const MAX_AUDIT = 10_000;

/** Each string once, in first-seen order (linear: the trail may hold thousands of entries). */
function unique(xs: readonly string[]): string[] {
  return Object.keys(Object.fromEntries(xs.map((x) => [x, true])));
}

export function sinceTime(since: AuditSince, now: number): number {
  return now - AUDIT_SINCE.find((s) => s.value === since)!.ms;
}

export interface AuditFilter {
  app: string | 'all';
  action: AuditAction | 'all';
  since: AuditSince;
}

/** The entries that pass the filter, newest first. */
export function filterAudit(entries: readonly AuditEntry[], f: AuditFilter, now: number): AuditEntry[] {
  const from = sinceTime(f.since, now);
  return entries
    .filter(
      (e) =>
        (f.app === 'all' || e.app === f.app) &&
        (f.action === 'all' || e.action === f.action) &&
        Date.parse(e.time) >= from,
    )
    .sort((a, b) => b.seq - a.seq);
}

/** One JSON object per line, oldest first, as the helper's own audit log is written. */
export function toJsonLines(entries: readonly AuditEntry[]): string {
  return [...entries]
    .sort((a, b) => a.seq - b.seq)
    .map((e) => `${JSON.stringify(e)}\n`)
    .join('');
}

function csvCell(value: string | number | null): string {
  const s = value === null ? '' : String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toAuditCsv(entries: readonly AuditEntry[]): string {
  const lines = ['seq,time,action,kind,event,app,rule,by,message'];
  for (const e of [...entries].sort((a, b) => a.seq - b.seq))
    lines.push(
      [e.seq, e.time, e.action, e.kind, e.event, e.app, e.rule, e.by, e.message].map(csvCell).join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}

export class AuditState {
  entries = $state<AuditEntry[]>([]);
  app = $state<string | 'all'>('all');
  action = $state<AuditAction | 'all'>('all');
  since = $state<AuditSince>('all');
  loaded = $state(false);
  loading = $state(false);
  loadError = $state<string | null>(null);
  /** The clock "last hour" is measured from; set on each read and each new entry. */
  now = $state(Date.now());

  visible = $derived(
    filterAudit(this.entries, { app: this.app, action: this.action, since: this.since }, this.now),
  );
  /** Apps the trail names, for the app filter. */
  apps = $derived(unique(this.entries.map((e) => e.app).filter((a): a is string => a !== null)));

  #client: SwitchyardClient;
  #read = 0;
  /** Entries that arrived while a read was on its way. */
  #arrived: AuditEntry[] = [];

  constructor(client: SwitchyardClient) {
    this.#client = client;
  }

  /** Read the trail for the app and time filters; live entries that arrived meanwhile are kept. */
  async load(): Promise<void> {
    const read = ++this.#read;
    this.#arrived = [];
    this.loading = true;
    this.now = Date.now();
    const from = sinceTime(this.since, this.now);
    try {
      const list = await this.#client.call('audit.list', {
        limit: AUDIT_LIMIT,
        ...(this.app !== 'all' ? { app: this.app } : {}),
        // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a one-off timestamp, not state
        ...(Number.isFinite(from) ? { since: new Date(from).toISOString() } : {}),
      });
      if (read !== this.#read) return; // a later read (another filter) wins
      const newest = list.at(-1)?.seq ?? 0;
      const app = this.app;
      this.entries = [
        ...list,
        ...this.#arrived.filter((e) => e.seq > newest && (app === 'all' || e.app === app)),
      ];
      this.#arrived = [];
      this.loadError = null;
      this.loaded = true;
    } catch (e) {
      if (read === this.#read) this.loadError = `The audit trail could not be read: ${toApiError(e).message}`;
    } finally {
      if (read === this.#read) this.loading = false;
    }
  }

  /** The app or time filter changed: the helper filters those, so read again. */
  setFilter(change: Partial<Pick<AuditFilter, 'app' | 'since'>>): Promise<void> {
    if (change.app !== undefined) this.app = change.app;
    if (change.since !== undefined) this.since = change.since;
    return this.load();
  }

  append(entry: AuditEntry): void {
    if (this.entries.some((e) => e.seq === entry.seq)) return;
    this.now = Date.now();
    if (this.loading) this.#arrived.push(entry);
    // Entries for other apps are not part of the read the list shows; the next read brings them.
    if (this.app !== 'all' && entry.app !== this.app) return;
    this.entries.push(entry);
    if (this.entries.length > MAX_AUDIT) this.entries.splice(0, this.entries.length - MAX_AUDIT);
  }

  /** Download the filtered entries (a browser download; Electron shows its save dialog for it). */
  export(format: 'jsonl' | 'csv'): string {
    const entries = this.visible;
    const body = format === 'csv' ? toAuditCsv(entries) : toJsonLines(entries);
    const blob = new Blob([body], { type: format === 'csv' ? 'text/csv' : 'application/x-ndjson' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a one-off timestamp, not state
    a.download = `switchyard-audit-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.${format}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    return `Downloaded ${entries.length} audit entr${entries.length === 1 ? 'y' : 'ies'} as ${format === 'csv' ? 'CSV' : 'JSON Lines'}.`;
  }
}
