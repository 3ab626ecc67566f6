// The socket tagger: the cgroup/sock_create program (native-helper/bpf/sock_tag.bpf.c) and its pinned
// `tags` map (cgroup id → {mark, flags}). New sockets of a process in a tagged cgroup, or in any cgroup
// up to 8 levels below a tagged one, get that mark.
import { native, TAGGER_OBJECT_PATH } from '../native.ts';
import type { CgroupIdInput, TagEntry, TaggerAttachResult, TaggerStatus } from '../native.ts';
import { BPFFS_ROOT } from './bpffs.ts';

export type { TagEntry, TaggerAttachResult, TaggerStatus } from '../native.ts';

/** Socket creation fails with EPERM instead of being marked ("hard block"). */
export const TAG_FLAG_DENY = 1;

/** The per-instance pin directory: /sys/fs/bpf/switchyard-<instance>. */
export function pinDirFor(instance: string): string {
  return `${BPFFS_ROOT}/switchyard-${instance}`;
}

export interface TaggerOptions {
  /** The cgroup the program is attached to (the helper's subtree root). */
  cgroupPath: string;
  /** bpffs directory for the pins, see pinDirFor(); ensureBpffs() mounts its filesystem. */
  pinDir: string;
  /** The compiled program; defaults to native-helper/bpf/sock_tag.bpf.o. */
  object?: string;
}

export class Tagger {
  readonly cgroupPath: string;
  readonly pinDir: string;
  readonly object: string;

  constructor(opts: TaggerOptions) {
    this.cgroupPath = opts.cgroupPath;
    this.pinDir = opts.pinDir;
    this.object = opts.object ?? TAGGER_OBJECT_PATH;
  }

  /** Loads, pins and attaches; safe to call again, including after a crash (keeps existing tags). */
  attach(): TaggerAttachResult {
    return native().taggerAttach({ object: this.object, cgroupPath: this.cgroupPath, pinDir: this.pinDir });
  }

  /** Tags a cgroup (by id, see cgroupId()). */
  set(cgroupId: CgroupIdInput, mark: number, flags = 0): void {
    native().tagSet(this.pinDir, cgroupId, mark, flags);
  }

  /** Removes a tag; returns whether it existed. */
  delete(cgroupId: CgroupIdInput): boolean {
    return native().tagDelete(this.pinDir, cgroupId);
  }

  list(): TagEntry[] {
    return native().tagList(this.pinDir);
  }

  status(): TaggerStatus {
    return native().taggerStatus({ cgroupPath: this.cgroupPath, pinDir: this.pinDir });
  }

  /** Detaches our program(s) from the cgroup and removes the pins and the pin directory. */
  detach(): { detached: number } {
    return native().taggerDetach({ cgroupPath: this.cgroupPath, pinDir: this.pinDir });
  }
}
