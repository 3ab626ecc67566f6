// Reads one NFLOG group: `tcpdump -i nflog:G -U -w -` (libpcap binds the group over nfnetlink_log) and
// its pcap stream taken apart by nflog-pcap.ts, one 'packet' per logged packet. Runs in the caller's
// network namespace. Like `conntrack -E` (conntrack/events.ts) the child is ours on a pipe, started
// through `setpriv --pdeathsig KILL`, restarted when it dies, and stopped with SIGKILL.
import { EventEmitter } from 'node:events';
import { type Supervised, supervisor } from '../supervisor.ts';
import { type NflogPacket, PcapNflogReader } from './nflog-pcap.ts';

/** Enough for a DNS reply over UDP with EDNS (1232 bytes and more) and its IP and UDP headers. */
const SNAP_BYTES = 4096;
/** tcpdump prints "listening on nflog:G" once the group is bound: nothing logged after it is missed. */
const READY = /listening on nflog/;
const READY_MS = 5000;

export interface NflogWatch {
  on(event: 'packet', fn: (p: NflogPacket) => void): this;
  /** The stream ended or is unreadable; 'restarted' once it runs again. */
  on(event: 'error', fn: (err: Error) => void): this;
  on(event: 'restarted', fn: () => void): this;
  readonly pid: number | null;
  stop(): Promise<void>;
}

class Watch extends EventEmitter implements NflogWatch {
  private child: Supervised | null = null;
  private restart: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly group: number) {
    super();
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async start(): Promise<void> {
    // -U and --immediate-mode: each packet is written as it comes (the history wants the name before
    // the app's connection); -n: tcpdump itself never resolves anything.
    const argv = ['setpriv', '--pdeathsig', 'KILL', '--']
      .concat(['tcpdump', '-n', '-i', `nflog:${this.group}`, '-U', '--immediate-mode'])
      .concat(['-w', '-', '-s', String(SNAP_BYTES)]);
    const child = supervisor.start(argv, { name: `tcpdump nflog:${this.group}`, stdout: 'pipe' });
    this.child = child;
    const reader = new PcapNflogReader();
    child.stdout?.on('data', (d: Buffer) => {
      for (const p of reader.push(d)) this.emit('packet', p);
      if (reader.error && this.child === child) {
        if (this.listenerCount('error') > 0) this.emit('error', new Error(`nflog: ${reader.error}`));
        child.signal('SIGKILL'); // restarted below with a fresh reader
      }
    });
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), READY_MS);
      child.on('log', (line) => {
        if (READY.test(line)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    await child.spawned;
    let starting = true;
    const ended = child.exited.then((status) => {
      const err = new Error(`tcpdump ended: ${status.stderrTail.trim() || `code ${status.code}`}`);
      if (starting || this.child !== child || this.stopped) return err;
      this.child = null;
      if (this.listenerCount('error') > 0) this.emit('error', err);
      this.restart = setTimeout(() => {
        this.restart = null;
        this.start().then(
          () => this.emit('restarted'),
          (e: Error) => {
            if (this.listenerCount('error') > 0) this.emit('error', e);
          },
        );
      }, 1000);
      return err;
    });
    // It may end at once (not installed, no nflog support): then start() fails with its reason.
    const early = await Promise.race([ready.then((ok) => (ok ? null : 'slow')), ended]);
    starting = false;
    if (early === 'slow') {
      this.child = null;
      await child.stop('SIGKILL');
      throw new Error(`tcpdump did not bind NFLOG group ${this.group} within ${READY_MS / 1000} s`);
    }
    if (early) {
      this.child = null;
      throw early;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restart) clearTimeout(this.restart);
    await this.child?.stop('SIGKILL');
  }
}

/** Starts reading the group; rejects when tcpdump cannot start or bind it. */
export async function watchNflog(group: number): Promise<NflogWatch> {
  const w = new Watch(group);
  await w.start();
  return w;
}
