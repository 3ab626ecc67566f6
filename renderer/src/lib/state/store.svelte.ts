// Wires one client to the state modules: loads everything when the helper is reachable and keeps it
// current from events. Views get the store from context and never talk to the client themselves.
import { getContext, setContext } from 'svelte';
import type { ApiError } from '#switchyard/api/schema.ts';
import { toApiError, type SwitchyardClient } from '../transport/types.ts';
import { ActivityState } from './activity.svelte.ts';
import { AppsState } from './apps.svelte.ts';
import { AuditState } from './audit.svelte.ts';
import { ConnectionState } from './connection.svelte.ts';
import { GroupsState } from './groups.svelte.ts';
import { HeldState } from './held.svelte.ts';
import { InterfacesState } from './interfaces.svelte.ts';
import { ModeState } from './mode.svelte.ts';
import { NetworksState } from './networks.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { PolicySwitches } from './policy-switches.svelte.ts';
import { summarizeProblems } from './problems.ts';
import { unavailableWords } from './availability.ts';
import { RulesState } from './rules.svelte.ts';
import { SettingsState } from './settings.svelte.ts';

/** How often the tunnels' state is read again for the problems summary. */
const TUNNEL_RECHECK_MS = 5000;

export class Store {
  readonly client: SwitchyardClient;
  readonly notices = new Notices();
  readonly connection = new ConnectionState();
  readonly apps: AppsState;
  readonly interfaces: InterfacesState;
  readonly activity: ActivityState;
  readonly settings: SettingsState;
  readonly rules: RulesState;
  readonly groups: GroupsState;
  readonly networks: NetworksState;
  readonly held: HeldState;
  readonly audit: AuditState;
  readonly switches: PolicySwitches;
  readonly mode: ModeState;
  /** The sidebar's summary of problems, each with where its cause is shown. */
  readonly health = $derived.by(() =>
    summarizeProblems({
      status: this.settings.status,
      apps: this.apps.list,
      interfaces: this.interfaces.list,
      tunnels: this.rules.tunnels,
      holding: this.rules.holding,
    }),
  );
  /** The word each unusable egress goes by (down; a tunnel's connecting/up/down), for every menu. */
  readonly unavailable = $derived.by(() => unavailableWords(this.interfaces.list, this.rules.tunnels));
  /** Helper problems and unreadable messages, shown as a banner until dismissed. */
  problems = $state<string[]>([]);
  #off: (() => void)[] = [];
  #wasConnected = false;

  constructor(client: SwitchyardClient) {
    this.client = client;
    this.apps = new AppsState(client, this.notices);
    this.interfaces = new InterfacesState(client);
    this.activity = new ActivityState(client, (id) => this.apps.nameOf(id));
    this.settings = new SettingsState(client);
    this.rules = new RulesState(client, this.notices);
    this.groups = new GroupsState(client);
    this.networks = new NetworksState(client);
    this.held = new HeldState(client, this.apps, this.notices);
    this.audit = new AuditState(client);
    this.switches = new PolicySwitches(client, this.settings, this.notices);
    this.mode = new ModeState(client);
  }

  /** Subscribe to everything and load; resolves once the first connection state is known. */
  async start(): Promise<void> {
    const c = this.client;
    this.#off.push(
      c.on('shell.connection', (conn) => this.#onConnection(conn)),
      c.on('counters', (d) => {
        this.apps.applyCounters(d);
        this.interfaces.applyCounters(d);
      }),
      c.on('app.changed', (d) => {
        this.apps.applyChanged(d);
        this.interfaces.retagApp(d.id, d.removed ? null : (d.app?.egress.active ?? null));
        this.held.syncClock();
        if (this.settings.status) void this.settings.loadStatus();
      }),
      c.on('interface.changed', (d, m) => {
        this.interfaces.applyChanged(d);
        this.activity.add('interface.changed', d, m);
        // Tunnels are interfaces: a rule's problem follows its tunnel.
        this.rules.refreshSoon();
        // An egress that stops being usable may come with a problem of the helper's (a WireGuard peer
        // not answering), which the sidebar reads from the status.
        if (this.settings.status) void this.settings.loadStatus();
      }),
      c.on('rules.changed', (d) => {
        this.rules.applyList(d);
        // A rule's problem may be its key group's session coming or going: the tunnels say which.
        void this.rules.loadTunnels();
      }),
      c.on('rule.expired', (d, m) => {
        this.rules.applyExpired(d);
        this.activity.add('rule.expired', d, m);
      }),
      // Pause and override from the CLI change no app when no route moves: the status says they are on.
      c.on('policy.changed', () => {
        void this.settings.loadStatus();
        void this.mode.load(); // include/exclude mode from the CLI or the tray
      }),
      c.on('groups.changed', (d) => this.groups.apply(d)),
      c.on('networks.changed', (d) => this.networks.apply(d)),
      c.on('reactions.changed', (d) => this.held.apply(d)),
      c.on('app.flagged', (d) => this.held.flagged(d)),
      c.on('audit.appended', (d) => this.audit.append(d)),
      c.on('helper.problem', (d, m) => {
        this.activity.add('helper.problem', d, m);
        if (d.severity === 'error') this.problems.push(d.message);
      }),
      c.onProtocolError((e: ApiError) => {
        if (this.problems.length < 5) this.problems.push(e.message);
      }),
    );
    // A tunnel's handshake and problem change without an event of their own: the sidebar's summary
    // reads them again every few seconds while there are tunnels.
    const tunnelWatch = setInterval(() => {
      if (this.rules.tunnels.length && this.connection.current?.state === 'connected')
        void this.rules.loadTunnels();
    }, TUNNEL_RECHECK_MS);
    this.#off.push(() => clearInterval(tunnelWatch));
    for (const name of [
      'adoption',
      'egress.failover',
      'egress.killed',
      'egress.restored',
      'policy.changed',
    ] as const)
      this.#off.push(c.on(name, (d, m) => this.activity.add(name, d, m)));
    const known = c.currentConnection?.();
    if (known) {
      // The WebSocket knows its own state; asking over a socket that is not open yet would fail.
      this.#onConnection(known);
      return;
    }
    void this.settings.loadShell();
    try {
      this.#onConnection(await c.call('shell.connection', {}));
    } catch (e) {
      // The shell will send shell.connection when it knows more; until then we are connecting.
      this.#onConnection({
        state: 'connecting',
        message: `Waiting for the desktop shell: ${toApiError(e).message}`,
        socket: '',
        retryInMs: null,
      });
    }
  }

  #onConnection(conn: Parameters<ConnectionState['set']>[0]) {
    this.connection.set(conn);
    const connected = conn.state === 'connected';
    if (connected && !this.#wasConnected) {
      void this.reload();
      if (!this.settings.shell) void this.settings.loadShell();
    }
    this.#wasConnected = connected;
  }

  async reload(): Promise<void> {
    // Apps first: the activity log names apps by their names.
    await Promise.all([
      this.apps.load(),
      this.interfaces.load(),
      this.settings.loadStatus(),
      this.mode.load(),
      this.rules.load(),
      this.groups.load(),
      this.networks.load(),
      this.held.load(),
      ...(this.audit.loaded ? [this.audit.load()] : []),
    ]);
    this.held.syncClock();
    await this.activity.load();
  }

  dismissProblem(i: number): void {
    this.problems.splice(i, 1);
  }

  dispose(): void {
    for (const off of this.#off) off();
    this.#off = [];
    this.connection.dispose();
    this.rules.dispose();
    this.held.dispose();
    this.client.close();
  }
}

const KEY = Symbol('switchyard.store');

export function provideStore(store: Store): Store {
  return setContext(KEY, store);
}

export function useStore(): Store {
  const store = getContext<Store | undefined>(KEY);
  if (!store) throw new Error('useStore() needs provideStore() in a parent component.');
  return store;
}
