// The helper: wires the policy (what the user wants) to the mechanisms (what the kernel does). Each
// concern owns its state in a module of its own; this class starts them in order and answers the API.
//   start: preflight → policy → cgroup subtree → tagger + classifier → catalog → tunnels → reconcile →
//          adoption; then every change (API, interfaces, networks, processes) → EgressLoop: evaluate →
//          the rules' plan (encryption-rules.ts) → compile → one transaction
//   stop:  'keep' leaves the kernel state failing closed (restart, upgrade); 'reset' removes it.
import { join } from 'node:path';
import {
  type App,
  type RunningProgram,
  type AppId,
  ApiError,
  type EgressChoice,
  type Interface,
  type Status,
} from '../api/schema.ts';
import type { CatalogEntry } from '../catalog/catalog.ts';
import { runningPrograms } from '../catalog/running-programs.ts';
import { HostResolver } from '../mechanism/host-resolver.ts';
import { type KernelWatch, watchKernel } from './kernel-watch.ts';
import { type PolicyApp, type PolicyDocument, modeOf } from '../policy/model.ts';
import { type Layout, layoutFor, markFor } from '../layout/kernel-layout.ts';
import { BYPASS_TAG } from '../policy/exclude-mode.ts';
import { Reconciler } from '../reconcile/reconciler.ts';
import { API_VERSION } from '../api/schema.ts';
import { VERSION } from '../version.ts';
import { Adoption, inOurNetns, isHelperOrChild } from './adoption.ts';
import { AppCgroups } from './app-cgroups.ts';
import { type GroupInfo, lookupGroup } from './auth.ts';
import { readCatalog, withCatalog } from './catalog-sync.ts';
import { Counters } from './counters.ts';
import { MemoryTrim } from './memory-trim.ts';
import { EgressLoop, type RefreshReason } from './egress-loop.ts';
import { DnsResolvers } from './dns-resolvers.ts';
import { EventBus } from './event-bus.ts';
import { PolicyState } from './policy-state.ts';
import { preflight } from './preflight.ts';
import { Problems } from './problems.ts';
import { TunnelManager } from './tunnels.ts';
import { EncryptionRules } from './encryption-rules.ts';
import { EventReactor } from './event-reactor.ts';
import { FindingSources, journalMirror } from './finding-sources.ts';
import { AuditLog } from '../storage/audit-log.ts';
import { ViewEvents } from './view-events.ts';
import { Connections } from './connections.ts';
import { type AppViewSources, appView, statusView } from './api-views.ts';
import { AppChanges } from './app-changes.ts';
import { Enrollment } from './enrollment.ts';
import { DnsNames } from './dns-names.ts';
import { WireguardEgress } from './wireguard-egress.ts';

export interface HelperOptions {
  instance: string;
  socketPath: string;
  stateDir: string;
  managedPolicyPath: string | null;
  socketGroup: string;
  socketMode: number;
  /** Extra XDG data dirs to find desktop files in (the lab passes its own). */
  dataDirs: string[];
  /** Where under the cgroup v2 mount the helper's subtree goes ('' = the mount's root). */
  cgroupParent: string;
  /** Directories whose filesystems the write watch covers (default finding-sources DEFAULT_WATCH_DIRS). */
  watchDirs?: string[];
  /** The journal's socket (tests point it elsewhere); default journald's. */
  journalSocket?: string;
  log?: (msg: string) => void;
}

export class Helper {
  readonly bus = new EventBus();
  readonly layout: Layout;
  readonly group: GroupInfo | null;
  readonly startedAt = new Date().toISOString();
  readonly log: (msg: string) => void;
  readonly tunnels: TunnelManager;
  /** explain's name lookups: 2 of libuv's 4 threads at most, so file I/O and our own lookups go on. */
  readonly explainResolver = new HostResolver({
    concurrency: 2,
    queue: 16,
    perCaller: 4,
    timeoutMs: 1500, // explain answers people: a name that does not resolve fails fast
    cacheMs: { ok: 30_000, fail: 10_000 },
  });
  /** This start created the instance's kernel state (no earlier run left any). */
  startedFresh = false;
  private readonly problems: Problems;
  private readonly policy: PolicyState;
  private readonly viewEvents = new ViewEvents(this.bus);
  /** Freed malloc memory goes back to the kernel after start and after applies. */
  private readonly memory = new MemoryTrim();
  private readonly loop: EgressLoop;
  /** Each egress's DNS servers, for the stub redirect (docs/dns.md). */
  readonly dns: DnsResolvers;
  private readonly counters: Counters;
  /** What each app talks to (conntrack). */
  readonly connections: Connections;
  /** The names apps looked up, for the history (their DNS replies, NFLOG). */
  readonly dnsNames: DnsNames;
  readonly wireguard: WireguardEgress;
  readonly rules: EncryptionRules;
  readonly reactions: EventReactor;
  readonly audit: AuditLog;
  /** An app's egress choice; apps added and removed by hand. */
  readonly appChanges: AppChanges;
  /** Processes joining apps: found (exec watch, scan) or launched. */
  readonly enrollment: Enrollment;
  /** Which app a finding is about; needs the cgroup subtree, so made in start(). */
  private sources: FindingSources | null = null;
  private cgroups!: AppCgroups;
  private adoption: Adoption | null = null;
  private catalog = new Map<AppId, CatalogEntry>();
  private watcher: KernelWatch | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  private stopped = false;

  constructor(readonly opts: HelperOptions) {
    this.log =
      opts.log ?? ((m) => console.error(`${new Date().toISOString()} switchyard[${opts.instance}]: ${m}`));
    this.layout = layoutFor(opts.instance);
    this.problems = new Problems(this.bus, this.log);
    this.policy = new PolicyState(opts.stateDir, opts.managedPolicyPath, this.problems);
    this.group = lookupGroup(opts.socketGroup);
    if (!this.group)
      this.problems.set(
        'group',
        `the group '${opts.socketGroup}' does not exist, so only root can use the helper; create it with \`sudo groupadd --system ${opts.socketGroup}\``,
      );
    this.tunnels = new TunnelManager(
      opts.stateDir,
      () => void this.refresh('interfaces'),
      this.log,
      (note) => this.bus.emit('audit.appended', this.audit.append(note)),
      // The tunnel's own UDP never takes an app's or the exclude mode's route into a tunnel.
      markFor(this.layout, BYPASS_TAG),
    );
    this.rules = new EncryptionRules({
      policy: this.policy,
      bus: this.bus,
      problems: this.problems,
      layout: this.layout,
      log: this.log,
      refresh: () => this.refresh('policy'),
      counter: (name) => this.counters.named(name),
      applied: () => this.loop.flows,
      tunnelUp: (name) => this.tunnels.isUp(name),
      tunnelExists: (name) => this.tunnels.has(name),
      groupUp: (name, group) => this.tunnels.groupUp(name, group),
      expired: (rules) => this.reactions.rulesExpired(rules),
      // After the apply that saw the move: network events may create or remove rules.
      networksChanged: () =>
        setImmediate(() => void this.reactions.syncNetworks().catch(this.reactionFailed)),
    });
    this.audit = new AuditLog(opts.stateDir, { mirror: journalMirror(opts.instance, opts.journalSocket) });
    this.reactions = new EventReactor({
      policy: this.policy,
      bus: this.bus,
      audit: this.audit,
      log: this.log,
      refresh: () => this.refresh('policy'),
      tunnels: () => this.tunnels.list().map((t) => t.name),
      hold: (apps) => this.cgroups.freeze(apps),
      attachments: () => {
        const { networkOf } = this.rules.networks.context();
        const known = this.rules.networks.list();
        return Object.entries(networkOf).map(([uplink, id]) => ({
          uplink,
          network: (id && known.find((n) => n.id === id)) || null,
        }));
      },
    });
    this.dns = new DnsResolvers({
      policy: () => this.policy.current,
      commit: (doc) => this.policy.commit(doc),
      interfaces: () => this.loop.interfaces,
      layout: this.layout,
      apps: () => this.policy.apps.map((a) => ({ tag: a.tag, active: this.loop.evaluation(a.id).active })),
      refresh: () => void this.refresh('policy'),
      log: this.log,
      gatewayResolvers: () => this.tunnels.gatewayResolvers(),
    });
    this.loop = new EgressLoop({
      layout: this.layout,
      reconciler: new Reconciler({
        layout: this.layout,
        stateFile: join(opts.stateDir, 'kernel-state.json'),
        // Applies read and verify only what they change (reconcile/kernel-view.ts).
        keepView: true,
        // The classifier hangs off the cgroup subtree, which exists from start() on.
        classifier: {
          replace: (lists) => this.cgroups.classifier.replace(lists),
          read: () => this.cgroups.classifier.read(),
        },
      }),
      flows: this.rules.plan,
      tunnels: this.tunnels,
      bus: this.bus,
      problems: this.problems,
      log: this.log,
      policy: () => this.policy.effective(),
      pidsOf: (id) => this.cgroups.pidsOf(id),
      applied: () => {
        this.publishViews();
        this.memory.poke();
        this.dns.afterApply();
      },
      dnsResolvers: () => this.dns.forCompile(),
      wireguardAnswering: (name) => this.wireguard.health.answering(name),
      sysctls: () => this.connections.sysctls(),
      logDnsReplies: () => this.dnsNames.reading,
    });
    this.counters = new Counters(this.layout.nftTable, this.bus, this.problems, {
      apps: () => this.policy.apps,
      running: (id) => this.cgroups.has(id),
      interfaces: () => this.loop.interfaces,
    });
    this.wireguard = new WireguardEgress({
      layout: this.layout,
      log: this.log,
      problems: this.problems,
      changed: () => void this.refresh('interfaces'),
    });
    this.connections = new Connections({
      layout: this.layout,
      bus: this.bus,
      apps: () => this.policy.effective().apps,
      classes: () => this.loop.flows?.classes ?? [],
      interfaces: () => this.loop.interfaces,
      evaluation: (id) => this.loop.evaluation(id),
      rules: (id) => this.rules.forExplain(id),
      problem: (m) => (m ? this.problems.set('connections', m) : this.problems.clear('connections')),
      log: this.log,
      nameOf: (id, address, at) => this.dnsNames.nameOf(id, address, at),
    });
    this.dnsNames = new DnsNames({
      layout: this.layout,
      appOf: (mark) => this.connections.appOf(mark),
      problem: (m) => (m ? this.problems.set('dns-names', m) : this.problems.clear('dns-names')),
      log: this.log,
    });
    this.dnsNames.follow(this.dns.forwarder.events);
    this.appChanges = new AppChanges({
      policy: this.policy,
      managedPolicyPath: opts.managedPolicyPath,
      view: (id) => this.app(id),
      refresh: () => this.refresh('policy'),
      adoptRunning: () => this.adoptRunning(),
      forget: async (id) => {
        await this.cgroups.release(id);
        this.connections.forgetApp(id);
        this.dnsNames.forgetApp(id);
      },
    });
    this.enrollment = new Enrollment({
      policy: this.policy,
      cgroups: () => this.cgroups,
      catalog: () => this.catalog,
      bus: this.bus,
      log: this.log,
    });
  }

  // ---------- lifecycle ----------

  async start(): Promise<void> {
    const machine = await preflight();
    for (const what of machine.setUp) this.log(what);
    for (const w of machine.warnings) this.problems.set(w.key, w.message);
    this.cgroups = new AppCgroups(
      machine.cgroupMount,
      this.opts.cgroupParent,
      this.opts.instance,
      this.layout,
    );
    if (this.policy.missing && this.cgroups.exists)
      // Starting empty would lift every kill switch the kernel still holds for the lost policy.
      throw new Error(
        `the policy ${this.policy.path} is missing, but this instance's kernel state (${this.cgroups.root}) is still in place and keeps failing closed; restore the file, or remove that state with \`switchyard reset --instance ${this.opts.instance}\` to start empty`,
      );
    this.policy.loadManaged();
    this.startedFresh = !this.cgroups.exists;
    await this.cgroups.create();
    this.sources = new FindingSources({
      apps: () => this.policy.effective().apps,
      cgroupRoot: this.cgroups.root,
      stateDir: this.opts.stateDir,
      ...(this.opts.watchDirs ? { watchDirs: this.opts.watchDirs } : {}),
      problem: (m) => this.problems.set('write-watch', m),
    });
    try {
      await this.startWithCgroups();
    } catch (err) {
      // What this start created goes again; a previous run's state stays (it may hold kill switches).
      if (this.startedFresh) {
        await this.loop.reconciler.teardown().catch(() => {});
        await this.cgroups.removeAll().catch(() => {});
      }
      throw err;
    }
  }

  private async startWithCgroups(): Promise<void> {
    this.cgroups.attachTagger();
    await this.cgroups.recover(this.policy.apps);
    await this.syncCatalog();
    await this.tunnels.startAll();
    await this.connections.start(); // before the first apply, which switches its accounting on
    await this.dnsNames.start(); // likewise: the apply copies the DNS replies only while it reads them
    await this.refresh('start');
    await this.dns.start();

    // Listen before scanning, so a process that starts during the scan is not missed.
    this.adoption = new Adoption({
      cgroups: this.cgroups,
      apps: () => this.policy.apps,
      enroll: (id, pid, via, since, exe) => this.enrollment.enroll(id, pid, via, since, exe),
      problem: (k, m) => this.problems.set(k, m),
      log: this.log,
      execed: (pid) => this.wireguard.guard.execed(pid),
      rescan: () => this.wireguard.guard.scanAll(),
    });
    this.adoption.start();
    this.wireguard.guard.scanAll();
    await this.adoption.adoptRunning();
    this.watcher = await watchKernel({
      interfaces: () => void this.refresh('interfaces'),
      neighbors: () => void this.rules.checkNetworks(this.loop.interfaces),
      error: (err) => this.problems.set('netlink', `interface monitor: ${err.message}`),
    });
    this.rules.start();
    this.reactions.start();
    await this.reactions.syncNetworks();
    this.ticker = setInterval(() => void this.tick(), 1000);
    this.counters.start();
    this.memory.poke();
    this.unwatch = this.policy.watchManaged(() =>
      this.reloadManaged().catch((err: Error) => this.log(`managed policy: ${err.message}`)),
    );
    this.viewEvents.prime(this.apps(), this.interfaceList());
    this.log(
      `started: instance ${this.opts.instance}, cgroups ${this.cgroups.root}, policy ${this.policy.path}`,
    );
  }

  /**
   * Stop. 'keep' (SIGTERM: a restart, an upgrade) leaves the kernel state as a crash does: rules, nft
   * table, cgroups and tags stay, so kill switches keep holding and processes stay with their apps
   * until the next start takes them over. 'reset' removes everything this instance created.
   */
  async stop(mode: 'keep' | 'reset' = 'keep'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.counters.stop();
    this.memory.stop();
    this.unwatch?.();
    this.adoption?.stop();
    await this.watcher?.stop();
    this.rules.stop();
    this.reactions.stop();
    this.dns.stop();
    this.sources?.close();
    await this.connections.stop();
    await this.dnsNames.stop();
    await this.loop.stop();
    await this.tunnels.stopAll();
    if (mode === 'keep') {
      this.log('stopped; the kernel state stays in place (kill switches hold) until the next start');
      return;
    }
    await this.loop.reconciler.teardown();
    await this.cgroups.removeAll();
    this.log('stopped and removed its kernel state');
  }

  private readonly reactionFailed = (err: Error) =>
    this.problems.set('reactions', `network events: ${err.message}`);

  /** Which app a finding is about. */
  get findings() {
    if (!this.sources) throw new ApiError('UNAVAILABLE', 'the helper is still starting');
    return this.sources.target;
  }

  refresh(reason: RefreshReason): Promise<void> {
    return this.stopped ? Promise.resolve() : this.loop.refresh(reason);
  }

  /** app.changed / interface.changed for whatever differs from what clients were last told. */
  private publishViews(): void {
    this.viewEvents.publish(this.apps(), this.interfaceList());
    this.rules.publish();
  }

  /** Once a second: processes come and go by themselves; counters move. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    await this.cgroups.refreshPids();
    await this.wireguard.refresh(this.loop.interfaces);
    this.publishViews();
  }

  /** Before an answer that carries counters (they are sampled only while someone wants them). */
  freshCounters(): Promise<void> {
    return this.counters.fresh();
  }

  // ---------- catalog and managed policy ----------

  async syncCatalog(): Promise<number> {
    this.catalog = await readCatalog(this.policy.current, this.opts.dataDirs);
    this.policy.commit(withCatalog(this.policy.current, this.catalog, (id) => this.cgroups.has(id)));
    return this.catalog.size;
  }

  async adoptRunning(): Promise<void> {
    await this.adoption?.adoptRunning();
  }

  private async reloadManaged(): Promise<void> {
    const changed = this.policy.loadManaged();
    await this.syncCatalog();
    if (!changed) return;
    this.bus.emit('policy.changed', {
      app: null,
      summary: 'the managed policy changed',
      actor: { uid: 0, user: 'root', via: 'managed' },
    });
    await this.refresh('policy');
  }

  // ---------- what the API shows ----------

  app(id: AppId): App {
    const a = this.policy.find(id);
    if (!a) throw new ApiError('NOT_FOUND', `no app '${id}'; \`switchyard apps\` lists them`);
    return appView(a, this.viewSources, this.reactions.heldApps().get(a.id));
  }

  /** What runs now, one entry per program, for Add app (processes.list). */
  runningPrograms(): Promise<RunningProgram[]> {
    return runningPrograms(this.policy.effective().apps, (pid) => isHelperOrChild(pid) || !inOurNetns(pid));
  }

  apps(): App[] {
    const held = this.reactions.heldApps();
    return this.policy.apps
      .map((a) => appView(a, this.viewSources, held.get(a.id)))
      .sort((x, y) => x.name.localeCompare(y.name));
  }

  private readonly viewSources: AppViewSources = {
    managedChoice: (id) => this.policy.managedChoice(id),
    evaluation: (id) => this.loop.evaluation(id),
    catalogIcon: (id) => this.catalog.get(id)?.icon,
    pids: (id) => this.cgroups.pidsOf(id),
    counters: (id) => this.counters.ofApp(id),
  };

  interfaceList(): Interface[] {
    return this.loop.interfaces.map((i) =>
      this.wireguard.with({
        ...i,
        apps: this.loop.appsOn(i.name),
        counters: this.counters.ofInterface(i),
      }),
    );
  }

  status(): Status {
    return statusView(this.apps(), {
      version: VERSION,
      apiVersion: API_VERSION,
      instance: this.opts.instance,
      pid: process.pid,
      startedAt: this.startedAt,
      paused: this.policy.current.paused,
      override: this.policy.current.override,
      mode: modeOf(this.policy.current),
      cgroupRoot: this.cgroups.root,
      policyPath: this.policy.path,
      managedPolicyPath: this.opts.managedPolicyPath,
      problems: this.problems.list,
    });
  }

  /** The app with its effective choice, for explain. */
  policyApp(id: AppId): PolicyApp & { choice: EgressChoice } {
    const a = this.policy.effective().apps.find((x) => x.id === id);
    if (!a) throw new ApiError('NOT_FOUND', `no app '${id}'; \`switchyard apps\` lists them`);
    return a;
  }

  get switches(): { paused: boolean; override: string | null } {
    return { paused: this.policy.current.paused, override: this.policy.current.override };
  }

  // ---------- changes from the API ----------

  async setPaused(paused: boolean): Promise<void> {
    this.policy.commit({ ...this.policy.current, paused });
    await this.refresh('policy');
  }

  /** A change to the user's document (mode, LAN access: daemon/mode-handlers.ts), then applied. */
  async changePolicy(change: (doc: PolicyDocument) => PolicyDocument): Promise<void> {
    this.policy.commit(change(this.policy.current));
    await this.refresh('policy');
  }

  async setOverride(egress: string | null): Promise<void> {
    this.policy.commit({ ...this.policy.current, override: egress });
    await this.refresh('policy');
  }
}
