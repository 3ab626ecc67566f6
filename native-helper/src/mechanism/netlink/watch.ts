// Watches links, addresses and routes with `ip monitor` and says "changed" (debounced) so the caller
// re-reads. The monitor is our direct child on a pipe, started through `setpriv --pdeathsig KILL`:
// when the helper dies, even by SIGKILL, the kernel ends it too, so no orphan outlives us.
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { type Supervised, supervisor } from '../supervisor.ts';
import { ipArgv, type NetnsOption } from './ns.ts';

export interface WatchOptions extends NetnsOption {
  /** Quiet time after the last event before "changed" fires. Default 150 ms. */
  debounceMs?: number;
  /** Pause before a monitor that died is started again. Default 1000 ms. */
  healthMs?: number;
  /** What to watch; default links, addresses and routes. */
  objects?: readonly ('link' | 'address' | 'route' | 'neigh')[];
}
export interface Watcher {
  /** 'changed' (no args) after a burst of events; 'restarted' when the monitor had died; 'error' (Error). */
  on(event: 'changed' | 'restarted', fn: () => void): this;
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

class MonitorWatcher extends EventEmitter implements Watcher {
  private child: Supervised | null = null;
  private timer: NodeJS.Timeout | null = null;
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
      ...ipArgv(this.opts, ['monitor', ...(this.opts.objects ?? ['link', 'address', 'route'])]),
    ];
    const child = supervisor.start(argv, { name: 'ip monitor', stdout: 'pipe', stderr: 'ignore' });
    this.child = child;
    child.stdout?.on('data', () => this.schedule());
    await child.spawned; // one that cannot start is the caller's error, not restarted
    void child.exited.then(() => this.restartLater(child));
  }

  private restartLater(child: Supervised): void {
    if (this.child !== child || this.stopped) return;
    this.child = null;
    this.restart = setTimeout(() => {
      this.restart = null;
      this.spawnMonitor().then(
        () => {
          this.emit('restarted');
          this.schedule(); // events may have been missed while it was down: make the caller re-read
        },
        (err: Error) => this.emit('error', err),
      );
    }, this.opts.healthMs ?? 1000);
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.emit('changed');
    }, this.opts.debounceMs ?? 150);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
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
