// Adding and removing tunnels from the UI. The list itself is RulesState.tunnels (the rule editor
// needs it too); after each change it is read again, so the helper's answer is what the view shows.
import type { Tunnel } from '#switchyard/api/schema.ts';
import { toApiError, type SwitchyardClient } from '../transport/types.ts';
import { inFormWords } from './helper-words.ts';
import type { Notices } from './notices.svelte.ts';
import type { RulesState } from './rules.svelte.ts';
import { TUNNEL_LABELS } from './tunnel-form.ts';
import type { ParamsIn } from '#switchyard/api/schema.ts';

const LABELS: Record<string, string> = { ...TUNNEL_LABELS, privateKey: 'Private key', cipher: 'Cipher' };

export class TunnelsState {
  /** A change in flight: the form and the remove buttons wait for the helper's answer. */
  busy = $state(false);
  /** The tunnel being removed. */
  removing = $state<string | null>(null);
  /** The list could not be read: said instead of "No tunnels yet", which would not be true. */
  loadError = $state<string | null>(null);
  #client: SwitchyardClient;
  #rules: RulesState;
  #notices: Notices | undefined;

  constructor(client: SwitchyardClient, rules: RulesState, notices?: Notices) {
    this.#client = client;
    this.#rules = rules;
    this.#notices = notices;
  }

  get list(): Tunnel[] {
    return this.#rules.tunnels;
  }

  /** The new tunnel (with this end's public key), or the helper's refusal in the form's words. */
  async add(params: ParamsIn<'tunnels.add'>): Promise<{ tunnel: Tunnel } | { error: string }> {
    this.busy = true;
    try {
      const tunnel = await this.#client.call('tunnels.add', params);
      await this.#rules.load();
      return { tunnel };
    } catch (e) {
      return { error: inFormWords(toApiError(e), LABELS) };
    } finally {
      this.busy = false;
    }
  }

  async remove(name: string): Promise<string | null> {
    this.removing = name;
    try {
      await this.#client.call('tunnels.remove', { name });
      await this.#rules.load();
      this.#notices?.info(`Tunnel ${name} removed.`);
      return null;
    } catch (e) {
      return `Could not remove ${name}: ${toApiError(e).message}`;
    } finally {
      this.removing = null;
    }
  }

  async refresh(): Promise<void> {
    try {
      this.#rules.tunnels = await this.#client.call('tunnels.list', {});
      this.loadError = null;
    } catch (e) {
      this.loadError = `The tunnels could not be read: ${toApiError(e).message}`;
    }
  }

  /** Tunnels' states, bytes and key groups change with no event: re-read them while shown. */
  watch(intervalMs = 3000): () => void {
    void this.refresh();
    const timer = setInterval(() => void this.refresh(), intervalMs);
    return () => clearInterval(timer);
  }
}
