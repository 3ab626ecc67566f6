// Networks the uplinks are on now and those seen before, with their trust, and the trust of networks
// nobody marked. Loaded on connect; networks.changed replaces the list whole.
import type { EventData, Network, Trust } from '#switchyard/api/schema.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';

/**
 * An uplink whose gateway has not answered yet is on a network the helper cannot name: it shows a
 * stand-in without a gateway MAC, untrusted, that cannot be marked.
 */
export function isIdentified(n: Network): boolean {
  return n.fingerprint.gatewayMac !== null;
}

export class NetworksState {
  list = $state<Network[]>([]);
  unknownTrust = $state<Trust>('untrusted');
  loaded = $state(false);
  loadError = $state<string | null>(null);
  /** Networks with a change in flight, and the last failed change per network. */
  busy = $state<Record<string, boolean>>({});
  errors = $state<Record<string, string>>({});
  unknownError = $state<string | null>(null);

  /** Attached now, in uplink order; then those seen before, most recent first. */
  current = $derived(this.list.filter((n) => n.interfaces.length));
  known = $derived(
    this.list.filter((n) => !n.interfaces.length).sort((a, b) => b.lastSeen.localeCompare(a.lastSeen)),
  );
  #client: SwitchyardClient;

  constructor(client: SwitchyardClient) {
    this.#client = client;
  }

  async load(): Promise<void> {
    try {
      const r = await this.#client.call('networks.list', {});
      this.list = r.networks;
      this.unknownTrust = r.unknownTrust;
      this.loadError = null;
    } catch (e) {
      this.loadError = `The networks could not be loaded: ${toApiError(e).message}`;
    } finally {
      this.loaded = true;
    }
  }

  apply(data: EventData<'networks.changed'>): void {
    this.list = data.networks;
    this.unknownTrust = data.unknownTrust;
  }

  /** The network an uplink is attached to now. */
  onInterface(name: string): Network | undefined {
    return this.list.find((n) => n.interfaces.includes(name));
  }

  async setTrust(id: string, trust: Trust | null): Promise<boolean> {
    this.busy[id] = true;
    delete this.errors[id];
    try {
      const n = await this.#client.call('networks.setTrust', { id, trust });
      const i = this.list.findIndex((x) => x.id === id);
      if (i >= 0) this.list[i] = n;
      return true;
    } catch (e) {
      this.errors[id] = `Could not change the network's trust: ${toApiError(e).message}`;
      return false;
    } finally {
      delete this.busy[id];
    }
  }

  async setUnknownTrust(trust: Trust): Promise<boolean> {
    this.unknownError = null;
    try {
      await this.#client.call('networks.setUnknownTrust', { trust });
      this.unknownTrust = trust;
      await this.load();
      return true;
    } catch (e) {
      this.unknownError = `Could not change the trust of unmarked networks: ${toApiError(e).message}`;
      return false;
    }
  }
}
