// The BPF filesystem the tagger pins into. A fresh machine without systemd's or Cilium's mount has
// none at /sys/fs/bpf, so whoever pins mounts one first (as they do).
import { native } from '../native.ts';

export const BPFFS_ROOT = '/sys/fs/bpf';

/** Mounts bpffs at mountPoint unless one is there; returns whether it mounted one now. */
export function ensureBpffs(mountPoint: string = BPFFS_ROOT): boolean {
  return native().ensureBpffs(mountPoint);
}
