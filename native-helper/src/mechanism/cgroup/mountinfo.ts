// Pure parsers for /proc/self/mountinfo and /proc/PID/cgroup (unit-tested without root).

export interface MountInfoEntry {
  mountId: number;
  parentId: number;
  /** Path inside the filesystem that is mounted (field 4). */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    const [mountId, parentId, , root, mountPoint] = left;
    const [fsType, source] = right;
    if (!mountId || !parentId || root === undefined || mountPoint === undefined || !fsType) continue;
    entries.push({
      mountId: Number(mountId),
      parentId: Number(parentId),
      root: unescapeOctal(root),
      mountPoint: unescapeOctal(mountPoint),
      fsType,
      source: source ?? '',
    });
  }
  return entries;
}

/** The mount point of the cgroup v2 hierarchy (the one mounted at its root if several), or null. */
export function cgroup2MountFrom(text: string): string | null {
  const mounts = parseMountInfo(text).filter((m) => m.fsType === 'cgroup2');
  const best = mounts.find((m) => m.root === '/') ?? mounts[0];
  return best ? best.mountPoint : null;
}

/** The cgroup v2 path ("0::" line) of a /proc/PID/cgroup file, e.g. "/switchyard.x/app-1", or null. */
export function parseProcCgroup(text: string): string | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('0::')) return line.slice(3).replace(/ \(deleted\)$/, '') || '/';
  }
  return null;
}
