// A reader process the helper keeps running (`conntrack -E`, tcpdump on an NFLOG group): ours on a
// pipe, started through `setpriv --pdeathsig KILL` so it never outlives the helper, restarted 1 s after
// it ends by itself, and stopped with SIGKILL (a reader has nothing to flush, and conntrack takes 1–2 s
// to act on SIGTERM). start() resolves once the reader listens, and fails with its reason when it ends
// first (not installed, no kernel support). Emits 'error' when it ends or is unreadable, 'restarted'.
import { EventEmitter } from 'node:events';
import { type Supervised, supervisor } from './supervisor.ts';

export interface ReaderSpec {
  /** As logs and errors name it, e.g. "conntrack -E". */
  name: string;
  /** The program and its arguments (setpriv is added). */
  argv: string[];
  /** Takes the child's output apart; called for each run, with a fresh parser. */
  attach(child: Supervised): void;
  /**
   * Resolves with null once the child listens (nothing it reads later is missed), else a reason. Asked
   * right after the start, before it has spawned, so no line it prints is missed.
   */
  ready(child: Supervised): Promise<string | null>;
}

export class ReaderChild extends EventEmitter {
  private child: Supervised | null = null;
  private restart: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly spec: ReaderSpec) {
    super();
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** The run in force: a reader that finds its stream unreadable kills only its own run. */
  isCurrent(child: Supervised): boolean {
    return this.child === child;
  }

  /** 'error' only when someone listens: an unheard EventEmitter error would crash the helper. */
  protected fail(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  async start(): Promise<void> {
    const argv = ['setpriv', '--pdeathsig', 'KILL', '--', ...this.spec.argv];
    const child = supervisor.start(argv, { name: this.spec.name, stdout: 'pipe' });
    this.child = child;
    this.spec.attach(child);
    const listening = this.spec.ready(child).catch((e: Error) => e.message);
    await child.spawned;
    let starting = true;
    const ended = child.exited.then((status) => {
      const err = new Error(`${this.spec.name} ended: ${status.stderrTail.trim() || `code ${status.code}`}`);
      if (starting || this.child !== child || this.stopped) return err;
      this.child = null;
      this.fail(err);
      this.restart = setTimeout(() => {
        this.restart = null;
        this.start().then(
          () => this.emit('restarted'),
          (e: Error) => this.fail(e),
        );
      }, 1000);
      return err;
    });
    const early = await Promise.race([listening.then((why) => why && new Error(why)), ended]);
    starting = false;
    if (early) {
      this.child = null;
      await child.stop('SIGKILL');
      throw early;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restart) clearTimeout(this.restart);
    await this.child?.stop('SIGKILL');
  }
}
