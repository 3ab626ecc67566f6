// The lab's API for tests, benchmarks and the CLI: bring the namespaced network up, drive it, take it down.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { output, run, type RunOptions, type RunResult } from '../../native-helper/src/mechanism/exec.ts';
import type { TrafficRecord } from './apps/traffic-log.ts';
import { parseResolverLog, type ResolverQuery } from './servers/resolver-log.ts';
import { downByPrefix, labNamespaces, type DownReport } from './cleanup.ts';
import { appArgv, writeDesktopEntries } from './desktop-entries.ts';
import { applyFragment, ipBatch, routeLine } from './engine.ts';
import {
  downSyncInChild,
  isAlive,
  killPid,
  labArgv,
  processStartTime,
  startAttached,
  startDetached,
  type Started,
} from './processes.ts';
import {
  dataDir,
  logDir,
  readState,
  stateDir,
  writeState,
  type LabState,
  type TrackedProcess,
} from './state.ts';
import {
  checkPrefix,
  describeLab,
  describeUplink,
  desktopDefaultRoutes,
  nsName,
  resolverServer,
  uplinkFragment,
  type Role,
  type ServerSpec,
  type Topology,
  type UplinkSpec,
} from './topology.ts';

export { downByPrefix, type DownReport } from './cleanup.ts';
export type { Role, UplinkSpec } from './topology.ts';
export type { TrafficRecord } from './apps/traffic-log.ts';
export type { ResolverQuery } from './servers/resolver-log.ts';

export const DEFAULT_PREFIX = 'sylab';
export const DEFAULT_UPLINKS = 2;

export interface UpOptions {
  /** Default: "sylab"; tests should pass Lab.randomPrefix(). */
  prefix?: string;
  uplinks?: number;
  startApps?: boolean;
  /** Take the lab down on exit, SIGINT, SIGTERM or an uncaught error (default true; the CLI turns it off). */
  cleanupOnExit?: boolean;
}

export interface LabUplink extends UplinkSpec {
  /** The ISP namespace's full name. */
  ispNs: string;
}

export interface LabServers {
  v4: string;
  v6: string;
  gatewayV4: string;
  gatewayV6: string;
  dnsV4: string;
  dnsV6: string;
  httpPort: number;
  udpEchoPort: number;
  dnsPort: number;
  iperf3Port: number;
  /** Names the lab DNS answers. */
  names: { server: string; gateway: string; whoami: string };
}

export interface RunningApp {
  name: string;
  pid: number;
  logFile: string;
  /** The app's JSON-line traffic log so far (other lines, e.g. from a launcher, are skipped). */
  readLog(): Promise<TrafficRecord[]>;
  stop(): Promise<void>;
}

export interface StartAppOptions {
  /** A launcher argv put in front, e.g. ['switchyard', 'run', '--app', 'x', '--']. */
  via?: string[];
  /** Extra app flags, e.g. ['--interval-ms', '500']. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface UplinkStatus {
  id: string;
  kind: string;
  ifname: string;
  ispNs: string;
  metric: number;
  admin: 'up' | 'down';
  operstate: string;
  addresses: string[];
  gateways: { v4: string; v6: string };
  rateMbit: number | null;
}

export interface LabStatus {
  prefix: string;
  namespaces: Array<{ name: string; exists: boolean }>;
  uplinks: UplinkStatus[];
  servers: LabServers;
  processes: Array<{
    name: string;
    kind: TrackedProcess['kind'];
    pid: number;
    running: boolean;
    logFile: string | null;
  }>;
  dataDir: string;
}

const liveLabs = new Set<string>();
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

function onExit(): void {
  for (const prefix of liveLabs) downSyncInChild(prefix);
  liveLabs.clear();
}

// Node does not emit 'exit' when an uncaught error kills the process; clean up first. When someone
// else handles uncaught errors (e.g. a test runner), the process lives on and 'exit' cleans up later.
function onUncaught(): void {
  if (process.listenerCount('uncaughtException') === 0) onExit();
}

function onSignal(signal: keyof typeof SIGNAL_NUMBERS): void {
  // Someone else handles the signal too (`npm start`'s orderly stop, a test runner): they stop what
  // runs on the lab first and take it down; 'exit' still catches a lab they leave behind.
  if (process.listenerCount(signal) > 1) return;
  onExit();
  uninstallExitHandlers();
  process.exit(128 + SIGNAL_NUMBERS[signal]);
}
const onSigint = () => onSignal('SIGINT');
const onSigterm = () => onSignal('SIGTERM');

function installExitHandlers(): void {
  if (process.listeners('exit').includes(onExit)) return;
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onUncaught);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
}

function uninstallExitHandlers(): void {
  process.off('exit', onExit);
  process.off('uncaughtExceptionMonitor', onUncaught);
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('The lab creates network namespaces and needs root; run it with sudo.');
  }
}

export class Lab {
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private topology: Topology,
    private state: LabState,
  ) {}

  /** "syt" + 5 random characters, the naming tests use. */
  static randomPrefix(): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    return 'syt' + [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
  }

  static async up(opts: UpOptions = {}): Promise<Lab> {
    requireRoot();
    const prefix = checkPrefix(opts.prefix ?? DEFAULT_PREFIX);
    if ((await labNamespaces(prefix)).length > 0 || (await readState(prefix).catch(() => null))) {
      throw new Error(
        `A lab named "${prefix}" already exists; take it down first (lab down --prefix ${prefix}).`,
      );
    }
    const topology = describeLab(prefix, opts.uplinks ?? DEFAULT_UPLINKS);
    const lab = new Lab(topology, {
      version: 1,
      prefix,
      createdAt: new Date().toISOString(),
      uplinkCount: topology.uplinks.length,
      owner:
        opts.cleanupOnExit === false
          ? null
          : { pid: process.pid, startTime: processStartTime(process.pid) ?? '' },
      uplinks: topology.uplinks.map((u) => ({ id: u.id, admin: 'up', rateMbit: null })),
      processes: [],
    });
    if (opts.cleanupOnExit !== false) {
      liveLabs.add(prefix);
      installExitHandlers();
    }
    try {
      await mkdir(logDir(prefix), { recursive: true });
      await lab.save();
      await applyFragment(prefix, topology.core);
      for (const fragment of topology.uplinkFragments) await applyFragment(prefix, fragment);
      await lab.writeResolvConf();
      await writeDesktopEntries(lab.dataDir, topology.apps);
      await lab.startServers();
      if (opts.startApps) for (const app of topology.apps) await lab.startApp(app.name);
    } catch (err) {
      await lab.down().catch(() => {});
      throw err;
    }
    return lab;
  }

  /** A lab brought up by another process (e.g. `lab up`). It is not taken down when this process exits. */
  static async attach(prefix: string = DEFAULT_PREFIX): Promise<Lab> {
    checkPrefix(prefix);
    const state = await readState(prefix);
    if (!state)
      throw new Error(`No lab named "${prefix}" is up; start one with "lab up --prefix ${prefix}".`);
    return new Lab(describeLab(prefix, state.uplinkCount), state);
  }

  get prefix(): string {
    return this.topology.prefix;
  }

  /** XDG data dir with share/applications/*.desktop and icons for the sample apps (use in XDG_DATA_DIRS). */
  get dataDir(): string {
    return dataDir(this.prefix);
  }

  get stateDir(): string {
    return stateDir(this.prefix);
  }

  get uplinks(): LabUplink[] {
    return this.topology.uplinks.map((u) => ({ ...u, ispNs: nsName(this.prefix, u.ispRole) }));
  }

  get servers(): LabServers {
    const { addresses: a, ports: p } = this.topology;
    return {
      v4: a.serversV4,
      v6: a.serversV6,
      gatewayV4: a.gatewayV4,
      gatewayV6: a.gatewayV6,
      dnsV4: a.dnsV4,
      dnsV6: a.dnsV6,
      httpPort: p.http,
      udpEchoPort: p.udpEcho,
      dnsPort: p.dns,
      iperf3Port: p.iperf3,
      names: { server: 'server.lab', gateway: 'gateway.lab', whoami: 'whoami.lab' },
    };
  }

  get appNames(): string[] {
    return this.topology.apps.map((a) => a.name);
  }

  nsName(role: Role): string {
    return nsName(this.prefix, role);
  }

  uplink(id: string): LabUplink {
    const u = this.uplinks.find((x) => x.id === id || x.ifname === id);
    if (!u)
      throw new Error(
        `The lab has no uplink "${id}"; it has ${this.uplinks.map((x) => `${x.id} (${x.ifname})`).join(', ')}.`,
      );
    return u;
  }

  /** Run a command inside a namespace and return its stdout; throws on a non-zero exit. */
  async exec(role: Role, argv: string[], opts: Omit<RunOptions, 'allowFailure'> = {}): Promise<string> {
    return (await this.run(role, argv, opts)).stdout;
  }

  /** Run a command inside a namespace and return code, stdout and stderr. */
  run(role: Role, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.nsName(role), ...argv], opts);
  }

  /** Start a process inside a namespace with piped stdio; it is killed on down. */
  async spawn(
    role: Role,
    argv: string[],
    opts: { env?: NodeJS.ProcessEnv } = {},
  ): Promise<ChildProcess & Started> {
    const child = startAttached(this.nsName(role), argv, opts.env);
    await this.track({
      pid: child.pid,
      startTime: child.startTime,
      name: argv[0] ?? '?',
      kind: 'spawn',
      role,
      argv,
      logFile: null,
    });
    return child;
  }

  async setUplink(id: string, admin: 'up' | 'down'): Promise<void> {
    const u = this.uplink(id);
    // Like NetworkManager: the interface goes down (the kernel drops its routes); coming back, the
    // default routes are put back with their metric.
    const lines = [`link set ${u.ifname} ${admin}`];
    if (admin === 'up') lines.push(...desktopDefaultRoutes(u).map((r) => routeLine('replace', r)));
    await ipBatch(this.prefix, 'desktop', lines);
    await this.updateUplinkState(u.id, { admin });
  }

  /**
   * The uplink joins another network, as a laptop does when it roams to another access point's network:
   * the link goes down, the far side now answers with another MAC (the network's fingerprint), and the
   * link comes back with its routes. Returns the new gateway MAC, when the link was down (nothing
   * left by the old network after that) and when it was up on the new one (Date.now() values).
   */
  async moveUplink(
    id: string,
    /** The network to join, by its gateway's MAC (e.g. back to one seen before); a new one if absent. */
    to?: string,
  ): Promise<{ gatewayMac: string; downAt: number; upAt: number }> {
    const u = this.uplink(id);
    const gatewayMac =
      to ?? ['02', ...Array.from(randomBytes(5), (b) => b.toString(16).padStart(2, '0'))].join(':');
    await ipBatch(this.prefix, 'desktop', [`link set ${u.ifname} down`]);
    const downAt = Date.now();
    await run(['ip', '-n', u.ispNs, 'link', 'set', 'dev', u.ispIfname, 'address', gatewayMac]);
    await this.setUplink(id, 'up');
    return { gatewayMac, downAt, upAt: Date.now() };
  }

  /** Limit the uplink in both directions with tc tbf; null removes the limit. */
  async rateLimit(id: string, rateMbit: number | null): Promise<void> {
    const u = this.uplink(id);
    const ends: Array<[string, string]> = [
      [this.nsName('desktop'), u.ifname],
      [u.ispNs, u.ispIfname],
    ];
    for (const [ns, dev] of ends) {
      if (rateMbit === null) {
        await run(['tc', '-n', ns, 'qdisc', 'del', 'dev', dev, 'root'], { allowFailure: true });
      } else {
        if (!(rateMbit > 0)) throw new Error(`Rate must be a positive number of Mbit/s; got ${rateMbit}.`);
        // Burst: 10 ms worth of traffic, at least a few full-size packets.
        const burstBytes = Math.max(16_000, Math.round((rateMbit * 1e6) / 8 / 100));
        await run([
          'tc',
          '-n',
          ns,
          'qdisc',
          'replace',
          'dev',
          dev,
          'root',
          'tbf',
          'rate',
          `${rateMbit}mbit`,
          'burst',
          String(burstBytes),
          'latency',
          '50ms',
        ]);
      }
    }
    await this.updateUplinkState(u.id, { rateMbit });
  }

  /** Add the next uplink (its ISP namespace, links and routes) to the running lab. */
  async addUplink(): Promise<LabUplink> {
    const spec = describeUplink(this.topology.uplinks.length);
    await applyFragment(this.prefix, uplinkFragment(spec));
    this.topology = describeLab(this.prefix, this.topology.uplinks.length + 1);
    this.state.uplinkCount = this.topology.uplinks.length;
    this.state.uplinks.push({ id: spec.id, admin: 'up', rateMbit: null });
    await this.save();
    await this.startServer(resolverServer(spec));
    return this.uplink(spec.id);
  }

  /** Start a sample app in the desktop namespace; its JSON-line traffic log goes to a file. */
  async startApp(name: string, opts: StartAppOptions = {}): Promise<RunningApp> {
    const app = this.topology.apps.find((a) => a.name === name);
    if (!app) throw new Error(`No sample app "${name}"; choose one of ${this.appNames.join(', ')}.`);
    const argv = [...(opts.via ?? []), ...appArgv(app, opts.args)];
    const logFile = join(logDir(this.prefix), `${name}.${this.state.processes.length}.log`);
    const started = startDetached(this.nsName('desktop'), argv, logFile, opts.env);
    await this.track({ ...started, name, kind: 'app', role: 'desktop', argv, logFile });
    return {
      name,
      pid: started.pid,
      logFile,
      readLog: async () => parseTrafficLog(await readFile(logFile, 'utf8').catch(() => '')),
      stop: async () => {
        await killPid(started.pid, started.startTime);
      },
    };
  }

  async status(): Promise<LabStatus> {
    const existing = new Set(await labNamespaces(this.prefix));
    const roles: Role[] = ['desktop', ...this.topology.uplinks.map((u) => u.ispRole), 'internet', 'gateway'];
    const desktopUp = existing.has(this.nsName('desktop'));
    type IpAddr = {
      ifname: string;
      operstate: string;
      addr_info: Array<{ local: string; prefixlen: number; scope: string }>;
    };
    const links: IpAddr[] = desktopUp
      ? JSON.parse(await output(['ip', '-n', this.nsName('desktop'), '-j', 'address', 'show']))
      : [];
    const state = (await readState(this.prefix).catch(() => null)) ?? this.state;
    return {
      prefix: this.prefix,
      namespaces: roles.map((r) => ({ name: this.nsName(r), exists: existing.has(this.nsName(r)) })),
      uplinks: this.uplinks.map((u) => {
        const link = links.find((l) => l.ifname === u.ifname);
        const saved = state.uplinks.find((s) => s.id === u.id);
        return {
          id: u.id,
          kind: u.kind,
          ifname: u.ifname,
          ispNs: u.ispNs,
          metric: u.metric,
          admin: saved?.admin ?? 'up',
          operstate: link?.operstate ?? 'MISSING',
          addresses: (link?.addr_info ?? [])
            .filter((a) => a.scope === 'global')
            .map((a) => `${a.local}/${a.prefixlen}`),
          gateways: { v4: u.v4.gateway, v6: u.v6.gateway },
          rateMbit: saved?.rateMbit ?? null,
        };
      }),
      servers: this.servers,
      processes: state.processes.map((p) => ({
        name: p.name,
        kind: p.kind,
        pid: p.pid,
        running: isAlive(p.pid, p.startTime),
        logFile: p.logFile,
      })),
      dataDir: this.dataDir,
    };
  }

  /** Remove everything this lab (and a helper instance named like it) created. Idempotent. */
  async down(): Promise<DownReport> {
    const report = await downByPrefix(this.prefix);
    liveLabs.delete(this.prefix);
    if (liveLabs.size === 0) uninstallExitHandlers();
    return report;
  }

  // ---------- internals ----------

  /** Saves run one after another, so the file always ends up with the latest state. */
  private save(): Promise<void> {
    const next = this.saving.catch(() => {}).then(() => writeState(this.state));
    this.saving = next;
    return next;
  }

  private async track(p: TrackedProcess): Promise<void> {
    this.state.processes.push(p);
    await this.save();
  }

  private async updateUplinkState(
    id: string,
    change: { admin?: 'up' | 'down'; rateMbit?: number | null },
  ): Promise<void> {
    const u = this.state.uplinks.find((s) => s.id === id);
    if (u) Object.assign(u, change);
    await this.save();
  }

  /**
   * What the desktop's resolv.conf names (`ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over
   * /etc/resolv.conf, so it applies to processes started after this):
   *   lab-dns  the lab DNS server in the internet namespace, asked directly (the default; existing tests
   *            read whoami.lab's TXT as "the address the app's lookup left from");
   *   stub     127.0.0.53, like a desktop with systemd-resolved: the stub (servers/stub.ts) forwards to
   *            the default uplink's ISP resolver (servers/resolver.ts).
   */
  async setSystemResolver(which: 'lab-dns' | 'stub'): Promise<void> {
    const dir = join('/etc/netns', this.nsName('desktop'));
    await mkdir(dir, { recursive: true });
    const { dnsV4, dnsV6 } = this.servers;
    const servers = which === 'stub' ? ['127.0.0.53'] : [dnsV4, dnsV6];
    await writeFile(
      join(dir, 'resolv.conf'),
      `# Switchyard lab ${this.prefix} (${which})\n${servers.map((s) => `nameserver ${s}\n`).join('')}options timeout:2 attempts:2\n`,
    );
  }

  private async writeResolvConf(): Promise<void> {
    await rm(join('/etc/netns', this.nsName('desktop')), { recursive: true, force: true });
    await this.setSystemResolver('lab-dns');
  }

  private async startServers(): Promise<void> {
    for (const server of this.topology.servers) await this.startServer(server);
  }

  private async startServer(server: ServerSpec): Promise<void> {
    const argv = labArgv(server.argv);
    const logFile = join(logDir(this.prefix), `${server.name}.log`);
    const started = startDetached(this.nsName(server.role), argv, logFile);
    await this.track({ ...started, name: server.name, kind: 'server', role: server.role, argv, logFile });
    if (server.readyLine) await waitForLine(logFile, server.readyLine, started, server.name);
  }

  /** The queries an uplink's ISP resolver ('gateway': the gateway's) answered so far (servers/resolver.ts). */
  async resolverQueries(id: string): Promise<ResolverQuery[]> {
    const name = id === 'gateway' ? 'resolver-gw' : `resolver-${this.uplink(id).id}`;
    return parseResolverLog(await readFile(join(logDir(this.prefix), `${name}.log`), 'utf8'));
  }
}

export function parseTrafficLog(text: string): TrafficRecord[] {
  const records: TrafficRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const r = JSON.parse(line) as TrafficRecord;
      if (typeof r.kind === 'string' && typeof r.ok === 'boolean') records.push(r);
    } catch {
      // a partial last line
    }
  }
  return records;
}

async function waitForLine(
  logFile: string,
  line: string,
  p: Started,
  name: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    if (text.includes(line)) return;
    if (!isAlive(p.pid, p.startTime)) {
      throw new Error(
        `Lab server ${name} exited during start-up: ${text.trim().split('\n').slice(-3).join(' | ') || '(no output)'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `Lab server ${name} did not report "${line}" within ${timeoutMs / 1000} s; see ${logFile}.`,
  );
}
