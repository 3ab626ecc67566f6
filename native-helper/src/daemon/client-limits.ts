// How much of the helper its clients may take: connections (per uid and in all), bytes queued to
// them and bytes of unfinished requests from them, and how long a connection may sit idle. The helper
// keeps at least RESERVED_FDS descriptors for its own work (nft, ip, the data path), so no number of
// clients can make a reconcile fail with EMFILE.
import { readFileSync } from 'node:fs';

export interface ClientLimits {
  /** Connections of one non-root uid. */
  perUid: number;
  /** Connections of all non-root uids together. */
  clients: number;
  /** Root's own connections, counted apart so a flood from the group never locks out root. */
  rootClients: number;
  /** Bytes queued to one client that is not reading. */
  clientQueuedBytes: number;
  /** Bytes queued to all clients together. */
  queuedBytes: number;
  /** Bytes of unfinished request lines held for all clients together. */
  pendingInputBytes: number;
  /** A connection must complete its first request within this. */
  firstLineMs: number;
  /** A connection that is not subscribed to events is closed after this long without traffic. */
  idleMs: number;
}

export const RESERVED_FDS = 256;

/** The soft RLIMIT_NOFILE of this process, from /proc/self/limits (1024 when unreadable). */
export function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === 'unlimited' ? 1 << 20 : Number(soft) || 1024;
  } catch {
    return 1024;
  }
}

/** Limits that fit the descriptors this process has. */
export function limitsFor(nofile: number): ClientLimits {
  const spare = Math.max(16, nofile - RESERVED_FDS);
  return {
    perUid: 32,
    clients: Math.min(1024, Math.floor((spare * 3) / 4)),
    rootClients: Math.min(256, Math.max(4, Math.floor(spare / 4))),
    clientQueuedBytes: 4 << 20,
    queuedBytes: 64 << 20,
    pendingInputBytes: 32 << 20,
    firstLineMs: 10_000,
    idleMs: 300_000,
  };
}

/** Counts connections per uid; admit() says why one is refused. */
export class ConnectionBudget {
  private readonly perUid = new Map<number, number>();
  private nonRoot = 0;
  private root = 0;

  constructor(private readonly limits: ClientLimits) {}

  /** null when admitted (release it later), else the reason for refusing. */
  admit(uid: number): string | null {
    if (uid === 0) {
      if (this.root >= this.limits.rootClients)
        return `too many connections from root (${this.limits.rootClients}); close some and retry`;
      this.root++;
      return null;
    }
    const mine = this.perUid.get(uid) ?? 0;
    if (mine >= this.limits.perUid)
      return `too many connections from uid ${uid} (${this.limits.perUid}); close some and retry`;
    if (this.nonRoot >= this.limits.clients)
      return `the helper has too many connections (${this.limits.clients}); retry later`;
    this.perUid.set(uid, mine + 1);
    this.nonRoot++;
    return null;
  }

  release(uid: number): void {
    if (uid === 0) {
      this.root = Math.max(0, this.root - 1);
      return;
    }
    const mine = (this.perUid.get(uid) ?? 1) - 1;
    if (mine > 0) this.perUid.set(uid, mine);
    else this.perUid.delete(uid);
    this.nonRoot = Math.max(0, this.nonRoot - 1);
  }

  get counts(): { root: number; nonRoot: number } {
    return { root: this.root, nonRoot: this.nonRoot };
  }
}
