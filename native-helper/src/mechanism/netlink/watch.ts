// Watches links, addresses and routes with `ip monitor` and says "changed" (debounced) so the caller
// re-reads. The monitor is our direct child on a pipe, started through `setpriv --pdeathsig KILL`:
// when the helper dies, even by SIGKILL, the kernel ends it too, so no orphan outlives us.
import { EventEmitter } from 'node:events';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { type Supervised, supervisor } from '../supervisor.ts';
import { ipArgv, type NetnsOption } from './ns.ts';

export interface WatchOptions extends NetnsOption {
  /** Quiet time after the last event before "changed" fires. Default 150 ms. */
  debounceMs?: number;
  /** Pause before a monitor that died is started again. Default 1000 ms. */
  healthMs?: number;
  /** Also watch the neighbour table: 'neighbors' (debounced on its own) instead of 'changed'. */
  neighbors?: boolean;
}
export interface Watcher {
  /**
   * 'changed' (no args) after a burst of link, address or route events; 'neighbors' after neighbour
   * events (with the neighbors option); 'restarted' when the monitor had died; 'error' (Error).
   */
  on(event: 'changed' | 'neighbors' | 'restarted', fn: () => void): this;
  on(event: 'error', fn: (err: Error) => void): this;
  /** PID of the running `ip monitor` (for tests). */
  readonly pid: number | null;
  stop(): Promise<void>;
}

/** Start time of a live process (null when gone or a zombie), to recognise our PID and not a recycled one. */
export async function startTicks(pid: number): Promise<string | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Netlink protocol numbers as /proc/PID/net/netlink shows them (its Eth column). */
export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;

/**
 * Waits until `pid` holds a netlink socket of `protocol` that has joined multicast groups (read from
 * /proc/PID/net/netlink, which shows the process's own namespace), for at most `timeoutMs`.
 */
export async function subscribed(pid: number, timeoutMs = 3000, protocol = NETLINK_ROUTE): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 2; Date.now() < deadline; wait = Math.min(wait * 2, 50)) {
    if (await hasGroups(pid, protocol)) return true;
    await new Promise((r) => setTimeout(r, wait));
  }
  return false;
}

async function hasGroups(pid: number, protocol: number): Promise<boolean> {
  try {
    const inodes = new Set<string>();
    for (const fd of await readdir(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
      if (m) inodes.add(m[1]!);
    }
    const lines = (await readFile(`/proc/${pid}/net/netlink`, 'utf8')).split('\n').slice(1);
    return lines.some((l) => {
      const f = l.trim().split(/\s+/); // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
      return f[1] === String(protocol) && /[1-9a-f]/i.test(f[3] ?? '') && inodes.has(f[9] ?? '');
    });
  } catch {
    return false; // gone, or not yet exec'd into its program
  }
}

class MonitorWatcher extends EventEmitter implements Watcher {
  private child: Supervised | null = null;
  private readonly timers = new Map<'changed' | 'neighbors', NodeJS.Timeout>();
  private restart: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly opts: WatchOptions) {
    super();
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async start(): Promise<void> {
    await this.spawnMonitor();
  }

  private async spawnMonitor(): Promise<void> {
    const argv = [
      'setpriv',
      '--pdeathsig',
      'KILL',
      '--',
      ...ipArgv(this.opts, [
        'monitor',
        'label',
        'link',
        'address',
        'route',
        ...(this.opts.neighbors ? ['neigh'] : []),
      ]),
    ];
    const child = supervisor.start(argv, { name: 'ip monitor', stdout: 'pipe', stderr: 'ignore' });
    this.child = child;
    // One process for all of them; each line says what it is about ("[NEIGH]…", "[LINK]…").
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      if (lines.some((l) => l.startsWith('[NEIGH]'))) this.schedule('neighbors');
      if (lines.some((l) => l.startsWith('[') && !l.startsWith('[NEIGH]'))) this.schedule('changed');
    });
    const pid = await child.spawned; // one that cannot start is the caller's error, not restarted
    void child.exited.then(() => this.restartLater(child));
    // Spawned is not yet listening: a change made before `ip` joins its groups would be lost.
    await subscribed(pid);
  }

  private restartLater(child: Supervised): void {
    if (this.child !== child || this.stopped) return;
    this.child = null;
    this.restart = setTimeout(() => {
      this.restart = null;
      this.spawnMonitor().then(
        () => {
          this.emit('restarted');
          // Events may have been missed while it was down: make the caller re-read.
          this.schedule('changed');
          if (this.opts.neighbors) this.schedule('neighbors');
        },
        (err: Error) => this.emit('error', err),
      );
    }, this.opts.healthMs ?? 1000);
  }

  private schedule(what: 'changed' | 'neighbors'): void {
    clearTimeout(this.timers.get(what));
    const t = setTimeout(
      () => {
        this.timers.delete(what);
        if (!this.stopped) this.emit(what);
      },
      // A neighbour that changed its MAC may switch rules on: looked at sooner.
      what === 'neighbors' ? 50 : (this.opts.debounceMs ?? 150),
    );
    this.timers.set(what, t);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    if (this.restart) clearTimeout(this.restart);
    await this.child?.stop('SIGTERM');
  }
}

/** Starts watching; the first "changed" comes only after a real event. */
export async function watch(opts: WatchOptions = {}): Promise<Watcher> {
  const w = new MonitorWatcher(opts);
  await w.start();
  return w;
}
