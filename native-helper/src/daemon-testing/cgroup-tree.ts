// A cgroup v2 hierarchy in memory, for unit tests of daemon/app-cgroups.ts without root. It keeps the
// kernel's rules that matter there: a process is in exactly one cgroup, a cgroup must exist to take one,
// removing a tree moves its processes out first, and every cgroup has its own id.
import { dirname, join } from 'node:path';
import type { CgroupTree } from '../daemon/app-cgroups.ts';

function enoent(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such cgroup, ${path}`), { code: 'ENOENT' });
}

export class MemoryCgroupTree implements CgroupTree {
  private readonly nodes = new Map<string, { id: bigint; pids: Set<number> }>();
  private nextId = 4096n;

  /** `mount`: the hierarchy's root, which exists from the start (as the real mount does). */
  constructor(readonly mount: string) {
    this.nodes.set(mount, { id: this.nextId++, pids: new Set() });
  }

  exists(path: string): boolean {
    return this.nodes.has(path);
  }

  async ensure(path: string): Promise<void> {
    if (this.nodes.has(path)) return;
    if (!path.startsWith(`${this.mount}/`))
      throw new Error(`${path} is outside the cgroup mount ${this.mount}`);
    await this.ensure(dirname(path));
    this.nodes.set(path, { id: this.nextId++, pids: new Set() });
  }

  async children(path: string): Promise<string[]> {
    this.node(path);
    return [...this.nodes.keys()]
      .filter((p) => dirname(p) === path && p !== path)
      .map((p) => p.slice(path.length + 1));
  }

  id(path: string): bigint {
    return this.node(path).id;
  }

  async processes(path: string): Promise<number[]> {
    return [...this.node(path).pids].sort((a, b) => a - b);
  }

  async moveProcess(pid: number, path: string): Promise<void> {
    this.spawn(pid, path);
  }

  async removeTree(path: string, opts: { moveTo: string }): Promise<void> {
    if (!this.nodes.has(path)) return;
    for (const child of await this.children(path)) await this.removeTree(join(path, child), opts);
    for (const pid of await this.processes(path)) await this.moveProcess(pid, opts.moveTo);
    this.nodes.delete(path);
  }

  readonly frozen = new Set<string>();

  async setFrozen(path: string, frozen: boolean): Promise<boolean> {
    this.node(path);
    if (frozen) this.frozen.add(path);
    else this.frozen.delete(path);
    return true;
  }

  /** A process appears in a cgroup by itself (it forked there, or started there before the helper). */
  spawn(pid: number, path: string): void {
    const to = this.node(path);
    this.exit(pid);
    to.pids.add(pid);
  }

  /** A process exits. */
  exit(pid: number): void {
    for (const n of this.nodes.values()) n.pids.delete(pid);
  }

  /** The cgroup a process is in, or null when it is in none (exited, or never seen). */
  cgroupOf(pid: number): string | null {
    for (const [path, n] of this.nodes) if (n.pids.has(pid)) return path;
    return null;
  }

  private node(path: string): { id: bigint; pids: Set<number> } {
    const n = this.nodes.get(path);
    if (!n) throw enoent(path);
    return n;
  }
}
