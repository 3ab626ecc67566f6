// The helper's cgroup subtree, `<cgroup2>/<parent>/switchyard.<instance>/app-<id>`, one cgroup per app,
// each tagged in the socket tagger before any process joins it. It owns which processes each app has.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AppId } from '../api/schema.ts';
import { type TagEntry, Tagger, pinDirFor } from '../mechanism/bpf/tagger.ts';
import { Classifier, classifierPinDirFor } from '../mechanism/bpf/classifier.ts';
import type { ClassifierPort } from '../reconcile/reconciler.ts';
import {
  cgroupId,
  ensureCgroup,
  listProcesses,
  moveProcess,
  setFrozen,
  removeCgroupTree,
} from '../mechanism/cgroup/index.ts';
import * as kernelSockets from '../mechanism/sockets/index.ts';
import type { SocketInfo } from '../mechanism/sockets/index.ts';
import type { PolicyApp } from '../policy/model.ts';
import { type Layout, markFor } from '../layout/kernel-layout.ts';

export interface AppCgroup {
  path: string;
  id: bigint;
}

/** The cgroup v2 hierarchy as the subtree uses it (mechanism/cgroup, plus reading directories). */
export interface CgroupTree {
  exists(path: string): boolean;
  /** Creates the cgroup and its parents; fine if it exists. */
  ensure(path: string): Promise<void>;
  /** The names of the cgroups directly below. */
  children(path: string): Promise<string[]>;
  id(path: string): bigint;
  /** PIDs directly in the cgroup. */
  processes(path: string): Promise<number[]>;
  moveProcess(pid: number, path: string): Promise<void>;
  /** Removes the cgroup and everything below, moving their processes to moveTo first. */
  removeTree(path: string, opts: { moveTo: string }): Promise<void>;
  /** Freezes or thaws its processes; whether the kernel reported it done. */
  setFrozen(path: string, frozen: boolean): Promise<boolean>;
}

/** The socket tagger's map, cgroup id → mark (mechanism/bpf/tagger.ts). */
export interface TagMap {
  attach(): unknown;
  detach(): unknown;
  set(cgroupId: bigint, mark: number): void;
  delete(cgroupId: bigint): boolean;
  list(): TagEntry[];
}

/** Sockets a process opened before it joined its app, to mark them as the tagger marks new ones. */
export interface SocketRetagger {
  listInetSockets(pid: number): SocketInfo[];
  setSocketMark(pid: number, fd: number, mark: number): void;
}

/** What AppCgroups does to the kernel; the real mechanisms unless a test stands in (daemon-testing/). */
export interface AppCgroupsKernel {
  cgroups: CgroupTree;
  tagger: TagMap;
  sockets: SocketRetagger;
  classifier: FlowClassifier;
}

/** The encryption rules' classifier on the subtree (mechanism/bpf/classifier.ts). */
export interface FlowClassifier extends ClassifierPort {
  attach(): unknown;
  detach(): unknown;
}

const kernelCgroups: CgroupTree = {
  exists: existsSync,
  ensure: ensureCgroup,
  children: async (path) =>
    (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name),
  id: cgroupId,
  processes: listProcesses,
  moveProcess,
  removeTree: removeCgroupTree,
  setFrozen,
};

/** The helper instance's subtree: `<cgroup2 mount>/<parent>/switchyard.<instance>`. */
export function cgroupRootFor(mount: string, parent: string, instance: string): string {
  return join(mount, parent, `switchyard.${instance}`);
}

export class AppCgroups {
  readonly root: string;
  private readonly tree: CgroupTree;
  private readonly tagger: TagMap;
  private readonly sockets: SocketRetagger;
  /** connect()/sendmsg() decide each flow by the encryption rules, for every app below the root. */
  readonly classifier: FlowClassifier;
  private readonly cgroups = new Map<AppId, AppCgroup>();
  private readonly pids = new Map<AppId, number[]>();

  constructor(
    readonly mount: string,
    parent: string,
    instance: string,
    private readonly layout: Layout,
    kernel: Partial<AppCgroupsKernel> = {},
  ) {
    this.root = cgroupRootFor(mount, parent, instance);
    this.tree = kernel.cgroups ?? kernelCgroups;
    this.tagger = kernel.tagger ?? new Tagger({ cgroupPath: this.root, pinDir: pinDirFor(instance) });
    this.sockets = kernel.sockets ?? kernelSockets;
    this.classifier =
      kernel.classifier ??
      new Classifier({ cgroupPath: this.root, pinDir: classifierPinDirFor(pinDirFor(instance)) });
  }

  /** An earlier run left the subtree (its kill switches may still hold). */
  get exists(): boolean {
    return this.tree.exists(this.root);
  }

  async create(): Promise<void> {
    await this.tree.ensure(this.root);
  }

  /** The tagger, then the classifier (it reads the marks the tagger gives). */
  attachTagger(): void {
    this.tagger.attach();
    this.classifier.attach();
  }

  /** Removes every app cgroup (their processes move to the parent), the tagger and classifier with their pins. */
  async removeAll(): Promise<void> {
    this.classifier.detach();
    await this.tree.removeTree(this.root, { moveTo: dirname(this.root) });
    this.tagger.detach();
  }

  /** After a stop or a crash, app cgroups still exist with their processes: they are the apps' again. */
  async recover(apps: readonly PolicyApp[]): Promise<void> {
    const known = new Set<bigint>();
    for (const name of await this.tree.children(this.root)) {
      if (!name.startsWith('app-')) continue;
      const id = name.slice(4);
      const path = join(this.root, name);
      const app = apps.find((a) => a.id === id);
      if (!app) {
        await this.tree.removeTree(path, { moveTo: dirname(this.root) });
        continue;
      }
      const cg = { path, id: this.tree.id(path) };
      this.cgroups.set(id, cg);
      this.pids.set(id, await this.processesDeep(path)); // its processes are the app's again, at once
      this.tagger.set(cg.id, this.markOf(app));
      known.add(cg.id);
    }
    for (const t of this.tagger.list()) if (!known.has(BigInt(t.cgroupId))) this.tagger.delete(t.cgroupId);
  }

  async cgroupFor(app: PolicyApp): Promise<AppCgroup> {
    const existing = this.cgroups.get(app.id);
    if (existing) return existing;
    const path = join(this.root, `app-${app.id}`);
    await this.tree.ensure(path);
    const cg = { path, id: this.tree.id(path) };
    // Tag before any process joins, so no socket of the app is ever created untagged.
    this.tagger.set(cg.id, this.markOf(app));
    this.cgroups.set(app.id, cg);
    return cg;
  }

  async release(id: AppId): Promise<void> {
    const cg = this.cgroups.get(id);
    if (!cg) return;
    await this.tree.removeTree(cg.path, { moveTo: dirname(this.root) });
    this.tagger.delete(cg.id);
    this.cgroups.delete(id);
    this.pids.delete(id);
  }

  /** Moves a process into the app's cgroup and marks the sockets it opened before; returns how many. */
  async join(app: PolicyApp, pid: number): Promise<{ cgroup: AppCgroup; retagged: number }> {
    const cgroup = await this.cgroupFor(app);
    await this.tree.moveProcess(pid, cgroup.path);
    const mark = this.markOf(app);
    let retagged = 0;
    try {
      for (const s of this.sockets.listInetSockets(pid)) {
        if (s.mark === mark) continue;
        this.sockets.setSocketMark(pid, s.fd, mark);
        retagged++;
      }
    } catch {
      // The process may have exited already; nothing to re-tag then.
    }
    this.pids.set(
      app.id,
      [...new Set([...(this.pids.get(app.id) ?? []), pid])].sort((a, b) => a - b),
    );
    return { cgroup, retagged };
  }

  has(id: AppId): boolean {
    return this.cgroups.has(id);
  }

  /**
   * Freezes the apps' processes (while new rules for them go into the kernel, so nothing leaves in
   * between) and returns the thaw. Apps without a cgroup are skipped.
   */
  async freeze(ids: readonly AppId[]): Promise<() => Promise<void>> {
    const paths = ids.flatMap((id) => {
      const cg = this.cgroups.get(id);
      return cg ? [cg.path] : [];
    });
    const frozen: string[] = [];
    for (const p of paths) if (await this.tree.setFrozen(p, true).catch(() => false)) frozen.push(p);
    return async () => {
      for (const p of frozen) await this.tree.setFrozen(p, false).catch(() => false);
    };
  }

  pidsOf(id: AppId): number[] {
    return this.pids.get(id) ?? [];
  }

  /** Re-reads every app's processes (they fork and exit on their own). */
  async refreshPids(): Promise<void> {
    for (const [id, cg] of this.cgroups) this.pids.set(id, await this.processesDeep(cg.path));
  }

  /** Whether a /proc/PID/cgroup path (relative to the mount) is inside our subtree. */
  isOurs(cgroupRelative: string): boolean {
    return join(this.mount, cgroupRelative).startsWith(`${this.root}/`);
  }

  /** The mark the tagger gives the app's sockets: its tag in this instance's marks. */
  private markOf(app: PolicyApp): number {
    return markFor(this.layout, app.tag);
  }

  /** The processes of a cgroup and of every cgroup below it (an app may make its own). */
  private async processesDeep(path: string): Promise<number[]> {
    const out: number[] = [];
    const walk = async (p: string) => {
      out.push(...(await this.tree.processes(p).catch(() => [] as number[])));
      for (const child of await this.tree.children(p).catch(() => [] as string[])) await walk(join(p, child));
    };
    await walk(path);
    return out.sort((a, b) => a - b);
  }
}
