// FakeHelper: a test and demo double of the helper plus the desktop shell, with generated but plausible
// data (apps, two uplinks, counters ticking once a second). Never used in production builds.
import {
  ApiError,
  parseParams,
  type App,
  type EgressChoice,
  type EgressName,
  type EventEnvelope,
  type EventName,
  type Explanation,
  type HelperConnection,
  type Interface,
  type Params,
  type ShellInfo,
  type Status,
} from '../../../../native-helper/src/api/schema.ts';
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
} from './types.ts';

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
}

const BASE_NAMES = [
  'Lab Browser',
  'Firefox',
  'Chromium',
  'Thunderbird',
  'Signal',
  'Slack',
  'Discord',
  'Spotify',
  'Steam',
  'Telegram',
  'Transmission',
  'VLC',
  'Zoom',
  'Visual Studio Code',
  'GNOME Software',
  'Evolution',
  'Element',
  'Nextcloud',
  'Syncthing',
  'KeePassXC',
  'Obsidian',
  'LibreOffice',
  'GIMP',
  'Inkscape',
  'Blender',
  'OBS Studio',
  'qBittorrent',
  'Remmina',
  'Wireshark',
  'Terminal',
  'curl',
  'Podman',
  'Git',
  'Dropbox',
  'Brave',
  'Lutris',
  'Fractal',
  'Geary',
  'Calibre',
  'Audacity',
  'Krita',
  'Shotwell',
  'Rhythmbox',
  'Tor Browser',
];
const SUFFIXES = ['', ' Beta', ' Nightly', ' Dev', ' Flatpak', ' Portable', ' Preview', ' Canary'];
const ICON_COLOURS = ['#2f6fde', '#d9480f', '#2b8a3e', '#862e9c', '#c2255c', '#0b7285', '#e67700'];

/** Small deterministic PRNG (mulberry32) so screenshots and tests are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function svgIcon(letter: string, colour: string): string {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="${colour}"/>` +
    `<circle cx="16" cy="16" r="9" fill="none" stroke="#fff" stroke-width="2.5"/>` +
    `<text x="16" y="20.5" font-family="sans-serif" font-size="11" font-weight="700" fill="#fff" text-anchor="middle">${letter}</text></svg>`;
  return `data:image/svg+xml;base64,${btoa(svg)}`;
}

/** Where traffic goes for a choice, given which interfaces are usable. Mirrors the helper's rule. */
export function egressFor(choice: EgressChoice, usable: ReadonlySet<string>, paused: boolean): App['egress'] {
  if (paused) return { state: 'paused', active: null };
  if (choice.mode === 'default') return { state: 'default', active: null };
  if (choice.mode === 'block') return { state: 'blocked', active: null };
  const i = choice.egresses.findIndex((e) => usable.has(e));
  if (i === 0) return { state: 'routed', active: choice.egresses[0] ?? null };
  if (i > 0) return { state: 'failed-over', active: choice.egresses[i] ?? null };
  return choice.killSwitch ? { state: 'killed', active: null } : { state: 'fallback-default', active: null };
}

const USER = { uid: 1000, user: 'alice', via: 'api' as const };

export class FakeHelper implements SwitchyardClient {
  readonly kind = 'demo' as const;
  apps: App[] = [];
  interfaces: Interface[] = [];
  paused = false;
  override: EgressName | null = null;
  shell: ShellInfo;
  connectionState: HelperConnection;
  history: EventEnvelope[] = [];
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
    this.connectionState = this.#connectionFor(opts.connection ?? 'connected');
    this.#generate(opts.apps ?? 36);
    this.#seedHistory();
    if (opts.autoTick) this.#timer = setInterval(() => this.#second(), 1000);
  }

  #connectionFor(state: HelperConnection['state']): HelperConnection {
    const socket = '/run/switchyard/helper.sock';
    const messages: Record<HelperConnection['state'], string> = {
      connected: 'Connected to the helper.',
      connecting: 'Connecting to the helper…',
      absent: `The Switchyard helper is not running (nothing listens on ${socket}).`,
      refused: `You may not talk to the helper: ${socket} belongs to the switchyard group and you are not in it.`,
      incompatible:
        'The helper speaks API version 2 and this app speaks version 1; install matching versions.',
    };
    return { state, message: messages[state], socket, retryInMs: state === 'connected' ? null : 5000 };
  }

  // ---------- data ----------

  #generate(count: number) {
    const r = this.#rand;
    this.interfaces = [
      this.#iface('lo', 1, 'loopback', [{ family: 4, address: '127.0.0.1', prefixLength: 8 }], [], null),
      this.#iface(
        'wlan0',
        3,
        'wifi',
        [
          { family: 4, address: '192.168.1.23', prefixLength: 24 },
          { family: 6, address: 'fd5a:1::23', prefixLength: 64 },
        ],
        [
          { family: 4, address: '192.168.1.1' },
          { family: 6, address: 'fd5a:1::1' },
        ],
        '3c:22:fb:18:4a:01',
      ),
      this.#iface(
        'enp3s0',
        2,
        'ethernet',
        [{ family: 4, address: '10.0.0.42', prefixLength: 24 }],
        [{ family: 4, address: '10.0.0.1' }],
        '00:1b:21:aa:07:3e',
      ),
    ];
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) {
      const base = BASE_NAMES[i % BASE_NAMES.length] ?? 'App';
      const round = Math.floor(i / BASE_NAMES.length);
      const name =
        round === 0
          ? base
          : `${base}${SUFFIXES[round % SUFFIXES.length]}${round >= SUFFIXES.length ? ` ${round}` : ''}`;
      let id = slug(name).slice(0, 60) || `app-${i}`;
      while (seen.has(id)) id = `${id}-${i}`;
      seen.add(id);
      const roll = r();
      const choice: EgressChoice =
        name === 'Lab Browser' || roll < 0.4
          ? { mode: 'default' }
          : roll < 0.5
            ? { mode: 'block' }
            : {
                mode: 'ordered',
                egresses: r() < 0.6 ? ['wlan0', 'enp3s0'] : r() < 0.5 ? ['enp3s0', 'wlan0'] : ['enp3s0'],
                killSwitch: r() < 0.4,
              };
      const running = name === 'Lab Browser' ? false : r() < 0.45;
      const pids = running ? Array.from({ length: 1 + Math.floor(r() * 9) }, () => this.#nextPid++) : [];
      const source = name.includes('Flatpak')
        ? 'flatpak'
        : name === 'curl' || name === 'Git'
          ? 'process'
          : 'desktop';
      const exe = `/usr/bin/${slug(base)}`;
      this.apps.push({
        id,
        name,
        icon: r() < 0.3 ? svgIcon(name[0] ?? '?', ICON_COLOURS[i % ICON_COLOURS.length] ?? '#555') : null,
        source,
        matchers:
          source === 'flatpak'
            ? { flatpakId: `org.example.${slug(base).replace(/-/g, '')}` }
            : { exe: [exe], desktopId: `${slug(base)}.desktop` },
        tag: i + 1,
        choice,
        managed: i % 13 === 5,
        pids,
        egress: { state: 'default', active: null },
        counters: { txBytes: Math.floor(r() * 5e8), rxBytes: Math.floor(r() * 5e9), txRate: 0, rxRate: 0 },
      });
    }
    this.#recompute();
  }

  #iface(
    name: string,
    index: number,
    kind: Interface['kind'],
    addresses: Interface['addresses'],
    gateways: Interface['gateways'],
    mac: string | null,
  ): Interface {
    return {
      name,
      index,
      kind,
      up: true,
      usable: kind !== 'loopback',
      mac,
      mtu: kind === 'loopback' ? 65536 : 1500,
      addresses,
      gateways,
      apps: [],
      counters: { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 },
    };
  }

  /** Recompute every app's egress and every interface's tagged apps; returns the apps that changed. */
  #recompute(): App[] {
    const usable = new Set(this.interfaces.filter((i) => i.usable).map((i) => i.name));
    const changed: App[] = [];
    for (const app of this.apps) {
      const next = egressFor(
        this.override && app.choice.mode !== 'block'
          ? { mode: 'ordered', egresses: [this.override], killSwitch: false }
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

  #seedHistory() {
    const r = this.#rand;
    const start = this.#now() - 3 * 3600_000;
    const running = this.apps.filter((a) => a.pids.length);
    for (let k = 0; k < 60; k++) {
      const t = new Date(start + k * 170_000).toISOString();
      const app = this.apps[Math.floor(r() * this.apps.length)] as App;
      const roll = r();
      if (roll < 0.45 && running.length) {
        const ra = running[Math.floor(r() * running.length)] as App;
        this.#record(
          'adoption',
          {
            app: ra.id,
            pid: ra.pids[0] ?? 1,
            exe: ra.matchers.exe?.[0] ?? '/usr/bin/app',
            latencyUs: Math.round(150 + r() * 900),
            via: r() < 0.8 ? 'exec' : 'scan',
          },
          t,
        );
      } else if (roll < 0.65) {
        this.#record(
          'policy.changed',
          {
            app: app.id,
            summary: `${app.name}: egress set to ${describeChoice(app.choice)}`,
            actor: app.managed ? { uid: 0, user: 'root', via: 'managed' } : USER,
          },
          t,
        );
      } else if (roll < 0.78) {
        this.#record('egress.failover', { app: app.id, from: 'wlan0', to: 'enp3s0' }, t);
      } else if (roll < 0.86) {
        this.#record('egress.killed', { app: app.id, egresses: ['wlan0'] }, t);
      } else if (roll < 0.95) {
        this.#record('egress.restored', { app: app.id, egress: 'wlan0' }, t);
      } else {
        this.#record(
          'helper.problem',
          { message: 'wlan0 lost its default route; apps on it failed over.', severity: 'warning' },
          t,
        );
      }
    }
  }

  #record(event: EventName, data: unknown, time?: string): EventMeta {
    const meta = { seq: ++this.#seq, time: time ?? new Date(this.#now()).toISOString() };
    if (event !== 'counters') {
      this.history.push({ event, seq: meta.seq, time: meta.time, data });
      if (this.history.length > 5000) this.history.shift();
    }
    return meta;
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
    const r = this.#rand;
    this.#ticks++;
    if (this.#flap && this.#ticks % 45 === 20) this.setUsable('wlan0', false);
    if (this.#flap && this.#ticks % 45 === 35) this.setUsable('wlan0', true);
    const perIface = new Map<string, { tx: number; rx: number }>();
    for (const i of this.interfaces) perIface.set(i.name, { tx: 0, rx: 0 });
    for (const app of this.apps) {
      const c = app.counters;
      const flowing = app.pids.length > 0 && app.egress.state !== 'blocked' && app.egress.state !== 'killed';
      if (!flowing) {
        c.txRate = 0;
        c.rxRate = 0;
        continue;
      }
      const wave = 0.6 + 0.4 * Math.sin((this.#ticks + app.tag * 3) / 7);
      const size = 1 + (app.tag % 5) * 3;
      c.rxRate = Math.round((20_000 + r() * 180_000) * size * wave);
      c.txRate = Math.round(c.rxRate * (0.05 + r() * 0.25));
      c.txBytes += c.txRate;
      c.rxBytes += c.rxRate;
      // Default routing leaves through the ethernet uplink, as the main table says.
      const via = app.egress.active ?? 'enp3s0';
      const sum = perIface.get(via);
      if (sum) {
        sum.tx += c.txRate;
        sum.rx += c.rxRate;
      }
    }
    for (const i of this.interfaces) {
      const sum = perIface.get(i.name) ?? { tx: 0, rx: 0 };
      const background = i.kind === 'loopback' ? 2_000 : 6_000;
      i.counters.txRate = i.usable ? sum.tx + Math.round(r() * background) : 0;
      i.counters.rxRate = i.usable ? sum.rx + Math.round(r() * background) : 0;
      i.counters.txBytes += i.counters.txRate;
      i.counters.rxBytes += i.counters.rxRate;
    }
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
    this.connectionState = this.#connectionFor(state);
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
        managed: this.apps.filter((a) => a.managed).length,
        running: this.apps.filter((a) => a.pids.length).length,
      },
      killed: this.apps.filter((a) => a.egress.state === 'killed').map((a) => a.id),
      health: 'ok',
      problems: [],
    };
  }

  #handle(method: AnyMethodName, params: unknown): unknown {
    switch (method) {
      case 'status.get':
        return this.#status();
      case 'apps.list':
        return this.apps;
      case 'apps.get':
        return this.#app((params as Params<'apps.get'>).id);
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
          summary: `${app.name}: egress set to ${describeChoice(choice)}`,
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
        };
        this.apps.push(app);
        this.emit('app.changed', { app: structuredClone(app), id, removed: false });
        return app;
      }
      case 'apps.remove': {
        const { id } = params as Params<'apps.remove'>;
        this.#app(id);
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
        return this.#status();
      }
      case 'explain':
        return this.#explain(params as Params<'explain'>);
      case 'events.subscribe':
        return { ok: true };
      // The UI has no tunnel view yet; the fake has no tunnels and is no gateway.
      case 'tunnels.list':
        return [];
      case 'tunnels.add':
      case 'tunnels.remove':
      case 'gateway.stats':
        throw new ApiError('UNAVAILABLE', `${method} is not available in the demo.`);
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

  #explain(p: Params<'explain'>): Explanation {
    const app = this.#app(p.app);
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(p.destination.trim());
    if (!m)
      throw new ApiError('BAD_REQUEST', 'Write the destination as host:port, for example example.org:443.');
    const host = (m[1] ?? m[2]) as string;
    const port = Number(m[3]);
    const literal = /^[\d.]+$/.test(host) || host.includes(':');
    let h = 0;
    for (const ch of host) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    const address = literal ? host : `93.184.${h % 256}.${(h >>> 8) % 256}`;
    const destination = { host, address, port, protocol: p.protocol };
    const steps = [
      `${app.name} has socket tag ${app.tag}; its sockets carry mark 0x${app.tag.toString(16)}.`,
      `${host} resolves to ${address}.`,
    ];
    const src = (name: string | null) =>
      this.interfaces
        .find((i) => i.name === name)
        ?.addresses.find((a) => a.family === (address.includes(':') ? 6 : 4))?.address ?? null;
    if (app.egress.state === 'blocked' || app.egress.state === 'killed') {
      steps.push(
        app.egress.state === 'blocked'
          ? 'The app is set to Block.'
          : 'No egress in its list is usable and the kill switch is on.',
      );
      steps.push('The packet is dropped before it leaves the machine.');
      return {
        app: app.id,
        destination,
        verdict: 'block',
        egress: null,
        sourceAddress: null,
        steps,
        reason:
          app.egress.state === 'blocked'
            ? `${app.name} is blocked, so nothing it sends to ${host} leaves this computer.`
            : `${app.name}'s kill switch is holding its traffic because none of its egresses is usable.`,
      };
    }
    if (app.egress.active) {
      const iface = app.egress.active;
      if (app.choice.mode === 'ordered')
        steps.push(`Its list is ${app.choice.egresses.join(' → ')}; the first usable one is ${iface}.`);
      steps.push(`Routing table for ${iface} sends ${address} via its gateway.`);
      return {
        app: app.id,
        destination,
        verdict: 'egress',
        egress: iface,
        sourceAddress: src(iface),
        steps,
        reason: `${app.name} reaches ${host}:${port} through ${iface} because it is the first usable egress in its list.`,
      };
    }
    steps.push('The app follows the system routing table; the default route is via enp3s0.');
    return {
      app: app.id,
      destination,
      verdict: 'default',
      egress: 'enp3s0',
      sourceAddress: src('enp3s0'),
      steps,
      reason: `${app.name} uses the system's own routing, which sends ${host} through enp3s0.`,
    };
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

export function describeChoice(choice: EgressChoice): string {
  if (choice.mode === 'default') return 'system default';
  if (choice.mode === 'block') return 'block';
  return `${choice.egresses.join(' → ')}${choice.killSwitch ? ' with kill switch' : ''}`;
}
