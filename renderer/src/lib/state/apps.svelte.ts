// The app catalog as the UI sees it: list, search, filter, live counters and egress edits.
import type { App, EgressChoice, EventData } from '#switchyard/api/schema.ts';
import { CounterCells, type Counters } from './counter-cells.svelte.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';
import { launchApp } from './launch.ts';
import type { Notices } from './notices.svelte.ts';

export type AppFilter = 'all' | 'managed' | 'running' | 'blocked';
export const APP_FILTERS: { value: AppFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'managed', label: 'Managed' },
  { value: 'running', label: 'Running' },
  { value: 'blocked', label: 'Blocked' },
];

/** Blocked means no traffic leaves: blocked by choice, or held by the kill switch. */
export function isBlocked(app: App): boolean {
  return app.choice.mode === 'block' || app.egress.state === 'blocked' || app.egress.state === 'killed';
}

export function matchesFilter(app: App, filter: AppFilter): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'managed':
      return app.managed;
    case 'running':
      return app.pids.length > 0;
    case 'blocked':
      return isBlocked(app);
  }
}

/** Search matches the name, the id or an executable path, case-insensitively. */
export function matchesQuery(app: App, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return (
    app.name.toLowerCase().includes(q) ||
    app.id.includes(q) ||
    (app.matchers.exe ?? []).some((e) => e.toLowerCase().includes(q))
  );
}

export function filterApps(apps: readonly App[], query: string, filter: AppFilter): App[] {
  return apps
    .filter((a) => matchesFilter(a, filter) && matchesQuery(a, query))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function countByFilter(apps: readonly App[]): Record<AppFilter, number> {
  const counts: Record<AppFilter, number> = { all: 0, managed: 0, running: 0, blocked: 0 };
  for (const a of apps) for (const f of APP_FILTERS) if (matchesFilter(a, f.value)) counts[f.value]++;
  return counts;
}

export class AppsState {
  /**
   * Raw, not deeply reactive: every change replaces the app (and the array), so filtering 1,000 apps
   * reads plain objects. Counters change in place once a second and are reactive per app (counterCells).
   */
  list = $state.raw<App[]>([]);
  query = $state('');
  filter = $state<AppFilter>('all');
  selectedId = $state<string | null>(null);
  loaded = $state(false);
  loadError = $state<string | null>(null);
  /** Apps with a request in flight, so their controls wait for the answer. */
  busy = $state<Record<string, boolean>>({});
  /** The last failed change per app, shown next to its controls. */
  errors = $state<Record<string, string>>({});
  /** The last launch that failed or died at once, per app, until it runs or is launched again. */
  launchFailed = $state<Record<string, string>>({});

  visible = $derived(filterApps(this.list, this.query, this.filter));
  counts = $derived(countByFilter(this.list));
  // A lookup rebuilt with the list (which is replaced on every change), never written to.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #byId = $derived(new Map(this.list.map((a) => [a.id, a])));
  selected = $derived((this.selectedId !== null && this.#byId.get(this.selectedId)) || null);
  /** Apps flagged or quarantined now, by name. */
  held = $derived(this.list.filter((a) => a.held.length).sort((a, b) => a.name.localeCompare(b.name)));

  #client: SwitchyardClient;
  #notices: Notices | undefined;
  #counters = new CounterCells();

  constructor(client: SwitchyardClient, notices?: Notices) {
    this.#client = client;
    this.#notices = notices;
  }

  async load(): Promise<void> {
    try {
      const list = await this.#client.call('apps.list', {});
      this.#counters.reset(list);
      this.list = list;
      this.loadError = null;
    } catch (e) {
      this.loadError = `The app list could not be loaded: ${toApiError(e).message}`;
    } finally {
      this.loaded = true;
    }
  }

  byId(id: string): App | undefined {
    return this.#byId.get(id);
  }

  /** An app's live counters; reading them in a template re-renders only when that app's numbers change. */
  countersOf(app: App): Counters {
    return this.#counters.read(app);
  }

  nameOf(id: string | null): string {
    if (!id) return 'All apps';
    return this.byId(id)?.name ?? id;
  }

  /**
   * Live counters, once a second. Each app's numbers live in a cell of their own: only rows that show an
   * app whose numbers changed re-render, and the list, its filter and its sort are not touched.
   */
  applyCounters(data: EventData<'counters'>): void {
    const byId = this.#byId;
    for (const c of data.apps) {
      const app = byId.get(c.id);
      if (app) this.#counters.set(app, c);
    }
  }

  applyChanged(data: EventData<'app.changed'>): void {
    const i = this.list.findIndex((a) => a.id === data.id);
    if (data.removed || !data.app) {
      if (i >= 0) this.list = this.list.toSpliced(i, 1);
      this.#counters.delete(data.id);
      if (this.selectedId === data.id) this.selectedId = null;
      return;
    }
    if (data.app.pids.length) delete this.launchFailed[data.id];
    this.#counters.set(data.app, data.app.counters);
    this.list = i >= 0 ? this.list.with(i, data.app) : [...this.list, data.app];
  }

  /** Send a new egress choice; the helper's answer (or its app.changed event) becomes the truth. */
  async setChoice(id: string, choice: EgressChoice): Promise<boolean> {
    const app = this.byId(id);
    if (!app) return false;
    if (app.managed) {
      this.errors[id] = `${app.name} is pinned by the managed policy; ask your administrator to change it.`;
      return false;
    }
    this.busy[id] = true;
    delete this.errors[id];
    try {
      const updated = await this.#client.call('egress.set', { app: id, choice });
      this.applyChanged({ app: updated, id, removed: false });
      return true;
    } catch (e) {
      this.errors[id] = `Could not change ${app.name}'s egress: ${toApiError(e).message}`;
      this.#notices?.error(this.errors[id]);
      return false;
    } finally {
      delete this.busy[id];
    }
  }

  /** Rescan desktop entries, then reload the list. */
  async rescan(): Promise<void> {
    try {
      const { apps } = await this.#client.call('catalog.refresh', {});
      await this.load();
      this.#notices?.info(`Found ${apps} apps.`);
    } catch (e) {
      this.#notices?.error(`Could not rescan apps: ${toApiError(e).message}`);
    }
  }

  /** Starts the app and says whether it is still running a moment later; a failure stays on its row. */
  async launch(id: string): Promise<void> {
    delete this.launchFailed[id];
    const r = await launchApp(this.#client, { id, name: this.nameOf(id) });
    if (r.ok) this.#notices?.info(r.text);
    else {
      this.launchFailed[id] = r.text;
      this.#notices?.error(r.text);
    }
  }
}
