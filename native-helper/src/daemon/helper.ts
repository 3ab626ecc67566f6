// The helper: wires the policy (what the user wants) to the mechanisms (what the kernel does).
//   start: policy → cgroup subtree → tagger → proc events + /proc scan → interfaces → reconcile → socket
//   then:  every change (API, interfaces, processes) → evaluate → compile → one reconcile transaction
//   stop:  everything it created is removed; a crash (SIGKILL) leaves the kernel state failing closed.
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, unwatchFile, watchFile } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type App,
  type AppId,
  ApiError,
  type EgressChoice,
  type Interface,
  type Status,
} from '../api/schema.ts';
import { type CatalogEntry, buildCatalog, catalogFromProcesses } from '../catalog/catalog.ts';
import { slugify } from '../catalog/identity-rules.ts';
import {
  type ProcessIdentity,
  bestMatch,
  compileCmdline,
  readAllProcessIdentities,
  readProcessIdentity,
} from '../catalog/processes.ts';
import { Tagger, pinDirFor } from '../mechanism/bpf/tagger.ts';
import { HostResolver } from '../mechanism/host-resolver.ts';
import {
  cgroupId,
  cgroupOfPid,
  ensureCgroup,
  listProcesses,
  moveProcess,
  removeCgroupTree,
} from '../mechanism/cgroup/index.ts';
import { type Watcher, readInterfaces, readLinks, watch } from '../mechanism/netlink/index.ts';
import { readCounters } from '../mechanism/nft/table.ts';
import { ProcEvents } from '../mechanism/proc/events.ts';
import { listInetSockets, setSocketMark, shutdownSocket } from '../mechanism/sockets/index.ts';
import { compile } from '../policy/compile.ts';
import { type Evaluation, evaluate } from '../policy/evaluate.ts';
import {
  type PolicyApp,
  type PolicyDocument,
  addApp,
  ensureEgressTables,
  removeApp,
  setChoice,
} from '../policy/model.ts';
import { type Layout, fnv1a32, layoutFor, markFor } from '../policy/tags.ts';
import { Reconciler } from '../reconcile/reconciler.ts';
import { VERSION } from '../version.ts';
import { API_VERSION } from '../api/schema.ts';
import { type GroupInfo, lookupGroup } from './auth.ts';
import { EventBus } from './event-bus.ts';
import { type ManagedPolicy, loadManagedPolicy } from './managed-policy.ts';
import { PolicyStore } from './policy-store.ts';
import { launchAs, readEnviron, sessionEnvironment } from './launcher.ts';
import { preflight } from './preflight.ts';
import { RateTracker, type Rated } from './rates.ts';
import { TunnelManager } from './tunnels.ts';
import { ViewEvents } from './view-events.ts';

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
  log?: (msg: string) => void;
}

interface AppCgroup {
  path: string;
  id: bigint;
}

/** Pause before the one retry of a failed reconcile. */
const RETRY_MS = 300;

const ZERO: Rated = { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 };

export class Helper {
  readonly bus = new EventBus();
  private readonly viewEvents = new ViewEvents(this.bus);
  readonly layout: Layout;
  readonly group: GroupInfo | null;
  readonly startedAt = new Date().toISOString();
  private readonly store: PolicyStore;
  private policy: PolicyDocument;
  private managed: ManagedPolicy = { version: 1, apps: [] };
  private catalog = new Map<AppId, CatalogEntry>();
  private interfaces: Interface[] = [];
  private evaluations = new Map<AppId, Evaluation>();
  private cgroups = new Map<AppId, AppCgroup>();
  private pids = new Map<AppId, number[]>();
  private appCounters = new Map<AppId, Rated>();
  private ifCounters = new Map<string, Rated>();
  private readonly rates = new RateTracker();
  private problems = new Map<string, string>();
  private cgroupMount = '';
  private cgroupRoot = '';
  private tagger!: Tagger;
  private reconciler: Reconciler;
  readonly tunnels: TunnelManager;
  /** explain's name lookups: 2 of libuv's 4 threads at most, so file I/O and our own lookups go on. */
  readonly explainResolver = new HostResolver({
    concurrency: 2,
    queue: 16,
    perCaller: 4,
    timeoutMs: 5000,
    cacheMs: { ok: 30_000, fail: 10_000 },
  });
  private procEvents: ProcEvents | null = null;
  private watcher: Watcher | null = null;
  private timers: NodeJS.Timeout[] = [];
  private unwatch: (() => void) | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private stopped = false;
  /** This start created the instance's kernel state (no earlier run left any). */
  startedFresh = false;
  readonly log: (msg: string) => void;

  constructor(readonly opts: HelperOptions) {
    this.log =
      opts.log ?? ((m) => console.error(`${new Date().toISOString()} switchyard[${opts.instance}]: ${m}`));
    this.layout = layoutFor(opts.instance);
    this.store = new PolicyStore(opts.stateDir);
    this.policy = this.store.load();
    this.group = lookupGroup(opts.socketGroup);
    if (!this.group)
      this.problem(
        'group',
        `the group '${opts.socketGroup}' does not exist, so only root can use the helper; create it with \`sudo groupadd --system ${opts.socketGroup}\``,
      );
    this.reconciler = new Reconciler({
      layout: this.layout,
      stateFile: join(opts.stateDir, 'kernel-state.json'),
    });
    this.tunnels = new TunnelManager(opts.stateDir, () => void this.refresh('interfaces'), this.log);
  }

  // ---------- lifecycle ----------

  async start(): Promise<void> {
    const machine = await preflight();
    for (const what of machine.setUp) this.log(what);
    for (const w of machine.warnings) this.problem(w.key, w.message);
    this.cgroupMount = machine.cgroupMount;
    const parent = join(this.cgroupMount, this.opts.cgroupParent);
    this.cgroupRoot = join(parent, `switchyard.${this.opts.instance}`);
    if (this.store.missing && existsSync(this.cgroupRoot))
      // Starting empty would lift every kill switch the kernel still holds for the lost policy.
      throw new Error(
        `the policy ${this.store.path} is missing, but this instance's kernel state (${this.cgroupRoot}) is still in place and keeps failing closed; restore the file, or remove that state with \`switchyard reset --instance ${this.opts.instance}\` to start empty`,
      );
    this.loadManaged();
    const fresh = !existsSync(this.cgroupRoot);
    this.startedFresh = fresh;
    await ensureCgroup(this.cgroupRoot);
    this.tagger = new Tagger({ cgroupPath: this.cgroupRoot, pinDir: pinDirFor(this.opts.instance) });
    try {
      await this.startWithCgroups();
    } catch (err) {
      // What this start created goes again; a previous run's state stays (it may hold kill switches).
      if (fresh) {
        await this.reconciler.teardown().catch(() => {});
        await removeCgroupTree(this.cgroupRoot, { moveTo: dirname(this.cgroupRoot) }).catch(() => {});
        try {
          this.tagger.detach();
        } catch {
          // never attached
        }
      }
      throw err;
    }
  }

  private async startWithCgroups(): Promise<void> {
    this.tagger.attach();
    await this.recoverCgroups();

    await this.syncCatalog();
    await this.tunnels.startAll();
    this.interfaces = await this.readInterfaces();
    await this.refresh('start');

    // Listen before scanning, so a process that starts during the scan is not missed.
    this.startProcEvents();
    await this.adoptRunning();
    this.watcher = await watch();
    this.watcher.on('changed', () => void this.refresh('interfaces'));
    this.watcher.on('error', (err) => this.problem('netlink', `interface monitor: ${err.message}`));
    this.timers.push(setInterval(() => void this.tick(), 1000));
    if (this.opts.managedPolicyPath) {
      // Fleet tools rewrite the file while the helper runs; polling stat also sees it appear and vanish.
      const path = this.opts.managedPolicyPath;
      watchFile(path, { interval: 2000 }, () =>
        this.reloadManaged().catch((err: Error) => this.log(`managed policy: ${err.message}`)),
      );
      this.unwatch = () => unwatchFile(path);
    }
    this.viewEvents.prime(this.apps(), this.interfaceList());
    this.log(
      `started: instance ${this.opts.instance}, cgroups ${this.cgroupRoot}, policy ${this.store.path}`,
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
    for (const t of this.timers) clearInterval(t);
    this.unwatch?.();
    this.procEvents?.stop();
    await this.watcher?.stop();
    await this.refreshing?.catch(() => {});
    await this.tunnels.stopAll();
    if (mode === 'keep') {
      this.log('stopped; the kernel state stays in place (kill switches hold) until the next start');
      return;
    }
    await this.reconciler.teardown();
    await removeCgroupTree(this.cgroupRoot, { moveTo: dirname(this.cgroupRoot) });
    this.tagger.detach();
    this.log('stopped and removed its kernel state');
  }

  // ---------- policy ----------

  private loadManaged(): void {
    const { policy, problem } = loadManagedPolicy(this.opts.managedPolicyPath);
    // A broken file keeps the last good pins: a typo in a fleet deployment must not unpin anything.
    if (problem) this.problem('managed', `${problem}; keeping the managed policy read before`);
    else {
      this.managed = policy;
      this.clearProblem('managed');
    }
    let doc = this.policy;
    for (const m of this.managed.apps) {
      if (doc.apps.some((a) => a.id === m.id)) continue;
      if (!m.matchers) continue; // a catalog app: added when the catalog is read
      doc = addApp(doc, {
        id: m.id,
        name: m.name ?? m.id,
        icon: null,
        source: 'manual',
        matchers: m.matchers,
      });
    }
    this.commit(doc);
  }

  private async reloadManaged(): Promise<void> {
    const before = JSON.stringify(this.managed);
    this.loadManaged();
    await this.syncCatalog();
    if (JSON.stringify(this.managed) === before) return;
    this.bus.emit('policy.changed', {
      app: null,
      summary: 'the managed policy changed',
      actor: { uid: 0, user: 'root', via: 'managed' },
    });
    await this.refresh('policy');
  }

  private managedChoice(id: AppId): EgressChoice | null {
    return this.managed.apps.find((a) => a.id === id)?.choice ?? null;
  }

  /** The policy with managed choices laid over the user's. */
  private effectivePolicy(): PolicyDocument {
    return {
      ...this.policy,
      apps: this.policy.apps.map((a) => {
        const pinned = this.managedChoice(a.id);
        return pinned ? { ...a, choice: pinned } : a;
      }),
    };
  }

  /** Persist a new policy document (atomically) if it changed. */
  private commit(doc: PolicyDocument): void {
    const withTables = ensureEgressTables({
      ...doc,
      apps: doc.apps.map((a) => ({ ...a, choice: this.managedChoice(a.id) ?? a.choice })),
    });
    const next = { ...doc, egressTables: withTables.egressTables };
    if (JSON.stringify(next) === JSON.stringify(this.policy)) return;
    try {
      this.store.save(next);
    } catch (err) {
      // The old file stays, and so does the policy in memory: what the caller is told did not happen.
      const e = err as NodeJS.ErrnoException;
      const message = `cannot save the policy to ${this.store.path} (${e.code ?? e.message}); the change was not made: free some disk space or fix the disk, then try again`;
      this.problem('storage', message);
      throw new ApiError('UNAVAILABLE', message);
    }
    this.clearProblem('storage');
    this.policy = next;
  }

  async syncCatalog(): Promise<number> {
    let skipped = 0;
    const desktop = await buildCatalog({
      extraDataDirs: this.opts.dataDirs,
      userHomes: desktopUserHomes(),
      onSkip: () => skipped++,
    });
    // Plus the people's running programs that hold internet sockets and no desktop file covers.
    const known = [...desktop, ...this.policy.apps.filter((a) => a.source === 'manual')];
    const running = (await readAllProcessIdentities({ sockets: true })).filter((p) => inOurNetns(p.pid));
    const entries = [...desktop, ...catalogFromProcesses(running, known)];
    this.catalog = new Map(entries.map((e) => [e.id, e]));
    let doc = this.policy;
    for (const e of entries) {
      const existing = doc.apps.find((a) => a.id === e.id);
      if (!existing) {
        doc = addApp(doc, { id: e.id, name: e.name, icon: null, source: e.source, matchers: e.matchers });
      } else if (
        existing.source !== 'manual' &&
        JSON.stringify([existing.name, existing.matchers]) !== JSON.stringify([e.name, e.matchers])
      ) {
        doc = {
          ...doc,
          apps: doc.apps.map((a) => (a.id === e.id ? { ...a, name: e.name, matchers: e.matchers } : a)),
        };
      }
    }
    // Uninstalled apps the user never configured leave the policy; configured ones stay.
    doc = {
      ...doc,
      apps: doc.apps.filter(
        (a) =>
          a.source === 'manual' ||
          this.catalog.has(a.id) ||
          a.choice.mode !== 'default' ||
          this.cgroups.has(a.id),
      ),
    };
    this.commit(doc);
    return entries.length;
  }

  // ---------- apps as the API shows them ----------

  app(id: AppId): App {
    const a = this.policy.apps.find((x) => x.id === id);
    if (!a) throw new ApiError('NOT_FOUND', `no app '${id}'; \`switchyard apps\` lists them`);
    return this.view(a);
  }

  apps(): App[] {
    return this.policy.apps.map((a) => this.view(a)).sort((x, y) => x.name.localeCompare(y.name));
  }

  private view(a: PolicyApp): App {
    const pinned = this.managedChoice(a.id);
    const ev = this.evaluations.get(a.id) ?? { state: 'default', active: null };
    return {
      id: a.id,
      name: a.name,
      icon: a.icon ?? this.catalog.get(a.id)?.icon ?? null,
      source: a.source,
      matchers: a.matchers,
      tag: a.tag,
      choice: pinned ?? a.choice,
      managed: pinned !== null,
      pids: this.pids.get(a.id) ?? [],
      egress: { state: ev.state, active: ev.active },
      counters: this.appCounters.get(a.id) ?? ZERO,
    };
  }

  interfaceList(): Interface[] {
    return this.interfaces.map((i) => this.interfaceView(i));
  }

  private interfaceView(i: Interface): Interface {
    const apps = [...this.evaluations]
      .filter(([, e]) => e.active === i.name)
      .map(([id]) => id)
      .sort();
    return { ...i, apps, counters: this.ifCounters.get(i.name) ?? i.counters };
  }

  status(): Status {
    const apps = this.apps();
    return {
      version: VERSION,
      apiVersion: API_VERSION,
      instance: this.opts.instance,
      pid: process.pid,
      startedAt: this.startedAt,
      paused: this.policy.paused,
      override: this.policy.override,
      cgroupRoot: this.cgroupRoot,
      policyPath: this.store.path,
      managedPolicyPath: this.opts.managedPolicyPath,
      apps: {
        total: apps.length,
        managed: apps.filter((a) => a.choice.mode !== 'default').length,
        running: apps.filter((a) => a.pids.length > 0).length,
      },
      killed: apps.filter((a) => a.egress.state === 'killed').map((a) => a.id),
      health: this.problems.size ? 'degraded' : 'ok',
      problems: [...this.problems.values()],
    };
  }

  // ---------- changes from the API ----------

  async setChoice(id: AppId, choice: EgressChoice): Promise<App> {
    const current = this.policy.apps.find((a) => a.id === id);
    if (!current) throw new ApiError('NOT_FOUND', `no app '${id}'; \`switchyard apps\` lists them`);
    if (this.managedChoice(id))
      throw new ApiError(
        'MANAGED',
        `${current.name}'s egress is set by the managed policy (${this.opts.managedPolicyPath}) and cannot be changed here`,
      );
    if (choice.mode === 'ordered' && new Set(choice.egresses).size !== choice.egresses.length) {
      throw new ApiError('BAD_REQUEST', 'an egress appears twice in the list');
    }
    this.commit(setChoice(this.policy, id, choice));
    await this.refresh('policy');
    return this.app(id);
  }

  async addManualApp(p: {
    id?: string;
    name: string;
    icon?: string | null;
    matchers: PolicyApp['matchers'];
  }): Promise<App> {
    const id = p.id ?? slugify(p.name);
    if (this.policy.apps.some((a) => a.id === id))
      throw new ApiError('CONFLICT', `an app with id '${id}' exists already; pick another --id`);
    if (p.matchers.cmdline) {
      try {
        compileCmdline(p.matchers.cmdline);
      } catch (err) {
        throw new ApiError(
          'BAD_REQUEST',
          `cmdline is not a valid RE2 regular expression (no look-around or backreferences): ${(err as Error).message}`,
        );
      }
    }
    this.commit(
      addApp(this.policy, { id, name: p.name, icon: p.icon ?? null, source: 'manual', matchers: p.matchers }),
    );
    await this.adoptRunning();
    await this.refresh('policy');
    return this.app(id);
  }

  async removeManualApp(id: AppId): Promise<void> {
    const a = this.policy.apps.find((x) => x.id === id);
    if (!a) throw new ApiError('NOT_FOUND', `no app '${id}'`);
    if (a.source !== 'manual')
      throw new ApiError(
        'CONFLICT',
        `${a.name} comes from its desktop file; set its egress to default instead of removing it`,
      );
    if (this.managedChoice(id)) throw new ApiError('MANAGED', `${a.name} is pinned by the managed policy`);
    await this.releaseCgroup(id);
    this.commit(removeApp(this.policy, id));
    await this.refresh('policy');
  }

  async setPaused(paused: boolean): Promise<void> {
    this.commit({ ...this.policy, paused });
    await this.refresh('policy');
  }

  async setOverride(egress: string | null): Promise<void> {
    this.commit({ ...this.policy, override: egress });
    await this.refresh('policy');
  }

  // ---------- cgroups and adoption ----------

  /** After a crash, app cgroups still exist (with their processes): take them back. */
  private async recoverCgroups(): Promise<void> {
    const entries = await readdir(this.cgroupRoot, { withFileTypes: true });
    const known = new Set<bigint>();
    for (const e of entries) {
      if (!e.isDirectory() || !e.name.startsWith('app-')) continue;
      const id = e.name.slice(4);
      const path = join(this.cgroupRoot, e.name);
      const app = this.policy.apps.find((a) => a.id === id);
      if (!app) {
        await removeCgroupTree(path, { moveTo: dirname(this.cgroupRoot) });
        continue;
      }
      const cg = { path, id: cgroupId(path) };
      this.cgroups.set(id, cg);
      this.pids.set(id, await listProcessesDeep(path)); // its processes are the app's again, at once
      this.tagger.set(cg.id, markFor(this.layout, app.tag));
      known.add(cg.id);
    }
    for (const t of this.tagger.list()) if (!known.has(BigInt(t.cgroupId))) this.tagger.delete(t.cgroupId);
  }

  private async cgroupFor(app: PolicyApp): Promise<AppCgroup> {
    const existing = this.cgroups.get(app.id);
    if (existing) return existing;
    const path = join(this.cgroupRoot, `app-${app.id}`);
    await ensureCgroup(path);
    const cg = { path, id: cgroupId(path) };
    // Tag before any process joins, so no socket of the app is ever created untagged.
    this.tagger.set(cg.id, markFor(this.layout, app.tag));
    this.cgroups.set(app.id, cg);
    return cg;
  }

  private async releaseCgroup(id: AppId): Promise<void> {
    const cg = this.cgroups.get(id);
    if (!cg) return;
    await removeCgroupTree(cg.path, { moveTo: dirname(this.cgroupRoot) });
    this.tagger.delete(cg.id);
    this.cgroups.delete(id);
    this.pids.delete(id);
  }

  /** Move a process into an app's cgroup and tag the sockets it opened before. */
  async enroll(
    id: AppId,
    pid: number,
    via: 'exec' | 'scan' | 'run',
    since?: bigint,
    exe?: string,
  ): Promise<AppCgroup> {
    const app = this.policy.apps.find((a) => a.id === id);
    if (!app) throw new ApiError('NOT_FOUND', `no app '${id}'; add it with \`switchyard app add\``);
    const cg = await this.cgroupFor(app);
    await moveProcess(pid, cg.path);
    const latencyUs = since === undefined ? 0 : Number(process.hrtime.bigint() - since) / 1000;
    const mark = markFor(this.layout, app.tag);
    let retagged = 0;
    try {
      for (const s of listInetSockets(pid)) {
        if (s.mark === mark) continue;
        setSocketMark(pid, s.fd, mark);
        retagged++;
      }
    } catch {
      // The process may have exited already; nothing to re-tag then.
    }
    const pids = new Set(this.pids.get(id) ?? []);
    pids.add(pid);
    this.pids.set(
      id,
      [...pids].sort((a, b) => a - b),
    );
    this.bus.emit('adoption', { app: id, pid, exe: exe ?? readExe(pid), latencyUs, via });
    if (retagged) this.log(`re-tagged ${retagged} socket(s) of pid ${pid} (${id})`);
    return cg;
  }

  private startProcEvents(): void {
    try {
      this.procEvents = new ProcEvents().start({ netnsPath: initialNetnsPath() });
      this.procEvents.on('exec', (e) => void this.onExec(e.pid, e.timestampNs));
      this.procEvents.on('overflow', () => void this.adoptRunning());
      this.procEvents.on('error', (err) => {
        this.problem('proc', `process events stopped (${err.message}); scanning /proc every 2 s instead`);
        this.timers.push(setInterval(() => void this.adoptRunning(), 2000));
      });
    } catch (err) {
      this.problem('proc', `no process events (${(err as Error).message}); scanning /proc every 2 s instead`);
      this.timers.push(setInterval(() => void this.adoptRunning(), 2000));
    }
  }

  private async onExec(pid: number, timestampNs: bigint | number): Promise<void> {
    if (this.stopped || pid === process.pid || !inOurNetns(pid)) return;
    try {
      // A process already inside one of our app cgroups stays with its app (multi-process apps are one app).
      const cg = await cgroupOfPid(pid);
      if (cg === null || this.isOurs(cg)) return;
      const proc = await readProcessIdentity(pid);
      if (!proc) return;
      const app = this.match(proc);
      if (app) await this.enroll(app.id, pid, 'exec', BigInt(timestampNs), proc.exe ?? undefined);
    } catch (err) {
      if (!isGone(err)) this.log(`adopting pid ${pid}: ${(err as Error).message}`);
    }
  }

  private isOurs(cgroupRelative: string): boolean {
    return join(this.cgroupMount, cgroupRelative).startsWith(`${this.cgroupRoot}/`);
  }

  private match(proc: ProcessIdentity): PolicyApp | undefined {
    if (!proc.exe || proc.pid === 1 || isHelperOrChild(proc.pid)) return undefined;
    // Hand-added and managed apps first: they are the user's explicit word; then the strongest match.
    const manual = this.policy.apps.filter((a) => a.source === 'manual');
    try {
      return (bestMatch(manual, proc) ?? bestMatch(this.policy.apps, proc))?.app;
    } catch {
      return undefined; // an invalid pattern was rejected when it was added
    }
  }

  /** Adopt every running process in our netns that matches an app: at start, after a rescan or lost events. */
  async adoptRunning(): Promise<void> {
    for (const proc of await readAllProcessIdentities()) {
      if (proc.pid === process.pid || !inOurNetns(proc.pid)) continue;
      const cg = await cgroupOfPid(proc.pid).catch(() => null);
      if (cg === null || this.isOurs(cg)) continue;
      const app = this.match(proc);
      if (!app) continue;
      await this.enroll(app.id, proc.pid, 'scan', undefined, proc.exe ?? undefined).catch((err: unknown) => {
        if (!isGone(err)) this.log(`adopting pid ${proc.pid}: ${(err as Error).message}`);
      });
    }
  }

  // ---------- egress: evaluate, compile, reconcile ----------

  /** Re-read interfaces and make the kernel match the policy. Serialized; bursts coalesce. */
  refresh(reason: 'start' | 'policy' | 'interfaces'): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          await this.refreshOnce(reason);
          this.clearProblem('reconcile');
        } catch (first) {
          // An interface that changes while the batch is applied (a link going down under a new route)
          // fails the transaction, which was rolled back; one fresh attempt settles such races.
          await new Promise((r) => setTimeout(r, RETRY_MS));
          try {
            await this.refreshOnce(reason);
            this.clearProblem('reconcile');
            this.log(`applied on the second attempt (first: ${(first as Error).message})`);
          } catch (err) {
            this.problem('reconcile', `could not apply the policy: ${(err as Error).message}`);
          }
        }
      } while (this.refreshAgain && !this.stopped);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(reason: string): Promise<void> {
    if (this.stopped) return;
    const current = await this.readInterfaces();
    const policy = this.effectivePolicy();
    this.tunnels.setApps(policy.apps.map((a) => ({ tag: a.tag, policyId: policyIdOf(a) })));
    const previous = this.evaluations;
    const next = new Map<AppId, Evaluation>();
    for (const a of policy.apps) next.set(a.id, evaluate(a.choice, current, policy));
    await this.reconciler.apply(compile(policy, current, this.layout));
    // Only now: a failed apply leaves the old view, so a retry still reports what changed.
    this.interfaces = current;
    this.evaluations = next;

    for (const a of policy.apps) {
      const was = previous.get(a.id);
      const now = next.get(a.id)!;
      if (was && was.state === now.state && was.active === now.active) continue;
      if (reason === 'interfaces') this.announce(a, was, now);
      if (was && was.active !== now.active) this.moveConnections(a.id, now.active);
    }
    this.publishViews();
  }

  /** app.changed / interface.changed for whatever differs from what clients were last told. */
  private publishViews(): void {
    this.viewEvents.publish(this.apps(), this.interfaceList());
  }

  /** The kernel's view, with our tunnels marked as such: usable once their handshake is done. */
  private async readInterfaces(): Promise<Interface[]> {
    return (await readInterfaces()).map((i) =>
      this.tunnels.has(i.name)
        ? { ...i, kind: 'tunnel' as const, usable: i.up && this.tunnels.isUp(i.name) }
        : i,
    );
  }

  private announce(a: PolicyApp, was: Evaluation | undefined, now: Evaluation): void {
    if (now.state === 'killed' && was?.state !== 'killed' && a.choice.mode === 'ordered') {
      this.bus.emit('egress.killed', { app: a.id, egresses: a.choice.egresses });
    } else if (
      was &&
      was.active !== now.active &&
      now.active &&
      (now.state === 'routed' || now.state === 'failed-over')
    ) {
      if (
        now.state === 'routed' &&
        (was.state === 'failed-over' || was.state === 'killed' || was.state === 'fallback-default')
      ) {
        this.bus.emit('egress.restored', { app: a.id, egress: now.active });
      } else {
        this.bus.emit('egress.failover', { app: a.id, from: was.active, to: now.active });
      }
    } else if (was && was.active && !now.active && now.state === 'fallback-default') {
      this.bus.emit('egress.failover', { app: a.id, from: was.active, to: null });
    }
  }

  /**
   * Existing connections follow a new egress. The mark stays (it is the app's tag) and the rules now
   * point elsewhere, so unconnected sockets move by themselves; a connected socket keeps the old
   * egress's source address, which the new path cannot carry, so it is shut down and the app reconnects.
   */
  private moveConnections(id: AppId, active: string | null): void {
    const keep = new Set(
      (active
        ? (this.interfaces.find((i) => i.name === active)?.addresses ?? [])
        : this.interfaces.flatMap((i) => i.addresses)
      ).map((a) => a.address),
    );
    for (const pid of this.pids.get(id) ?? []) {
      try {
        for (const s of listInetSockets(pid)) {
          const connected = s.remoteAddress && s.remotePort;
          const local = s.localAddress ?? '';
          if (!connected || isLoopbackOrAny(local) || keep.has(local)) continue;
          shutdownSocket(pid, s.fd);
        }
      } catch {
        // The process exited meanwhile.
      }
    }
  }

  // ---------- once a second: processes and counters ----------

  private async tick(): Promise<void> {
    if (this.stopped) return;
    for (const [id, cg] of this.cgroups) {
      this.pids.set(id, await listProcessesDeep(cg.path));
    }
    this.publishViews(); // processes came and went, a rescan added apps
    const now = Date.now();
    let counters = new Map<string, { bytes: number }>();
    try {
      counters = await readCounters(this.layout.nftTable);
    } catch (err) {
      this.problem('counters', (err as Error).message);
    }
    const apps: { id: string; txBytes: number; rxBytes: number; txRate: number; rxRate: number }[] = [];
    for (const a of this.policy.apps) {
      const c = {
        txBytes: counters.get(`tx_${a.tag}`)?.bytes ?? 0,
        rxBytes: counters.get(`rx_${a.tag}`)?.bytes ?? 0,
      };
      const r = this.rates.update(`app:${a.id}`, c, now);
      this.appCounters.set(a.id, r);
      if (this.cgroups.has(a.id)) apps.push({ id: a.id, ...r });
    }
    const interfaces: { name: string; txBytes: number; rxBytes: number; txRate: number; rxRate: number }[] =
      [];
    const links = await readLinks().catch(() => []);
    for (const i of this.interfaces) {
      const link = links.find((l) => l.name === i.name);
      if (!link) continue;
      const c = { txBytes: link.stats.txBytes, rxBytes: link.stats.rxBytes };
      const r = this.rates.update(`if:${i.name}`, c, now);
      this.ifCounters.set(i.name, r);
      interfaces.push({ name: i.name, ...r });
    }
    this.bus.emit('counters', { at: now, apps, interfaces });
  }

  // ---------- launching ----------

  /** Start an app as the calling user inside the app's cgroup; see launcher.ts for why it is safe. */
  async launch(
    id: AppId,
    peer: { pid: number; uid: number; gid: number },
    command?: string[],
  ): Promise<number> {
    const app = this.policy.apps.find((a) => a.id === id);
    if (!app) throw new ApiError('NOT_FOUND', `no app '${id}'`);
    const argv = command ?? this.catalog.get(id)?.exec;
    if (!argv?.length)
      throw new ApiError('BAD_REQUEST', `${app.name} has no command to launch; give one with command`);
    const cg = await this.cgroupFor(app);
    const env = sessionEnvironment(readEnviron(peer.pid));
    const pid = await launchAs(peer, env, argv, (p) => moveProcess(p, cg.path)).catch((err: Error) => {
      throw new ApiError('INTERNAL', `cannot launch ${app.name}: ${err.message}`);
    });
    this.bus.emit('adoption', { app: id, pid, exe: argv[0]!, latencyUs: 0, via: 'run' });
    return pid;
  }

  // ---------- explain ----------

  policyApp(id: AppId): PolicyApp & { choice: EgressChoice } {
    const a = this.effectivePolicy().apps.find((x) => x.id === id);
    if (!a) throw new ApiError('NOT_FOUND', `no app '${id}'; \`switchyard apps\` lists them`);
    return a;
  }

  get switches(): { paused: boolean; override: string | null } {
    return { paused: this.policy.paused, override: this.policy.override };
  }

  private problem(key: string, message: string): void {
    if (this.problems.get(key) === message) return;
    this.problems.set(key, message);
    this.log(message);
    this.bus.emit('helper.problem', { message, severity: 'warning' });
  }

  private clearProblem(key: string): void {
    this.problems.delete(key);
  }
}

// ---------- small helpers ----------

/**
 * The policy id a tunnel stamps on an app's packets: FNV-1a of the app and its choice, so the gateway
 * can tell which policy sent a flow, and sees a new id whenever that policy changes.
 */
export function policyIdOf(app: { id: string; choice: EgressChoice }): number {
  return fnv1a32(`${app.id}|${JSON.stringify(app.choice)}`);
}

const OWN_NETNS = readlinkSync('/proc/self/ns/net');

/**
 * The proc connector only exists in the initial network namespace. PID 1's namespace is the usual way
 * in; where PID 1 is hidden (some sandboxes), kthreadd (PID 2) always lives there too.
 */
function initialNetnsPath(): string {
  for (const path of ['/proc/1/ns/net', '/proc/2/ns/net']) {
    try {
      closeSync(openSync(path, 'r'));
      return path;
    } catch {
      // try the next one
    }
  }
  return '/proc/1/ns/net';
}

/**
 * The helper's routing applies to its own network namespace only, so it adopts only processes there:
 * a container's processes (another netns) are left alone.
 */
function inOurNetns(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`) === OWN_NETNS;
  } catch {
    return false;
  }
}

/** The helper itself and what it started (nft, ip, the data path, a launch's setpriv) are never adopted. */
function isHelperOrChild(pid: number): boolean {
  for (let p = pid, depth = 0; p > 1 && depth < 16; depth++) {
    if (p === process.pid) return true;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

function isLoopbackOrAny(address: string): boolean {
  return (
    address === '' ||
    address === '0.0.0.0' ||
    address === '::' ||
    address.startsWith('127.') ||
    address === '::1'
  );
}

function readExe(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] || `pid ${pid}`;
  } catch {
    return `pid ${pid}`;
  }
}

async function listProcessesDeep(path: string): Promise<number[]> {
  const out: number[] = [];
  const walk = async (p: string) => {
    out.push(...(await listProcesses(p).catch(() => [] as number[])));
    for (const e of await readdir(p, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(p, e.name));
    }
  };
  await walk(path);
  return out.sort((a, b) => a - b);
}

/** Homes of people logged in (uid ≥ 1000 with a home), so their own desktop files are found. */
function desktopUserHomes(): string[] {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .filter((f) => Number(f[2]) >= 1000 && Number(f[2]) < 60000 && f[5]?.startsWith('/home/'))
      .map((f) => f[5]!);
  } catch {
    return [];
  }
}

/** `switchyard helper`: run until SIGTERM/SIGINT, then clean up. */
export async function runHelper(opts: HelperOptions): Promise<number> {
  const helper = new Helper(opts);
  const { startServer } = await import('./wiring.ts');
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  // One stop, whatever the number of signals: a second Ctrl-C must not cut the clean-up short.
  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string) => {
    if (stopping) return helper.log(`${signal}: already shutting down`);
    helper.log(`${signal}: shutting down`);
    stopping = (async () => {
      await server?.close();
      await helper.stop('keep'); // a restart or an upgrade: kill switches keep holding meanwhile
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await helper.start();
  } catch (err) {
    helper.log(`cannot start: ${(err as Error).message}`);
    // An earlier run's kernel state stays: kill switches keep failing closed until a helper comes back.
    return 1;
  }
  try {
    server = await startServer(helper);
  } catch (err) {
    helper.log(`cannot start: ${(err as Error).message}`);
    await helper.stop(helper.startedFresh ? 'reset' : 'keep');
    return 1;
  }
  helper.log(`listening on ${opts.socketPath}`);
  await new Promise(() => {});
  return 0;
}
