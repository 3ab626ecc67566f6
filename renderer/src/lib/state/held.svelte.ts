// Apps held by an event: flagged by a security tool or quarantined by hand. Each app says so itself
// (App.held); the events in force (reactions.get, then reactions.changed whole) add who raised them and
// the rules they made. Quarantine and clear go through here; a clock drives the "52 min left" countdowns.
import type { ActiveEvent, App, EventData, ReactionsState } from '#switchyard/api/schema.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';
import type { AppsState } from './apps.svelte.ts';
import type { Notices } from './notices.svelte.ts';

export type Hold = App['held'][number];

/** The quarantine lengths the UI offers (quarantine.start takes seconds; "until cleared" it has not). */
export const QUARANTINE_CHOICES = [
  { seconds: 15 * 60, label: '15 min' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 8 * 3600, label: '8 hours' },
  { seconds: 24 * 3600, label: '24 hours' },
] as const;

/** "52 min left", "1 h 5 min left", "less than a minute left"; "ending…" once the time is up. */
export function timeLeft(until: string, now: number): string {
  const ms = Date.parse(until) - now;
  if (!Number.isFinite(ms)) return '';
  if (ms <= 0) return 'ending…';
  const minutes = Math.ceil(ms / 60_000);
  if (ms < 60_000) return 'less than a minute left';
  if (minutes < 60) return `${minutes} min left`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h} h ${m} min left` : `${h} h left`;
}

/** Quarantines first (they block everything), then high-severity flags, then the rest. */
export function sortHolds(held: readonly Hold[]): Hold[] {
  const rank = (h: Hold) => (h.kind === 'quarantined' ? 0 : h.severity === 'high' ? 1 : 2);
  return [...held].sort((a, b) => rank(a) - rank(b) || a.since.localeCompare(b.since));
}

/** One hold in a few words: "Quarantined · 52 min left", "Flagged by clamav". */
export function holdLabel(h: Hold, now: number): string {
  if (h.kind === 'flagged') return `Flagged by ${h.source}`;
  return h.until ? `Quarantined · ${timeLeft(h.until, now)}` : 'Quarantined';
}

/** What a hold means for the app, for a tooltip or a screen reader. */
export function holdDescription(h: Hold): string {
  return h.kind === 'quarantined'
    ? `Quarantined: ${h.reason}. Its traffic is blocked until the quarantine ends or is cleared.`
    : `Flagged by ${h.source} (${h.severity} severity): ${h.reason}. Its traffic is held until the flag is cleared.`;
}

/** How the sidebar says it: "Firefox flagged by clamav", "Lab Browser quarantined". */
export function heldSummary(app: App): string {
  const q = app.held.some((h) => h.kind === 'quarantined');
  const sources = app.held.filter((h) => h.kind === 'flagged').map((h) => h.source);
  const named = sources.filter((s, i) => sources.indexOf(s) === i);
  const flagged = named.length ? `flagged by ${named.join(', ')}` : '';
  return `${app.name} ${q ? 'quarantined' : ''}${q && flagged ? ' and ' : ''}${flagged}`;
}

/** Several apps at once: "2 apps quarantined", "3 apps held: 1 quarantined, 2 flagged". */
export function heldCount(apps: readonly App[]): string {
  const q = apps.filter((a) => a.held.some((h) => h.kind === 'quarantined')).length;
  const f = apps.length - q;
  if (!f) return `${q} app${q === 1 ? '' : 's'} quarantined`;
  if (!q) return `${f} app${f === 1 ? '' : 's'} flagged`;
  return `${apps.length} apps held: ${q} quarantined, ${f} flagged`;
}

export class HeldState {
  /** The events in force, with who raised them and the rules they made. */
  active = $state<ActiveEvent[]>([]);
  loaded = $state(false);
  loadError = $state<string | null>(null);
  /** Apps with a quarantine or clear in flight, and the last failure per app. */
  busy = $state<Record<string, boolean>>({});
  errors = $state<Record<string, string>>({});
  /** The clock the countdowns read; it ticks while a hold has an end. */
  now = $state(Date.now());

  #client: SwitchyardClient;
  #apps: AppsState;
  #notices: Notices | undefined;
  #clock: ReturnType<typeof setInterval> | null = null;

  constructor(client: SwitchyardClient, apps: AppsState, notices?: Notices) {
    this.#client = client;
    this.#apps = apps;
    this.#notices = notices;
  }

  async load(): Promise<void> {
    try {
      this.apply(await this.#client.call('reactions.get', {}));
      this.loadError = null;
    } catch (e) {
      this.loadError = `The events in force could not be loaded: ${toApiError(e).message}`;
    } finally {
      this.loaded = true;
    }
  }

  apply(state: ReactionsState): void {
    this.active = state.active;
    this.syncClock();
  }

  /** The event in force behind a hold (who raised it, its rules), once reactions are loaded. */
  eventOf(hold: Hold): ActiveEvent | undefined {
    return this.active.find((e) => e.id === hold.event);
  }

  /** A flag arrived: say so, whatever view is open. */
  flagged(data: EventData<'app.flagged'>): void {
    this.#notices?.error(`${this.#apps.nameOf(data.app)} was flagged by ${data.source}: ${data.reason}`);
  }

  async quarantine(app: string, seconds: number, reason?: string): Promise<boolean> {
    return this.#change(app, 'quarantine', () =>
      this.#client.call('quarantine.start', reason ? { app, seconds, reason } : { app, seconds }),
    );
  }

  async clear(app: string): Promise<boolean> {
    return this.#change(app, 'clear', () => this.#client.call('findings.clear', { app }));
  }

  async #change(app: string, what: 'quarantine' | 'clear', fn: () => Promise<unknown>): Promise<boolean> {
    const name = this.#apps.nameOf(app);
    this.busy[app] = true;
    delete this.errors[app];
    try {
      await fn();
      // The app.changed event brings the new state too; reading it makes the answer the truth without it.
      this.#apps.applyChanged({
        app: await this.#client.call('apps.get', { id: app }),
        id: app,
        removed: false,
      });
      this.#notices?.info(
        what === 'clear' ? `${name}'s traffic is no longer held.` : `${name} is quarantined.`,
      );
      this.syncClock();
      return true;
    } catch (e) {
      this.errors[app] =
        `Could not ${what === 'clear' ? `clear ${name}` : `quarantine ${name}`}: ${toApiError(e).message}`;
      return false;
    } finally {
      delete this.busy[app];
    }
  }

  /** Ticks every 15 s while any app has a hold with an end (the countdowns show minutes). */
  syncClock(): void {
    const counting = this.#apps.list.some((a) => a.held.some((h) => h.until));
    this.now = Date.now();
    if (counting && !this.#clock) this.#clock = setInterval(() => (this.now = Date.now()), 15_000);
    if (!counting && this.#clock) {
      clearInterval(this.#clock);
      this.#clock = null;
    }
  }

  dispose(): void {
    if (this.#clock) clearInterval(this.#clock);
    this.#clock = null;
  }
}
