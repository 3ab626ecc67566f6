// LAN access per app (apps.setLanAccess): the app reaches its local networks (the uplinks' subnets,
// link-local, multicast DNS) directly, even while its kill switch holds the rest of its traffic.
import { toApiError, type SwitchyardClient } from '../transport/types.ts';
import type { AppsState } from './apps.svelte.ts';
import { inFormWords } from './helper-words.ts';

export class LanAccessState {
  /** App id → a change is on its way / why the last one was refused. */
  busy = $state<Record<string, boolean>>({});
  errors = $state<Record<string, string>>({});
  #client: SwitchyardClient;
  #apps: AppsState;

  constructor(client: SwitchyardClient, apps: AppsState) {
    this.#client = client;
    this.#apps = apps;
  }

  /** Turn it on or off; the helper's answer (or its app.changed event) becomes the truth. */
  async set(id: string, on: boolean): Promise<boolean> {
    if (this.busy[id]) return false; // the switch stays enabled (and focused) while saving
    const name = this.#apps.nameOf(id);
    this.busy[id] = true;
    delete this.errors[id];
    try {
      const app = await this.#client.call('apps.setLanAccess', { app: id, on });
      this.#apps.applyChanged({ app, id, removed: false });
      return true;
    } catch (e) {
      const why = inFormWords(toApiError(e), { app: 'App' });
      this.errors[id] = `Could not turn ${on ? 'on' : 'off'} ${name}'s LAN access: ${why}`;
      return false;
    } finally {
      delete this.busy[id];
    }
  }
}
