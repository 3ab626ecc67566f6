// One app's recent connections as the helper lists them (connections.list), re-read when the helper
// says new ones arrived (connections.added) and while shown, so byte counts move.
import type { Connection } from '#switchyard/api/schema.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';

const SHOWN = 50;
/** Counts of open connections change without an event: re-read this often while shown. */
const REFRESH_MS = 5000;

export class AppConnectionsState {
  list = $state<Connection[]>([]);
  loaded = $state(false);
  /** Why the list could not be read, or why the helper is not watching connections. */
  error = $state<string | null>(null);

  constructor(
    private readonly client: SwitchyardClient,
    readonly app: string,
  ) {}

  async load(): Promise<void> {
    try {
      const r = await this.client.call('connections.list', { app: this.app, limit: SHOWN });
      this.list = r.connections;
      this.error = r.tracking ? null : (r.problem ?? 'The helper is not watching connections.');
    } catch (err) {
      this.error = toApiError(err).message;
    } finally {
      this.loaded = true;
    }
  }

  /** Load now, then follow: for an $effect, which calls the returned stop. */
  watch(): () => void {
    void this.load();
    const off = this.client.on('connections.added', (d) => {
      if (d.apps.includes(this.app)) void this.load();
    });
    const timer = setInterval(() => void this.load(), REFRESH_MS);
    return () => {
      off();
      clearInterval(timer);
    };
  }
}
