// conntrack's event stream for one mark range (`conntrack -E`), line by line as records, and a dump of
// the entries in force (`conntrack -L`) for the byte counts of flows still open: the kernel reports
// counters only when an entry is destroyed. Runs in the caller's network namespace. The child is ours
// on a pipe, started through `setpriv --pdeathsig KILL` so it never outlives the helper.
import { EventEmitter } from 'node:events';
import { NETLINK_NETFILTER, subscribed } from '../netlink/watch.ts';
import { run } from '../exec.ts';
import { type Supervised, supervisor } from '../supervisor.ts';
import { type ConntrackRecord, parseConntrackLine } from './parse.ts';

export interface MarkFilter {
  value: number;
  mask: number;
}

const markArg = (m: MarkFilter) => `${m.value >>> 0}/${m.mask >>> 0}`;
/** The socket's receive buffer: a burst of short flows must not overflow it (ENOBUFS loses events). */
const BUFFER_BYTES = 16 * 1024 * 1024;

export interface ConntrackWatch {
  on(event: 'record', fn: (r: ConntrackRecord) => void): this;
  /** The stream ended (conntrack exited); 'restarted' once it runs again. */
  on(event: 'error', fn: (err: Error) => void): this;
  on(event: 'restarted', fn: () => void): this;
  readonly pid: number | null;
  stop(): Promise<void>;
}

class Watch extends EventEmitter implements ConntrackWatch {
  private child: Supervised | null = null;
  private restart: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly filter: MarkFilter) {
    super();
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async start(): Promise<void> {
    const argv = [
      'setpriv',
      '--pdeathsig',
      'KILL',
      '--',
      'conntrack',
      '-E',
      '-e',
      'NEW,UPDATE,DESTROY',
      '-o',
      'timestamp,extended,id',
      '--buffer-size',
      String(BUFFER_BYTES),
      '--mark',
      markArg(this.filter),
    ];
    const child = supervisor.start(argv, { name: 'conntrack -E', stdout: 'pipe' });
    this.child = child;
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const r = parseConntrackLine(line);
        if (r) this.emit('record', r);
      }
    });
    const pid = await child.spawned;
    let starting = true;
    const ended = child.exited.then((status) => {
      const err = new Error(`conntrack -E ended: ${status.stderrTail.trim() || `code ${status.code}`}`);
      if (starting || this.child !== child || this.stopped) return err;
      this.child = null;
      if (this.listenerCount('error') > 0) this.emit('error', err);
      this.restart = setTimeout(() => {
        this.restart = null;
        this.start().then(
          () => this.emit('restarted'),
          (err: Error) => {
            if (this.listenerCount('error') > 0) this.emit('error', err);
          },
        );
      }, 1000);
    });
    // Spawned is not yet listening: a flow that starts before it joins the groups would be missed.
    // It may also end at once (conntrack not installed): then start() fails with its reason.
    const early = await Promise.race([subscribed(pid, 3000, NETLINK_NETFILTER).then(() => null), ended]);
    starting = false;
    if (early) {
      this.child = null;
      throw early;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restart) clearTimeout(this.restart);
    // A reader with nothing to flush: conntrack -E takes 1–2 s to act on SIGTERM or SIGINT, which every
    // helper restart would wait for.
    await this.child?.stop('SIGKILL');
  }
}

/** Starts `conntrack -E` for the marks; rejects when conntrack cannot start (not installed). */
export async function watchConntrack(filter: MarkFilter): Promise<ConntrackWatch> {
  const w = new Watch(filter);
  await w.start();
  return w;
}

/** The entries in force for the marks, with their counters (with accounting on). */
export async function dumpConntrack(filter: MarkFilter, family: 4 | 6): Promise<ConntrackRecord[]> {
  const { stdout } = await run(
    ['conntrack', '-L', '-f', family === 4 ? 'ipv4' : 'ipv6', '-o', 'extended,id', '--mark', markArg(filter)],
    { allowFailure: true, timeoutMs: 10_000 },
  );
  return stdout.split('\n').flatMap((l) => parseConntrackLine(l) ?? []);
}
