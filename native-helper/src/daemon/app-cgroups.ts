// The helper's cgroup subtree, `<cgroup2>/<parent>/switchyard.<instance>/app-<id>`, one cgroup per app,
// each tagged in the socket tagger before any process joins it. It owns which processes each app has.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AppId } from '../api/schema.ts';
import { Tagger, pinDirFor } from '../mechanism/bpf/tagger.ts';
import {
  cgroupId,
  ensureCgroup,
  listProcesses,
  moveProcess,
  removeCgroupTree,
} from '../mechanism/cgroup/index.ts';
import { listInetSockets, setSocketMark } from '../mechanism/sockets/index.ts';
import type { PolicyApp } from '../policy/model.ts';
import { type Layout, markFor } from '../layout/kernel-layout.ts';

export interface AppCgroup {
  path: string;
  id: bigint;
}

/** The helper instance's subtree: `<cgroup2 mount>/<parent>/switchyard.<instance>`. */
export function cgroupRootFor(mount: string, parent: string, instance: string): string {
  return join(mount, parent, `switchyard.${instance}`);
}

export class AppCgroups {
  readonly root: string;
  private readonly tagger: Tagger;
  private readonly cgroups = new Map<AppId, AppCgroup>();
  private readonly pids = new Map<AppId, number[]>();

  constructor(
    readonly mount: string,
    parent: string,
    instance: string,
    private readonly layout: Layout,
  ) {
    this.root = cgroupRootFor(mount, parent, instance);
    this.tagger = new Tagger({ cgroupPath: this.root, pinDir: pinDirFor(instance) });
  }

  /** An earlier run left the subtree (its kill switches may still hold). */
  get exists(): boolean {
    return existsSync(this.root);
  }

  async create(): Promise<void> {
    await ensureCgroup(this.root);
  }

  attachTagger(): void {
    this.tagger.attach();
  }

  /** Removes every app cgroup (their processes move to the parent) and the tagger with its pins. */
  async removeAll(): Promise<void> {
    await removeCgroupTree(this.root, { moveTo: dirname(this.root) });
    this.tagger.detach();
  }

  /** After a stop or a crash, app cgroups still exist with their processes: they are the apps' again. */
  async recover(apps: readonly PolicyApp[]): Promise<void> {
    const known = new Set<bigint>();
    for (const e of await readdir(this.root, { withFileTypes: true })) {
      if (!e.isDirectory() || !e.name.startsWith('app-')) continue;
      const id = e.name.slice(4);
      const path = join(this.root, e.name);
      const app = apps.find((a) => a.id === id);
      if (!app) {
        await removeCgroupTree(path, { moveTo: dirname(this.root) });
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

  async cgroupFor(app: PolicyApp): Promise<AppCgroup> {
    const existing = this.cgroups.get(app.id);
    if (existing) return existing;
    const path = join(this.root, `app-${app.id}`);
    await ensureCgroup(path);
    const cg = { path, id: cgroupId(path) };
    // Tag before any process joins, so no socket of the app is ever created untagged.
    this.tagger.set(cg.id, markFor(this.layout, app.tag));
    this.cgroups.set(app.id, cg);
    return cg;
  }

  async release(id: AppId): Promise<void> {
    const cg = this.cgroups.get(id);
    if (!cg) return;
    await removeCgroupTree(cg.path, { moveTo: dirname(this.root) });
    this.tagger.delete(cg.id);
    this.cgroups.delete(id);
    this.pids.delete(id);
  }

  /** Moves a process into the app's cgroup and marks the sockets it opened before; returns how many. */
  async join(app: PolicyApp, pid: number): Promise<{ cgroup: AppCgroup; retagged: number }> {
    const cgroup = await this.cgroupFor(app);
    await moveProcess(pid, cgroup.path);
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
    this.pids.set(
      app.id,
      [...new Set([...(this.pids.get(app.id) ?? []), pid])].sort((a, b) => a - b),
    );
    return { cgroup, retagged };
  }

  has(id: AppId): boolean {
    return this.cgroups.has(id);
  }

  pidsOf(id: AppId): number[] {
    return this.pids.get(id) ?? [];
  }

  /** Re-reads every app's processes (they fork and exit on their own). */
  async refreshPids(): Promise<void> {
    for (const [id, cg] of this.cgroups) this.pids.set(id, await listProcessesDeep(cg.path));
  }

  /** Whether a /proc/PID/cgroup path (relative to the mount) is inside our subtree. */
  isOurs(cgroupRelative: string): boolean {
    return join(this.mount, cgroupRelative).startsWith(`${this.root}/`);
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
