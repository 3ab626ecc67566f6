// conntrack's event stream for one mark range (`conntrack -E`), line by line as records, and a dump of
// the entries in force (`conntrack -L`) for the byte counts of flows still open: the kernel reports
// counters only when an entry is destroyed. Runs in the caller's network namespace; the child is kept
// running by reader-child.ts.
import { NETLINK_NETFILTER, subscribed } from '../netlink/watch.ts';
import { run } from '../exec.ts';
import { ReaderChild } from '../reader-child.ts';
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

class Watch extends ReaderChild implements ConntrackWatch {
  constructor(filter: MarkFilter) {
    super({
      name: 'conntrack -E',
      argv: ['conntrack', '-E', '-e', 'NEW,UPDATE,DESTROY', '-o', 'timestamp,extended,id'].concat([
        '--buffer-size',
        String(BUFFER_BYTES),
        '--mark',
        markArg(filter),
      ]),
      attach: (child) => {
        let partial = '';
        child.stdout?.setEncoding('utf8').on('data', (d: string) => {
          const lines = (partial + d).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            const r = parseConntrackLine(line);
            if (r) this.emit('record', r);
          }
        });
      },
      // Spawned is not yet listening: a flow that starts before it joins the groups would be missed.
      ready: (child) =>
        child.spawned.then((pid) => subscribed(pid, 3000, NETLINK_NETFILTER)).then(() => null),
    });
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
