// Apps added by hand: adding one (apps.add) and removing one (apps.remove). The helper's answer and
// its app.changed event put the app in the list or take it out.
import type { App, ParamsIn, RunningProgram } from '#switchyard/api/schema.ts';
import { toApiError, type SwitchyardClient } from '../transport/types.ts';
import type { AppsState } from './apps.svelte.ts';
import { appLabels, type AppSourceKind } from './app-form.ts';
import { inFormWords } from './helper-words.ts';
import type { Notices } from './notices.svelte.ts';

export class ManualApps {
  busy = $state(false);
  #client: SwitchyardClient;
  #apps: AppsState;
  #notices: Notices | undefined;

  constructor(client: SwitchyardClient, apps: AppsState, notices?: Notices) {
    this.#client = client;
    this.#apps = apps;
    this.#notices = notices;
  }

  async add(params: ParamsIn<'apps.add'>, kind: AppSourceKind): Promise<{ app: App } | { error: string }> {
    this.busy = true;
    try {
      const app = await this.#client.call('apps.add', params);
      this.#apps.applyChanged({ app, id: app.id, removed: false });
      this.#notices?.info(`${app.name} added.`);
      return { app };
    } catch (e) {
      return { error: inFormWords(toApiError(e), appLabels(kind)) };
    } finally {
      this.busy = false;
    }
  }

  /** The programs running now (processes.list), or why they could not be read. */
  async programs(): Promise<RunningProgram[] | { error: string }> {
    try {
      return await this.#client.call('processes.list', {});
    } catch (e) {
      return { error: `Could not list the running programs: ${toApiError(e).message}` };
    }
  }

  /** Null once removed, else why not. */
  async remove(app: App): Promise<string | null> {
    this.busy = true;
    try {
      await this.#client.call('apps.remove', { id: app.id });
      this.#apps.applyChanged({ app: null, id: app.id, removed: true });
      this.#notices?.info(`${app.name} removed.`);
      return null;
    } catch (e) {
      return `Could not remove ${app.name}: ${toApiError(e).message}`;
    } finally {
      this.busy = false;
    }
  }
}
