// Reads one NFLOG group: `tcpdump -i nflog:G -U -w -` (libpcap binds the group over nfnetlink_log) and
// its pcap stream taken apart by nflog-pcap.ts, one 'packet' per logged packet. Runs in the caller's
// network namespace; like `conntrack -E` (conntrack/events.ts) it is kept running by reader-child.ts.
import { ReaderChild } from '../reader-child.ts';
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

class Watch extends ReaderChild implements NflogWatch {
  constructor(group: number) {
    super({
      name: `tcpdump nflog:${group}`,
      // -U and --immediate-mode: each packet is written as it comes (the history wants the name before
      // the app's connection); -n: tcpdump itself never resolves anything.
      argv: ['tcpdump', '-n', '-i', `nflog:${group}`, '-U', '--immediate-mode'].concat([
        '-w',
        '-',
        '-s',
        String(SNAP_BYTES),
      ]),
      attach: (child) => {
        const reader = new PcapNflogReader();
        child.stdout?.on('data', (d: Buffer) => {
          for (const p of reader.push(d)) this.emit('packet', p);
          if (reader.error && this.isCurrent(child)) {
            this.fail(new Error(`nflog: ${reader.error}`));
            child.signal('SIGKILL'); // restarted with a fresh reader
          }
        });
      },
      ready: (child) =>
        new Promise((resolve) => {
          const timer = setTimeout(
            () => resolve(`tcpdump did not bind NFLOG group ${group} within ${READY_MS / 1000} s`),
            READY_MS,
          );
          child.on('log', (line) => {
            if (READY.test(line)) {
              clearTimeout(timer);
              resolve(null);
            }
          });
        }),
    });
  }
}

/** Starts reading the group; rejects when tcpdump cannot start or bind it. */
export async function watchNflog(group: number): Promise<NflogWatch> {
  const w = new Watch(group);
  await w.start();
  return w;
}
