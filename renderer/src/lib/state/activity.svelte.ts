// The event log: seeded from events.history, then appended live; filterable and exportable.
import type { EventData, EventEnvelope, EventName } from '#switchyard/api/schema.ts';
import type { EventMeta, SwitchyardClient } from '../transport/types.ts';
import { parseAnyEvent, toApiError } from '../transport/types.ts';
import { formatLatency } from './format.ts';

/** Events worth a line in the log; counters and state syncs (app.changed) are not. */
export const LOGGED_EVENTS = [
  'adoption',
  'egress.failover',
  'egress.killed',
  'egress.restored',
  'policy.changed',
  'interface.changed',
  'helper.problem',
  'rule.expired',
] as const satisfies readonly EventName[];
export type LoggedEvent = (typeof LOGGED_EVENTS)[number];

export const EVENT_LABELS: Record<LoggedEvent, string> = {
  adoption: 'Adoption',
  'egress.failover': 'Failover',
  'egress.killed': 'Kill switch',
  'egress.restored': 'Restored',
  'policy.changed': 'Policy change',
  'interface.changed': 'Interface',
  'helper.problem': 'Problem',
  'rule.expired': 'Rule expired',
};

export interface LogEntry {
  seq: number;
  time: string;
  type: LoggedEvent;
  app: string | null;
  /** One sentence for people. */
  summary: string;
  /** Who made a policy change: "alice (app)", "managed policy", "helper". */
  actor: string | null;
  data: unknown;
}

export const MAX_ENTRIES = 5000;

function isLogged(name: string): name is LoggedEvent {
  return (LOGGED_EVENTS as readonly string[]).includes(name);
}

/** Loopback never carries an app's traffic: its changes are not news. */
function isNoise(type: string, data: unknown): boolean {
  return (
    type === 'interface.changed' && (data as EventData<'interface.changed'>).interface?.kind === 'loopback'
  );
}

export function describeActor(actor: EventData<'policy.changed'>['actor']): string {
  if (actor.via === 'managed') return 'managed policy';
  if (actor.via === 'helper') return 'helper';
  return `${actor.user} (uid ${actor.uid})`;
}

/** Turn a validated event into a log line; `nameOf` maps app ids to names. */
export function toEntry(
  type: LoggedEvent,
  data: unknown,
  meta: EventMeta,
  nameOf: (id: string) => string,
): LogEntry {
  const base = { seq: meta.seq, time: meta.time, type, data, actor: null as string | null };
  switch (type) {
    case 'adoption': {
      const d = data as EventData<'adoption'>;
      const how =
        d.via === 'run'
          ? 'launched through Switchyard'
          : d.via === 'scan'
            ? 'found by a scan'
            : 'caught at exec';
      const speed = d.latencyUs > 0 ? ` in ${formatLatency(d.latencyUs)}` : '';
      return { ...base, app: d.app, summary: `${nameOf(d.app)} process ${d.pid} adopted (${how})${speed}.` };
    }
    case 'egress.failover': {
      const d = data as EventData<'egress.failover'>;
      return {
        ...base,
        app: d.app,
        summary: `${nameOf(d.app)} moved from ${d.from ?? 'system routing'} to ${d.to ?? 'system routing'}.`,
      };
    }
    case 'egress.killed': {
      const d = data as EventData<'egress.killed'>;
      return {
        ...base,
        app: d.app,
        summary: `${nameOf(d.app)}'s kill switch engaged: ${d.egresses.join(', ') || 'no egress'} unavailable.`,
      };
    }
    case 'egress.restored': {
      const d = data as EventData<'egress.restored'>;
      return { ...base, app: d.app, summary: `${nameOf(d.app)} is back on ${d.egress}.` };
    }
    case 'policy.changed': {
      const d = data as EventData<'policy.changed'>;
      return { ...base, app: d.app, summary: d.summary, actor: describeActor(d.actor) };
    }
    case 'interface.changed': {
      const d = data as EventData<'interface.changed'>;
      // A tunnel's words are the CLI's (up, connecting, down): up without a usable path is connecting.
      const tunnel = d.interface?.kind === 'tunnel';
      const state =
        d.removed || !d.interface
          ? 'was removed'
          : d.interface.usable
            ? tunnel
              ? 'is up'
              : 'is usable'
            : d.interface.up
              ? tunnel
                ? 'is connecting'
                : 'is up but not usable'
              : 'is down';
      return { ...base, app: null, summary: `${d.name} ${state}.` };
    }
    case 'helper.problem': {
      const d = data as EventData<'helper.problem'>;
      return { ...base, app: null, summary: `${d.severity === 'error' ? 'Error' : 'Warning'}: ${d.message}` };
    }
    case 'rule.expired': {
      const d = data as EventData<'rule.expired'>;
      return { ...base, app: null, summary: `Rule ${d.id} (“${d.name}”) expired.` };
    }
  }
}

export function filterEntries(
  entries: readonly LogEntry[],
  type: LoggedEvent | 'all',
  app: string | 'all',
): LogEntry[] {
  return entries.filter((e) => (type === 'all' || e.type === type) && (app === 'all' || e.app === app));
}

function csvCell(value: string | number | null): string {
  const s = value === null ? '' : String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(entries: readonly LogEntry[]): string {
  const lines = ['seq,time,type,app,actor,summary'];
  for (const e of entries)
    lines.push([e.seq, e.time, e.type, e.app, e.actor, e.summary].map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function toJson(entries: readonly LogEntry[]): string {
  return `${JSON.stringify(
    entries.map((e) => ({
      seq: e.seq,
      time: e.time,
      event: e.type,
      app: e.app,
      actor: e.actor,
      summary: e.summary,
      data: e.data,
    })),
    null,
    2,
  )}\n`;
}

export class ActivityState {
  /** Which part of the Activity view shows: the event log or the audit trail. */
  section = $state<'events' | 'audit'>('events');
  entries = $state<LogEntry[]>([]);
  type = $state<LoggedEvent | 'all'>('all');
  app = $state<string | 'all'>('all');
  loaded = $state(false);
  loadError = $state<string | null>(null);
  visible = $derived(filterEntries(this.entries, this.type, this.app));
  #client: SwitchyardClient;
  #nameOf: (id: string) => string;

  constructor(client: SwitchyardClient, nameOf: (id: string) => string = (id) => id) {
    this.#client = client;
    this.#nameOf = nameOf;
  }

  async load(limit = 500): Promise<void> {
    try {
      const history: EventEnvelope[] = await this.#client.call('events.history', { limit });
      const seeded: LogEntry[] = [];
      for (const env of history) {
        if (!isLogged(env.event)) continue;
        try {
          const data = parseAnyEvent(env.event, env.data);
          if (isNoise(env.event, data)) continue;
          seeded.push(toEntry(env.event, data, env, this.#nameOf));
        } catch {
          // A malformed old event is skipped rather than hiding the whole history.
        }
      }
      // Keep live events that arrived while the history was on its way.
      const newest = seeded.at(-1)?.seq ?? -Infinity;
      this.entries = [...seeded, ...this.entries.filter((e) => e.seq > newest || e.seq < 0)].slice(
        -MAX_ENTRIES,
      );
      this.loadError = null;
    } catch (e) {
      this.loadError = `The activity history could not be loaded: ${toApiError(e).message}`;
    } finally {
      this.loaded = true;
    }
  }

  add(type: string, data: unknown, meta: EventMeta): void {
    if (!isLogged(type) || isNoise(type, data)) return;
    if (meta.seq >= 0 && this.entries.some((e) => e.seq === meta.seq)) return;
    this.entries.push(toEntry(type, data, meta, this.#nameOf));
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  /** Save the log: the shell's save dialog in Electron, a browser download otherwise. */
  async export(format: 'json' | 'csv'): Promise<string> {
    if (this.#client.kind === 'electron') {
      const { path } = await this.#client.call('shell.exportEvents', { format });
      return path ? `Saved the activity log to ${path}.` : 'Export cancelled.';
    }
    const body = format === 'csv' ? toCsv(this.visible) : toJson(this.visible);
    const blob = new Blob([body], { type: format === 'csv' ? 'text/csv' : 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a one-off timestamp, not state
    a.download = `switchyard-activity-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.${format}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    return `Downloaded ${this.visible.length} events as ${format.toUpperCase()}.`;
  }
}
