// Helper status and the desktop shell's settings (start at login).
import type { Status } from '#switchyard/api/schema.ts';
import type { ShellInfo } from '#switchyard/api/shell-schema.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';

export class SettingsState {
  status = $state<Status | null>(null);
  shell = $state<ShellInfo | null>(null);
  statusError = $state<string | null>(null);
  shellError = $state<string | null>(null);
  autostartError = $state<string | null>(null);
  savingAutostart = $state(false);
  #client: SwitchyardClient;

  constructor(client: SwitchyardClient) {
    this.#client = client;
  }

  async loadStatus(): Promise<void> {
    try {
      this.status = await this.#client.call('status.get', {});
      this.statusError = null;
    } catch (e) {
      this.statusError = `The helper's status could not be read: ${toApiError(e).message}`;
    }
  }

  async loadShell(): Promise<void> {
    try {
      this.shell = await this.#client.call('shell.info', {});
      this.shellError = null;
    } catch (e) {
      this.shellError = `The desktop shell did not answer: ${toApiError(e).message}`;
    }
  }

  async setAutostart(enabled: boolean): Promise<void> {
    this.savingAutostart = true;
    this.autostartError = null;
    try {
      this.shell = await this.#client.call('shell.setAutostart', { enabled });
    } catch (e) {
      this.autostartError = `Start at login could not be changed: ${toApiError(e).message}`;
    } finally {
      this.savingAutostart = false;
    }
  }
}
