// The per-app DNS forwarder, for an egress whose servers are all IPv6: nft cannot DNAT an app's IPv4
// query to 127.0.0.53 into an IPv6 packet, so compile() DNATs it to the app's own loopback address
// (compile.ts forwarderAddress) instead, where this forwarder listens (UDP and TCP, port 53). It asks the egress's
// servers from a socket carrying THE APP's mark (upstream.ts), so the question follows the app's routing:
// its egress, failover and kill switch (a held app's question is unreachable and never leaves). A UDP
// question goes up over UDP (again over TCP when the answer is truncated), a TCP one over TCP.
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:net';
import { askUpstream, type Transport } from './upstream.ts';

export interface ForwardSpec {
  tag: number;
  /** The loopback address compile() DNATs the app's stub queries to (policy/compile.ts forwarderAddress). */
  address: string;
  mark: number;
  egress: string;
  /** The egress's servers, tried in order. */
  servers: string[];
}

/** A question the forwarder saw (for the connection history: which name an app looked up). */
export interface Lookup {
  tag: number;
  egress: string;
  name: string | null;
  type: number | null;
}

interface Listener {
  spec: ForwardSpec;
  udp: Socket;
  tcp: Server;
}

/** The question's name and type, or nulls when the message is not a plain query. */
export function questionOf(msg: Buffer): { name: string | null; type: number | null } {
  try {
    if (msg.length < 17 || msg.readUInt16BE(4) < 1) return { name: null, type: null };
    const labels: string[] = [];
    let o = 12;
    while (msg[o] !== 0) {
      const len = msg[o]!;
      if (len > 63) return { name: null, type: null };
      labels.push(msg.subarray(o + 1, o + 1 + len).toString('latin1'));
      o += len + 1;
    }
    return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(o + 1) };
  } catch {
    return { name: null, type: null };
  }
}

export class DnsForwarder {
  private readonly listeners = new Map<number, Listener>();
  /** 'lookup' (Lookup): every question forwarded; 'answer' ({ tag, answer }): every answer passed back. */
  readonly events = new EventEmitter();

  constructor(private readonly log: (msg: string) => void) {}

  /** Listens for exactly these apps (others' listeners close); a spec that changed is updated in place. */
  async sync(wanted: readonly ForwardSpec[]): Promise<void> {
    const tags = new Set(wanted.map((w) => w.tag));
    for (const [tag, l] of this.listeners)
      if (!tags.has(tag)) {
        this.close(l);
        this.listeners.delete(tag);
      }
    for (const spec of wanted) {
      const have = this.listeners.get(spec.tag);
      if (have) {
        have.spec = spec;
        continue;
      }
      try {
        this.listeners.set(spec.tag, await this.listen(spec));
      } catch (err) {
        this.log(`dns: cannot forward for app tag ${spec.tag}: ${(err as Error).message}`);
      }
    }
  }

  stop(): void {
    for (const l of this.listeners.values()) this.close(l);
    this.listeners.clear();
  }

  private async listen(spec: ForwardSpec): Promise<Listener> {
    const address = spec.address;
    const udp = createSocket('udp4');
    const l: Listener = { spec, udp, tcp: createServer() };
    udp.on('message', (msg, r) => {
      void this.ask(l.spec, msg, 'udp').then((answer) => answer && udp.send(answer, r.port, r.address));
    });
    udp.on('error', (e) => this.log(`dns: forwarder ${address}: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(53, address, () => resolve());
    });
    l.tcp.on('connection', (s) => {
      let pending = Buffer.alloc(0);
      s.on('error', () => s.destroy());
      s.setTimeout(10_000, () => s.destroy());
      s.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const msg = Buffer.from(pending.subarray(2, 2 + pending.readUInt16BE(0)));
          pending = pending.subarray(2 + msg.length);
          void this.ask(l.spec, msg, 'tcp').then((answer) => {
            if (!answer || s.destroyed) return;
            const len = Buffer.alloc(2);
            len.writeUInt16BE(answer.length);
            s.write(Buffer.concat([len, answer]));
          });
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      l.tcp.once('error', reject);
      l.tcp.listen({ host: address, port: 53 }, () => resolve());
    });
    return l;
  }

  /** The first answer of the egress's servers, asked from a socket with the app's mark; null: none. */
  private async ask(spec: ForwardSpec, msg: Buffer, transport: Transport): Promise<Buffer | null> {
    const q = questionOf(msg);
    this.events.emit('lookup', { tag: spec.tag, egress: spec.egress, ...q } satisfies Lookup);
    for (const server of spec.servers) {
      const answer = await askUpstream(server, spec.mark, msg, transport).catch(() => null);
      if (answer) {
        this.events.emit('answer', { tag: spec.tag, answer });
        return answer;
      }
    }
    return null;
  }

  private close(l: Listener): void {
    l.udp.close();
    l.tcp.close();
  }
}
