// App groups that rules can name: loaded on connect, replaced whole by groups.changed.
import type { EventData, Group } from '#switchyard/api/schema.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';
import type { Outcome } from './rules.svelte.ts';

export class GroupsState {
  list = $state<Group[]>([]);
  loaded = $state(false);
  loadError = $state<string | null>(null);
  busy = $state(false);
  #client: SwitchyardClient;

  constructor(client: SwitchyardClient) {
    this.#client = client;
  }

  async load(): Promise<void> {
    try {
      this.list = await this.#client.call('groups.list', {});
      this.loadError = null;
    } catch (e) {
      this.loadError = `The app groups could not be loaded: ${toApiError(e).message}`;
    } finally {
      this.loaded = true;
    }
  }

  apply(data: EventData<'groups.changed'>): void {
    this.list = data.groups;
  }

  byName(name: string): Group | undefined {
    return this.list.find((g) => g.name.toLowerCase() === name.toLowerCase());
  }

  of(appId: string): Group[] {
    return this.list.filter((g) => g.apps.includes(appId));
  }

  async #change(what: string, fn: () => Promise<unknown>): Promise<Outcome> {
    this.busy = true;
    try {
      await fn();
      await this.load();
      return { ok: true };
    } catch (e) {
      return { ok: false, error: `Could not ${what}: ${toApiError(e).message}` };
    } finally {
      this.busy = false;
    }
  }

  add(name: string, apps: string[]): Promise<Outcome> {
    return this.#change(`create group ${name}`, () => this.#client.call('groups.add', { name, apps }));
  }

  set(name: string, apps: string[]): Promise<Outcome> {
    return this.#change(`change group ${name}`, () => this.#client.call('groups.set', { name, apps }));
  }

  remove(name: string): Promise<Outcome> {
    return this.#change(`delete group ${name}`, () => this.#client.call('groups.remove', { name }));
  }
}
