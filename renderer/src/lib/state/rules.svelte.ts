// Encryption rules as the UI sees them: the ordered list (managed, event, user), the trust defaults and
// the tunnels an encrypt rule can name. Loaded on connect; rules.changed replaces the list whole.
import type {
  EventData,
  Group,
  RuleAction,
  RuleInput,
  RuleView,
  Trust,
  Tunnel,
} from '#switchyard/api/schema.ts';
import type { RuleLayer, TrustDefaults } from '#switchyard/api/rules-model.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';
import type { Notices } from './notices.svelte.ts';
import { ruleCoversApp as coversApp } from '#switchyard/api/rules-model.ts';

export type Outcome = { ok: true } | { ok: false; error: string };

export const RULE_LAYERS = ['managed', 'event', 'user'] as const satisfies readonly RuleLayer[];

/** `before` for rules.move when a rule of a layer goes from index `from` to index `to` of that layer. */
export function beforeFor(
  layer: readonly { id: string }[],
  from: number,
  to: number,
): string | null | undefined {
  if (from < 0 || from >= layer.length || to < 0 || to >= layer.length || from === to) return undefined;
  if (to < from) return layer[to]!.id;
  return layer[to + 1]?.id ?? null;
}

export class RulesState {
  rules = $state<RuleView[]>([]);
  defaults = $state<TrustDefaults | null>(null);
  tunnels = $state<Tunnel[]>([]);
  loaded = $state(false);
  loadError = $state<string | null>(null);
  /** A change in flight: the controls wait for the helper's answer. */
  busy = $state(false);
  /** The last failed change, shown above the list. */
  error = $state<string | null>(null);
  /** The clock the expiry countdowns read, ticking while a rule expires. */
  now = $state(Date.now());

  byLayer = $derived(
    Object.fromEntries(RULE_LAYERS.map((l) => [l, this.rules.filter((r) => r.layer === l)])) as Record<
      (typeof RULE_LAYERS)[number],
      RuleView[]
    >,
  );
  /** Rules that hold traffic now (e.g. an encrypt rule whose tunnel is down). */
  holding = $derived(this.rules.filter((r) => r.problem));

  #client: SwitchyardClient;
  #notices: Notices | undefined;
  #clock: ReturnType<typeof setInterval> | null = null;
  #refresh: ReturnType<typeof setTimeout> | null = null;

  constructor(client: SwitchyardClient, notices?: Notices) {
    this.#client = client;
    this.#notices = notices;
  }

  async load(): Promise<void> {
    try {
      this.applyList(await this.#client.call('rules.list', {}));
      this.loadError = null;
    } catch (e) {
      this.loadError = `The rules could not be loaded: ${toApiError(e).message}`;
    } finally {
      this.loaded = true;
    }
    await this.loadTunnels();
  }

  async loadTunnels(): Promise<void> {
    try {
      this.tunnels = await this.#client.call('tunnels.list', {});
    } catch {
      // The editor says there is no tunnel to pick; the rules themselves still show.
      this.tunnels = [];
    }
  }

  applyList(list: EventData<'rules.changed'>): void {
    this.rules = list.rules;
    this.defaults = list.defaults;
    this.#syncClock();
  }

  applyExpired(data: EventData<'rule.expired'>): void {
    const i = this.rules.findIndex((r) => r.id === data.id);
    if (i >= 0) this.rules.splice(i, 1);
    this.#notices?.info(`Rule “${data.name}” expired.`);
  }

  /**
   * A rule's problem and counters follow its tunnel and traffic, which rules.changed does not report;
   * read the list again shortly after an interface (a tunnel is one) changes.
   */
  refreshSoon(delayMs = 400): void {
    if (this.#refresh) return;
    this.#refresh = setTimeout(() => {
      this.#refresh = null;
      void this.load();
    }, delayMs);
  }

  /** Re-read the list (its counters) every few seconds while a view shows them; returns the stop. */
  watch(intervalMs = 5000): () => void {
    const timer = setInterval(() => void this.load(), intervalMs);
    return () => clearInterval(timer);
  }

  forApp(appId: string, groups: readonly Group[]): RuleView[] {
    return this.rules.filter((r) => coversApp(r, appId, groups));
  }

  async #change(what: string, fn: () => Promise<unknown>): Promise<Outcome> {
    this.busy = true;
    this.error = null;
    try {
      await fn();
      // The event brings the new list too; reading it makes the answer the truth without one.
      await this.load();
      return { ok: true };
    } catch (e) {
      const error = `Could not ${what}: ${toApiError(e).message}`;
      this.error = error;
      return { ok: false, error };
    } finally {
      this.busy = false;
    }
  }

  add(rule: RuleInput, before?: string): Promise<Outcome> {
    return this.#change('add the rule', () =>
      this.#client.call('rules.add', before ? { rule, before } : { rule }),
    );
  }

  remove(id: string): Promise<Outcome> {
    return this.#change('delete the rule', () => this.#client.call('rules.remove', { id }));
  }

  move(id: string, before: string | null): Promise<Outcome> {
    return this.#change('move the rule', () => this.#client.call('rules.move', { id, before }));
  }

  /** Move a rule within its layer from one index to another (keyboard, buttons, drag and drop). */
  async moveWithin(id: string, to: number): Promise<Outcome | null> {
    const rule = this.rules.find((r) => r.id === id);
    if (!rule || rule.locked || rule.layer === 'default') return null;
    const layer = this.rules.filter((r) => r.layer === rule.layer);
    const before = beforeFor(layer, layer.indexOf(rule), to);
    if (before === undefined) return null;
    return this.move(id, before);
  }

  setDefault(trust: Trust, action: RuleAction): Promise<Outcome> {
    return this.#change(`change the default for ${trust} networks`, () =>
      this.#client.call('rules.setDefault', { trust, action }),
    );
  }

  #syncClock(): void {
    const expiring = this.rules.some((r) => r.expiresAt);
    this.now = Date.now();
    if (expiring && !this.#clock) this.#clock = setInterval(() => (this.now = Date.now()), 1000);
    if (!expiring && this.#clock) {
      clearInterval(this.#clock);
      this.#clock = null;
    }
  }

  dispose(): void {
    if (this.#clock) clearInterval(this.#clock);
    if (this.#refresh) clearTimeout(this.#refresh);
    this.#clock = null;
    this.#refresh = null;
  }
}
