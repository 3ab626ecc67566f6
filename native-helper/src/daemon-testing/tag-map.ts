// The socket tagger's pinned map in memory (cgroup id → mark), for unit tests of daemon/app-cgroups.ts
// without root. Like the real one, tags can only be set while the program is attached (its map pinned),
// an attach keeps the entries an earlier run left, and a detach removes the map with them.
import type { TagEntry } from '../mechanism/bpf/tagger.ts';
import type { TagMap } from '../daemon/app-cgroups.ts';

export class MemoryTagMap implements TagMap {
  private readonly entries = new Map<bigint, number>();
  attached = false;

  /** Entries a previous helper left in the pinned map (it survives the helper). */
  constructor(left: readonly { cgroupId: bigint; mark: number }[] = []) {
    for (const e of left) this.entries.set(e.cgroupId, e.mark);
  }

  attach(): void {
    this.attached = true;
  }

  detach(): void {
    this.attached = false;
    this.entries.clear();
  }

  set(cgroupId: bigint, mark: number): void {
    this.pinned();
    this.entries.set(cgroupId, mark);
  }

  delete(cgroupId: bigint): boolean {
    this.pinned();
    return this.entries.delete(cgroupId);
  }

  list(): TagEntry[] {
    this.pinned();
    return [...this.entries].map(([cgroupId, mark]) => ({ cgroupId, mark, flags: 0 }));
  }

  /** The mark new sockets in this cgroup get, or undefined when it is not tagged. */
  markOf(cgroupId: bigint): number | undefined {
    return this.entries.get(cgroupId);
  }

  private pinned(): void {
    if (!this.attached) throw new Error('no tag map pinned: attach the tagger first');
  }
}
