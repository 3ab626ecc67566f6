// Loads the N-API addon (native-helper/native) with a typed interface. The addon holds what Node cannot
// do itself: SO_PEERCRED, bpf() for the tagger, the proc connector, pidfd_getfd on other processes, the
// tunnel data path's privileged setup (TUN queues, UDP sockets, flowmark tc program), and the SSID of a
// Wi-Fi interface (nl80211).
import { createRequire } from 'node:module';
import { BUILD_HINT, RESOURCES } from '../resources.ts';

export const ADDON_PATH = RESOURCES.addon;
export const TAGGER_OBJECT_PATH = RESOURCES.tagger;
export const CLASSIFIER_OBJECT_PATH = RESOURCES.classifier;

/** cgroup ids are u64: returned as bigint; accepted as bigint or a decimal string. */
export type CgroupIdInput = bigint | string;

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

export interface TaggerAttachResult {
  progId: number;
  mapId: number;
  /** The map was already pinned (a previous helper's), so its entries were kept. */
  reusedMap: boolean;
  /** The program of ours that was atomically replaced (BPF_F_REPLACE), or null on a first attach. */
  replacedProgId: number | null;
  /** Duplicate copies of ours found attached and removed. */
  extraDetached: number;
}

export interface TaggerStatus {
  pinnedMapId: number | null;
  pinnedProgId: number | null;
  /** All programs attached directly to the cgroup for sock_create, ours or not. */
  attachedCount: number;
  ourProgIds: number[];
}

export interface TagEntry {
  cgroupId: bigint;
  mark: number;
  flags: number;
}

export type ProcEvent =
  | { what: 'exec'; pid: number; tgid: number; timestampNs: bigint }
  | { what: 'fork'; pid: number; tgid: number; parentPid: number; timestampNs: bigint }
  | { what: 'exit'; pid: number; tgid: number; parentPid: number; exitCode: number; timestampNs: bigint }
  /** The kernel dropped events (ENOBUFS): rescan /proc. */
  | { what: 'overflow' }
  /** The reader stopped on an unexpected error. */
  | { what: 'error'; errno: number; message: string };

export interface ProcEventsHandle {
  stop(): void;
}

/** fanotify FAN_CLOSE_WRITE: a file was closed after being written. */
export type FileWriteEvent =
  | {
      what: 'write';
      /** 0 when the writer is outside the helper's pid namespace. */
      pid: number;
      /** readlink of the event's fd; null when it could not be read. */
      path: string | null;
      /** /proc/PID/cgroup and /proc/PID/exe, read by the reader thread at once; null if the writer is gone. */
      procCgroup: string | null;
      exe: string | null;
    }
  /** Events were lost (the kernel's queue or ours was full). */
  | { what: 'overflow' }
  /** The reader stopped on an unexpected error. */
  | { what: 'error'; errno: number; message: string };

export interface FileWritesHandle {
  stop(): void;
  /** Per path: its whole filesystem was marked, or (fallback on EINVAL/EXDEV) only its mount. */
  marks: { path: string; scope: 'filesystem' | 'mount' }[];
}

export interface SocketInfo {
  fd: number;
  /** AF_* number: 2 = AF_INET, 10 = AF_INET6, 1 = AF_UNIX. */
  family: number;
  /** SOCK_* number: 1 = stream, 2 = dgram. */
  type: number;
  /** IPPROTO_* number: 6 = TCP, 17 = UDP. */
  protocol: number;
  mark: number;
  localAddress: string | null;
  localPort: number | null;
  remoteAddress: string | null;
  remotePort: number | null;
  /** TCP state name (ESTABLISHED, LISTEN, ...) for TCP sockets, else null. */
  tcpState: string | null;
}

/** Errors from the addon carry the errno name as `code` and the failed operation as `syscall`. */
export interface NativeError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export interface NativeAddon {
  peerCred(fd: number): PeerCred;
  cgroupId(path: string): bigint;
  taggerAttach(opts: { object: string; cgroupPath: string; pinDir: string }): TaggerAttachResult;
  taggerDetach(opts: { cgroupPath: string; pinDir: string }): { detached: number };
  taggerStatus(opts: { cgroupPath: string; pinDir: string }): TaggerStatus;
  tagSet(pinDir: string, cgroupId: CgroupIdInput, mark: number, flags?: number): void;
  /** Returns whether an entry existed. */
  tagDelete(pinDir: string, cgroupId: CgroupIdInput): boolean;
  tagList(pinDir: string): TagEntry[];
  /** Loads flow_rules.bpf.o, pins its maps (kept when already pinned) and attaches its four programs. */
  classifierAttach(opts: { object: string; cgroupPath: string; pinDir: string }): {
    programs: { name: string; progId: number; replacedProgId: number | null }[];
    reusedMaps: boolean;
  };
  classifierDetach(opts: { cgroupPath: string; pinDir: string }): { detached: number };
  /** Writes whole records: keys and values laid end to end, in the map's own sizes. */
  bpfMapUpdate(path: string, keys: Buffer, values: Buffer): void;
  bpfMapDelete(path: string, keys: Buffer): void;
  bpfMapDump(path: string): { keys: Buffer; values: Buffer };
  /** The values of these keys, laid end to end (zeros for a key that is missing). */
  bpfMapLookup(path: string, keys: Buffer): Buffer;
  /** Mounts bpffs at mountPoint unless one is there (flock'd on the directory); true when it mounted now. */
  ensureBpffs(mountPoint: string): boolean;
  /** malloc_trim(0): freed malloc memory goes back to the kernel; true when some was released. */
  trimMemory(): boolean;
  /**
   * netnsPath: the initial network namespace to open the connector in (default /proc/1/ns/net; not
   * needed when already in it). receiveBufferBytes: socket buffer (default 8 MiB; the kernel doubles it).
   */
  procEventsStart(
    callback: (event: ProcEvent) => void,
    opts?: { netnsPath?: string; receiveBufferBytes?: number; execOnly?: boolean },
  ): ProcEventsHandle;
  /**
   * Marks each path's filesystem (or mount) for FAN_CLOSE_WRITE and calls back from a reader thread;
   * the helper's own writes are skipped. Needs CAP_SYS_ADMIN.
   */
  fileWritesStart(callback: (event: FileWriteEvent) => void, paths: string[]): FileWritesHandle;
  /**
   * Sends one entry to the journal's native socket (default /run/systemd/journal/socket). false: no
   * journal listens there (ENOENT, ECONNREFUSED) or its queue is full (EAGAIN). Throws on a bad field
   * name or an entry too big for one datagram.
   */
  journalSend(fields: Record<string, string>, socketPath?: string): boolean;
  listSockets(pid: number): SocketInfo[];
  setSocketMark(pid: number, fd: number, mark: number): void;
  shutdownSocket(pid: number, fd: number): void;
  /**
   * Opens (creating it if needed) the multi-queue TUN `name` with a virtio-net header, one fd per
   * queue (O_NONBLOCK, O_CLOEXEC). offload: TSO/USO super-packets (TUNSETOFFLOAD). netns: a name
   * under /run/netns or an absolute path; only the calling thread enters it, for the open.
   */
  tunOpen(name: string, queues: number, opts?: { offload?: boolean; netns?: string }): number[];
  /** `count` dual-stack UDP sockets bound to one port (0: the kernel picks) with SO_REUSEPORT. */
  udpOpen(port: number, count: number, opts?: { netns?: string }): { port: number; fds: number[] };
  /**
   * Attaches the flowmark tc program (object file) to ifname's egress (client) or, with ingress, its
   * mark-applying twin to ifname's ingress (gateway); returns its map's fd.
   */
  flowmarkAttach(ifname: string, object: string, opts?: { netns?: string; ingress?: boolean }): number;
  /**
   * The SSID the Wi-Fi station `ifname` is connected to (nl80211, in the caller's netns): its bytes
   * when UTF-8, else "0x" and hex. null: not Wi-Fi (no wireless/phy80211 in /sys/class/net), no
   * cfg80211 in the kernel, or not connected. An unknown ifname throws (code ENODEV).
   */
  wifiSsid(ifname: string): string | null;
  /** The SSID wifiSsid would read in these NL80211_CMD_GET_INTERFACE reply bytes; for tests. */
  nl80211FindSsid(reply: Buffer): string | null;
}

let cached: NativeAddon | undefined;

/** The addon, loaded once. Throws a clear error when it has not been built. */
export function native(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require(ADDON_PATH) as NativeAddon;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `The native addon is not built or cannot load (${ADDON_PATH}): ${BUILD_HINT}. ${reason}`,
      { cause: err },
    );
  }
  return cached;
}
