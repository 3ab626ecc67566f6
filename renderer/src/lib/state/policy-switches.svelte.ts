// Pause, resume and override: the global switches over every app's policy. The helper's status says
// which is on (it answers each change with its status, and the CLI's changes arrive as policy.changed).
import type { Status } from '#switchyard/api/schema.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';
import type { Notices } from './notices.svelte.ts';
import type { SettingsState } from './settings.svelte.ts';

/** The banner's sentence while a switch is on, or null when every app follows its own choice. */
export function switchesBanner(status: Status | null): { text: string; undo: string } | null {
  if (!status) return null;
  if (status.paused)
    return {
      text: 'Policies paused: apps keep their routes, but blocks and kill switches are lifted',
      undo: 'Resume',
    };
  if (status.override) return { text: `All apps follow ${status.override} (override)`, undo: 'Undo' };
  return null;
}

export class PolicySwitches {
  busy = $state(false);
  #client: SwitchyardClient;
  #settings: SettingsState;
  #notices: Notices | undefined;

  constructor(client: SwitchyardClient, settings: SettingsState, notices?: Notices) {
    this.#client = client;
    this.#settings = settings;
    this.#notices = notices;
  }

  get paused(): boolean {
    return this.#settings.status?.paused ?? false;
  }

  get override(): string | null {
    return this.#settings.status?.override ?? null;
  }

  pause(paused: boolean): Promise<boolean> {
    return this.#send(
      () => this.#client.call('policy.pause', { paused }),
      paused ? 'Could not pause policies' : 'Could not resume policies',
    );
  }

  /** Send every app through one egress; null ends the override. */
  setOverride(egress: string | null): Promise<boolean> {
    return this.#send(
      () => this.#client.call('policy.override', { egress }),
      egress ? `Could not send all apps through ${egress}` : 'Could not end the override',
    );
  }

  /** Undo whatever the banner shows: resume first (pause wins over override in the helper). */
  undo(): Promise<boolean> {
    return this.paused ? this.pause(false) : this.setOverride(null);
  }

  async #send(call: () => Promise<Status>, failure: string): Promise<boolean> {
    this.busy = true;
    try {
      this.#settings.status = await call();
      return true;
    } catch (e) {
      this.#notices?.error(`${failure}: ${toApiError(e).message}`);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
