// Watches links, addresses and routes with `ip monitor` and says "changed" (debounced) so the caller
// re-reads. `ip monitor` runs in the background through exec.ts (sh … & echo $!) writing to a file we
// follow, because exec.ts only returns output at exit; we stop it by its PID and restart it if it dies.
import { EventEmitter } from 'node:events';
import { mkdtemp, open, readFile, rm, truncate } from 'node:fs/promises';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../exec.ts';
import { ipArgv, type NetnsOption } from './ns.ts';

const MAX_LOG_BYTES = 1 << 20;

export interface WatchOptions extends NetnsOption {
  /** Quiet time after the last event before "changed" fires. Default 150 ms. */
  debounceMs?: number;
  /** How often to check that the monitor is still alive. Default 1000 ms. */
  healthMs?: number;
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
  pid: number | null = null;
  private pidStart: string | null = null;
  private dir = '';
  private file = '';
  private offset = 0;
  private fsw: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private health: NodeJS.Timeout | null = null;
  private stopped = false;
  private generation = 0;
  private readonly onExit = () => this.killMonitor();

  constructor(private readonly opts: WatchOptions) {
    super();
  }

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'switchyard-monitor-'));
    await this.spawnMonitor();
    this.health = setInterval(() => void this.checkAlive(), this.opts.healthMs ?? 1000);
    this.health.unref();
    process.once('exit', this.onExit);
  }

  private async spawnMonitor(): Promise<void> {
    const gen = ++this.generation;
    this.file = join(this.dir, `monitor-${gen}.log`);
    this.offset = 0;
    await (await open(this.file, 'w')).close();
    this.fsw?.close();
    this.fsw = fsWatch(this.file, () => void this.readNew(gen));
    const argv = ipArgv(this.opts, ['monitor', 'link', 'address', 'route']);
    const { stdout } = await run(
      ['sh', '-c', '"$@" >>"$SY_MONITOR_LOG" 2>&1 </dev/null & echo $!', 'sh', ...argv],
      {
        env: { ...process.env, SY_MONITOR_LOG: this.file },
      },
    );
    const pid = Number(stdout.trim());
    if (!Number.isInteger(pid) || pid <= 1)
      throw new Error(`could not start ${argv.join(' ')}: no PID printed.`);
    this.pid = pid;
    this.pidStart = await startTicks(pid);
  }

  private async readNew(gen: number): Promise<void> {
    if (gen !== this.generation || this.stopped) return;
    try {
      const fh = await open(this.file, 'r');
      try {
        const { size } = await fh.stat();
        if (size <= this.offset) return;
        this.offset = size;
        // ip appends (O_APPEND), so emptying the file is safe; anything lost is covered by the "changed" below.
        if (size > MAX_LOG_BYTES) {
          await truncate(this.file, 0);
          this.offset = 0;
        }
      } finally {
        await fh.close();
      }
      this.schedule();
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.emit('changed');
    }, this.opts.debounceMs ?? 150);
  }

  private async alive(): Promise<boolean> {
    return this.pid !== null && this.pidStart !== null && (await startTicks(this.pid)) === this.pidStart;
  }

  private async checkAlive(): Promise<void> {
    if (this.stopped || (await this.alive())) return;
    try {
      await this.spawnMonitor();
      this.emit('restarted');
      // Events may have been missed while it was down: make the caller re-read.
      this.schedule();
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  private killMonitor(): void {
    if (this.pid !== null) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.health) clearInterval(this.health);
    this.fsw?.close();
    process.off('exit', this.onExit);
    if (await this.alive()) {
      this.killMonitor();
      for (let i = 0; i < 50 && (await this.alive()); i++) await new Promise((r) => setTimeout(r, 20));
    }
    this.pid = null;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Starts watching; the first "changed" comes only after a real event. */
export async function watch(opts: WatchOptions = {}): Promise<Watcher> {
  const w = new MonitorWatcher(opts);
  await w.start();
  return w;
}
