// FakeHelper: a test and demo double of the helper plus the desktop shell, with generated but plausible
// data (apps, two uplinks, counters ticking once a second). Tests use it, and so does the UI's demo
// mode (`?demo`, chosen in ../transport/index.ts); never in production builds.
import { describeEgressSet } from '#switchyard/api/describe.ts';
import {
  ApiError,
  parseParams,
  type App,
  type EgressName,
  type EventEnvelope,
  type EventName,
  type Interface,
  type Params,
  type Status,
} from '#switchyard/api/schema.ts';
import type { HelperConnection, ShellInfo } from '#switchyard/api/shell-schema.ts';
import {
  ListenerSet,
  isHelperMethod,
  parseAnyResult,
  type AnyMethodName,
  type AnyParamsIn,
  type AnyResult,
  type EventMeta,
  type Listener,
  type SwitchyardClient,
  type UiEventName,
} from '../transport/types.ts';
import { USER, demoApps, demoHistory, demoInterfaces, prng, slug } from './demo-data.ts';
import { simulateSecond } from './demo-traffic.ts';
import { egressFor } from './egress-rule.ts';
import { connectionFor } from './fake-connection.ts';
import { explainFor } from './fake-explain.ts';
import { FakeNetworks, isNetworkMethod } from './fake-networks.ts';
import { FakeReactions, isEventMethod } from './fake-reactions.ts';
import { FakeRules, isRuleMethod } from './fake-rules.ts';
import { FakeModeDns, isModeDnsMethod } from './fake-mode-dns.ts';

/** Gateway mode's methods, whichever the schema has: the fake is no gateway and refuses them all. */
type GatewayMethodName = Extract<AnyMethodName, `gateway.${string}`>;
function isGatewayMethod(name: string): name is GatewayMethodName {
  return name.startsWith('gateway.');
}

export interface FakeHelperOptions {
  /** How many apps to generate (default 36). */
  apps?: number;
  seed?: number;
  /** Start counters ticking every second (default false; tests call tick()). */
  autoTick?: boolean;
  /** Take wlan0 down and up again now and then, to show failover (default false). */
  flap?: boolean;
  connection?: HelperConnection['state'];
  canAutostart?: boolean;
  /** Fixed clock for reproducible output. */
  now?: () => number;
  /** Seed past flags and quarantines and flag Firefox now (default true). */
  reactionHistory?: boolean;
}

export class FakeHelper implements SwitchyardClient {
  readonly kind = 'demo' as const;
  apps: App[] = [];
  interfaces: Interface[] = [];
  paused = false;
  override: EgressName | null = null;
  shell: ShellInfo;
  connectionState: HelperConnection;
  history: EventEnvelope[] = [];
  /** Encryption rules, groups and tunnels; networks and their trust. */
  rules: FakeRules;
  networks: FakeNetworks;
  /** Flags, quarantines, reaction templates, schedules and the audit trail. */
  reactions: FakeReactions;
  /** Include/exclude mode, LAN access per app, DNS servers per egress. */
  modeDns: FakeModeDns;
  /** Every call made, for tests to assert on. */
  calls: { method: string; params: unknown }[] = [];
  #listeners = new ListenerSet();
  #errors = new Set<(e: ApiError) => void>();
  #rand: () => number;
  #now: () => number;
  #seq = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #ticks = 0;
  #nextPid = 41_000;
  #flap: boolean;

  constructor(opts: FakeHelperOptions = {}) {
    this.#rand = prng(opts.seed ?? 7);
    this.#now = opts.now ?? (() => Date.now());
    this.#flap = opts.flap ?? false;
    this.shell = {
      mode: 'web',
      version: '0.1.0',
      canAutostart: opts.canAutostart ?? true,
      autostart: false,
      helperSocket: '/run/switchyard/helper.sock',
    };
    this.connectionState = connectionFor(opts.connection ?? 'connected');
    this.interfaces = demoInterfaces();
    this.apps = demoApps(opts.apps ?? 36, this.#rand, () => this.#nextPid++);
    this.#recompute();
    this.rules = new FakeRules({
      apps: () => new Set(this.apps.map((a) => a.id)),
      now: this.#now,
      emit: (event, data) => this.emit(event, data),
      rand: this.#rand,
      expired: (rules) => this.reactions.rulesExpired(rules),
    });
    this.reactions = new FakeReactions(
      {
        apps: () => this.apps,
        rules: this.rules,
        now: this.#now,
        emit: (event, data) => this.emit(event, data),
        rand: this.#rand,
        heldChanged: (ids) => this.#heldChanged(ids),
      },
      { history: opts.reactionHistory ?? true },
    );
    for (const app of this.apps) app.held = this.reactions.heldOf(app.id);
    this.modeDns = new FakeModeDns({
      apps: () => this.apps,
      interfaces: () => this.interfaces,
      appChanged: (app) =>
        this.emit('app.changed', { app: structuredClone(app), id: app.id, removed: false }),
      policyChanged: (summary) => this.emit('policy.changed', { app: null, summary, actor: USER }),
    });
    this.networks = new FakeNetworks({
      now: this.#now(),
      emit: (event, data) => this.emit(event, data),
      changed: (summary) => this.rules.followTrust(summary),
    });
    for (const past of demoHistory(this.apps, this.#rand, this.#now()))
      this.#record(past.event, past.data, past.time);
    if (opts.autoTick) this.#timer = setInterval(() => this.#second(), 1000);
  }

  // ---------- state and events ----------

  /** Recompute every app's egress and every interface's tagged apps; returns the apps that changed. */
  #recompute(): App[] {
    const usable = new Set(this.interfaces.filter((i) => i.usable).map((i) => i.name));
    const changed: App[] = [];
    for (const app of this.apps) {
      const next = egressFor(
        this.override && app.choice.mode !== 'block'
          ? // As the helper: the override keeps the app's own kill switch (policy/evaluate.ts effectiveChoice).
            {
              mode: 'ordered',
              egresses: [this.override],
              killSwitch: app.choice.mode === 'ordered' && app.choice.killSwitch,
            }
          : app.choice,
        usable,
        this.paused,
      );
      if (next.state !== app.egress.state || next.active !== app.egress.active) {
        app.egress = next;
        changed.push(app);
      }
    }
    for (const i of this.interfaces)
      i.apps = this.apps.filter((a) => a.egress.active === i.name).map((a) => a.id);
    return changed;
  }

  #record(event: EventName, data: unknown, time?: string): EventMeta {
    const meta = { seq: ++this.#seq, time: time ?? new Date(this.#now()).toISOString() };
    if (event !== 'counters') {
      this.history.push({ event, seq: meta.seq, time: meta.time, data });
      if (this.history.length > 5000) this.history.shift();
    }
    return meta;
  }

  /** Apps whose flags or quarantines changed: their `held`, and an app.changed each, as the helper's view events. */
  #heldChanged(ids: readonly string[]): void {
    for (const id of new Set(ids)) {
      const app = this.apps.find((a) => a.id === id);
      if (!app) continue;
      app.held = this.reactions.heldOf(id);
      this.emit('app.changed', { app: structuredClone(app), id, removed: false });
    }
  }

  /** Record and deliver an event as the helper would. */
  emit(event: EventName, data: unknown): void {
    const meta = this.#record(event, data);
    if (this.connectionState.state === 'connected') this.#listeners.emit(event, data, meta);
  }

  // ---------- live behaviour ----------

  #retryIn = 5;

  /** The demo clock: counters when connected, otherwise a retry every five seconds (that fails again). */
  #second() {
    if (this.connectionState.state === 'connected') return this.tick();
    if (--this.#retryIn <= 0) {
      this.#retryIn = 5;
      this.#listeners.emit('shell.connection', this.connectionState);
    }
  }

  /** One second passes: rates wander, byte counters grow, and a counters event goes out. */
  tick(): void {
    this.#ticks++;
    if (this.#flap && this.#ticks % 45 === 20) this.setUsable('wlan0', false);
    if (this.#flap && this.#ticks % 45 === 35) this.setUsable('wlan0', true);
    simulateSecond(this.apps, this.interfaces, this.#rand, this.#ticks);
    this.rules.tick();
    this.reactions.tick();
    this.emit('counters', {
      at: this.#now(),
      apps: this.apps.map((a) => ({ id: a.id, ...a.counters })),
      interfaces: this.interfaces.map((i) => ({ name: i.name, ...i.counters })),
    });
  }

  /** Bring an uplink's usability up or down, failing apps over as the helper would. */
  setUsable(name: string, usable: boolean): void {
    const iface = this.interfaces.find((i) => i.name === name);
    if (!iface || iface.usable === usable) return;
    const before = new Map(this.apps.map((a) => [a.id, { ...a.egress }]));
    iface.usable = usable;
    iface.up = usable;
    const changed = this.#recompute();
    this.emit('interface.changed', { interface: structuredClone(iface), name, removed: false });
    for (const app of changed) {
      const was = before.get(app.id);
      if (app.egress.state === 'killed' && app.choice.mode === 'ordered')
        this.emit('egress.killed', { app: app.id, egresses: app.choice.egresses });
      else if (app.egress.state === 'routed' && app.egress.active)
        this.emit('egress.restored', { app: app.id, egress: app.egress.active });
      else if (app.egress.state === 'failed-over' || app.egress.state === 'fallback-default')
        this.emit('egress.failover', { app: app.id, from: was?.active ?? null, to: app.egress.active });
      this.emit('app.changed', { app: structuredClone(app), id: app.id, removed: false });
    }
  }

  /** Switch the simulated helper connection (tests and the demo's ?helper=… use this). */
  setConnection(state: HelperConnection['state']): void {
    this.connectionState = connectionFor(state);
    this.#listeners.emit('shell.connection', this.connectionState);
  }

  retryNow(): void {
    this.#listeners.emit('shell.connection', this.connectionState);
  }

  // ---------- the client interface ----------

  async call<M extends AnyMethodName>(method: M, params: AnyParamsIn<M>): Promise<AnyResult<M>> {
    this.calls.push({ method, params });
    await Promise.resolve();
    if (isHelperMethod(method) && this.connectionState.state !== 'connected')
      throw new ApiError('UNAVAILABLE', this.connectionState.message);
    const p = isHelperMethod(method) ? parseParams(method, params) : (params ?? {});
    const result = this.#handle(method, p);
    // Run our own output through the schema so the fake can never drift from the real API.
    return parseAnyResult(method, structuredClone(result));
  }

  #app(id: string): App {
    const app = this.apps.find((a) => a.id === id);
    if (!app) throw new ApiError('NOT_FOUND', `There is no app called ${id}; refresh the app list.`);
    return app;
  }

  #status(): Status {
    return {
      version: '0.1.0',
      apiVersion: 1,
      instance: 'default',
      pid: 812,
      startedAt: new Date(this.#now() - 5 * 3600_000).toISOString(),
      paused: this.paused,
      override: this.override,
      cgroupRoot: '/sys/fs/cgroup/unified/switchyard.slice',
      policyPath: '/var/lib/switchyard/default/policy.json',
      managedPolicyPath: '/etc/switchyard/managed.json',
      apps: {
        total: this.apps.length,
        // As the helper counts: apps with a choice of their own (pinned ones are app.managed).
        managed: this.apps.filter((a) => a.choice.mode !== 'default').length,
        running: this.apps.filter((a) => a.pids.length).length,
      },
      killed: this.apps.filter((a) => a.egress.state === 'killed').map((a) => a.id),
      held: this.apps.filter((a) => a.held.length).map((a) => a.id),
      health: 'ok',
      problems: [],
    };
  }

  #handle(method: AnyMethodName, params: unknown): unknown {
    if (isNetworkMethod(method)) return this.networks.handle(method, params);
    if (isRuleMethod(method)) return this.rules.handle(method, params);
    if (isModeDnsMethod(method)) return this.modeDns.handle(method, params);
    if (isEventMethod(method)) return this.reactions.handle(method, params);
    if (isGatewayMethod(method)) throw new ApiError('UNAVAILABLE', `${method} is not available in the demo.`);
    switch (method) {
      case 'status.get':
        return this.#status();
      case 'apps.list':
        return this.apps;
      case 'apps.get':
        return this.#app((params as Params<'apps.get'>).id);
      case 'processes.list':
        // What a desktop runs: a browser that is an app already, and a script no app claims yet.
        return [
          {
            exe: '/usr/bin/python3.11',
            cmdline: 'python3 /home/me/bin/backup.py --daily',
            processes: 1,
            uid: 1000,
            app: null,
          },
          ...this.apps
            .filter((a) => a.matchers.exe?.length)
            .map((a) => ({
              exe: a.matchers.exe![0]!,
              cmdline: a.matchers.exe![0]!,
              processes: 1,
              uid: 1000,
              app: a.id,
            })),
        ];
      case 'interfaces.list':
        return this.interfaces;
      case 'egress.set': {
        const { app: id, choice } = params as Params<'egress.set'>;
        const app = this.#app(id);
        if (app.managed)
          throw new ApiError(
            'MANAGED',
            `${app.name} is pinned by the managed policy; ask your administrator to change it.`,
          );
        app.choice = choice;
        this.#recompute();
        this.emit('policy.changed', {
          app: id,
          summary: describeEgressSet(app.name, choice),
          actor: USER,
        });
        this.emit('app.changed', { app: structuredClone(app), id, removed: false });
        return app;
      }
      case 'apps.launch': {
        const { id } = params as Params<'apps.launch'>;
        const app = this.#app(id);
        const pid = this.#nextPid++;
        app.pids = [...app.pids, pid];
        this.emit('adoption', {
          app: id,
          pid,
          exe: app.matchers.exe?.[0] ?? '/usr/bin/app',
          latencyUs: 0,
          via: 'run',
        });
        this.emit('app.changed', { app: structuredClone(app), id, removed: false });
        return { pid };
      }
      case 'apps.enroll': {
        const { id, pid } = params as Params<'apps.enroll'>;
        const app = this.#app(id);
        app.pids = [...app.pids, pid];
        return { cgroup: `/sys/fs/cgroup/unified/switchyard.slice/${id}`, tag: app.tag };
      }
      case 'apps.add': {
        const p = params as Params<'apps.add'>;
        const id = p.id ?? slug(p.name);
        if (this.apps.some((a) => a.id === id))
          throw new ApiError('CONFLICT', `An app called ${id} already exists; pick another id.`);
        const app: App = {
          id,
          name: p.name,
          icon: p.icon ?? null,
          source: 'manual',
          matchers: p.matchers,
          tag: this.apps.length + 1,
          choice: { mode: 'default' },
          managed: false,
          pids: [],
          egress: { state: this.paused ? 'paused' : 'default', active: null },
          counters: { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 },
          held: [],
        };
        this.apps.push(app);
        this.emit('app.changed', { app: structuredClone(app), id, removed: false });
        return app;
      }
      case 'apps.remove': {
        const { id } = params as Params<'apps.remove'>;
        const gone = this.#app(id);
        // As the helper: only hand-added apps go; a desktop file's app would come back on the next scan.
        if (gone.source !== 'manual')
          throw new ApiError(
            'CONFLICT',
            `${gone.name} comes from its desktop file; set its egress to default instead of removing it`,
          );
        if (gone.managed) throw new ApiError('MANAGED', `${gone.name} is pinned by the managed policy`);
        this.apps = this.apps.filter((a) => a.id !== id);
        this.emit('app.changed', { app: null, id, removed: true });
        return { ok: true };
      }
      case 'catalog.refresh':
        return { apps: this.apps.length };
      case 'policy.pause': {
        this.paused = (params as Params<'policy.pause'>).paused;
        for (const app of this.#recompute())
          this.emit('app.changed', { app: structuredClone(app), id: app.id, removed: false });
        this.emit('policy.changed', {
          app: null,
          summary: this.paused ? 'All policies paused' : 'Policies resumed',
          actor: USER,
        });
        return this.#status();
      }
      case 'policy.override': {
        this.override = (params as Params<'policy.override'>).egress;
        for (const app of this.#recompute())
          this.emit('app.changed', { app: structuredClone(app), id: app.id, removed: false });
        this.emit('policy.changed', {
          app: null,
          summary: this.override ? `everything sent through ${this.override}` : 'override turned off',
          actor: USER,
        });
        return this.#status();
      }
      case 'explain':
        return explainFor(
          this.#app((params as Params<'explain'>).app),
          this.interfaces,
          params as Params<'explain'>,
        );
      case 'events.subscribe':
        return { ok: true };
      // A tunnel's state changes only through FakeRules (setTunnelState, setKeyGroup); it is no gateway.
      case 'tunnels.list':
        return structuredClone(this.rules.tunnels);
      case 'tunnels.add':
        return this.rules.addTunnel(params as Params<'tunnels.add'>);
      case 'tunnels.remove':
        this.rules.removeTunnel((params as Params<'tunnels.remove'>).name);
        return { ok: true };
      // The fake sees no traffic: its history of connections stays empty.
      case 'connections.list':
        return { connections: [], tracking: true, problem: null };
      case 'events.history': {
        const { limit } = params as Params<'events.history'>;
        return this.history.slice(-limit);
      }
      case 'shell.info':
        return this.shell;
      case 'shell.setAutostart': {
        if (!this.shell.canAutostart)
          throw new ApiError('UNAVAILABLE', 'This desktop cannot start apps at login.');
        this.shell = { ...this.shell, autostart: (params as { enabled: boolean }).enabled };
        return this.shell;
      }
      case 'shell.connection':
        return this.connectionState;
      case 'shell.exportEvents':
        return { path: `/home/alice/switchyard-events.${(params as { format: string }).format}` };
    }
    throw new ApiError(
      'UNKNOWN_METHOD',
      `${method satisfies never as string} is not implemented by the fake.`,
    );
  }

  on<E extends UiEventName>(event: E, listener: Listener<E>): () => void {
    return this.#listeners.add(event, listener as (d: unknown, m: EventMeta) => void);
  }

  onProtocolError(listener: (error: ApiError) => void): () => void {
    this.#errors.add(listener);
    return () => this.#errors.delete(listener);
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
