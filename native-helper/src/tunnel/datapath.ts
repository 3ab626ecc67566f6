// Drives the C data path process (native-helper/native/datapath): starts it, speaks its control
// protocol over stdin/stdout (u32 LE length, u8 type, payload), and turns its frames into events.
// A long-lived child with a binary channel, started through the supervisor.
// Privilege split: we (root) open the TUN queues and UDP sockets and attach the flowmark program
// through the addon, then start the data path as an unprivileged user that inherits only those fds.
import { EventEmitter } from 'node:events';
import { closeSync, existsSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import type { Writable } from 'node:stream';
import { native } from '../mechanism/native.ts';
import { BUILD_HINT, RESOURCES } from '../resources.ts';
import { type Supervised, supervisor } from '../mechanism/supervisor.ts';

const CTL = {
  addSession: 1,
  delSession: 2,
  send: 3,
  setPeer: 4,
  setTags: 5,
  stats: 6,
  setStatic: 7,
} as const;
const EV = { ready: 100, handshake: 101, stats: 102, rekey: 103, confirmed: 104 } as const;

export const DEFAULT_DATAPATH_BINARY = RESOURCES.datapath;
export const FLOWMARK_OBJECT = RESOURCES.flowmark;
/** nobody/nogroup: the data path never runs as root. */
export const DATAPATH_USER = { uid: 65534, gid: 65534 } as const;

export interface Endpoint {
  address: string;
  port: number;
}

export interface Cidr {
  address: string;
  prefixLength: number;
}

export function parseCidr(text: string): Cidr {
  const [address, len] = text.split('/');
  const family = isIPv4(address ?? '') ? 4 : isIPv6(address ?? '') ? 6 : 0;
  if (!address || !family) throw new Error(`${text} is not an IP address or prefix (e.g. 10.0.0.0/8)`);
  const max = family === 4 ? 32 : 128;
  const prefixLength = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max)
    throw new Error(`${text}: the prefix length must be 0..${max}`);
  return { address, prefixLength };
}

function ipv4Bytes(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

function ipv6Bytes(a: string): Buffer {
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups first.
  const text = a.replace(
    /(\d+)\.(\d+)\.(\d+)\.(\d+)$/,
    (_m, b0: string, b1: string, b2: string, b3: string) =>
      [((+b0 << 8) | +b1).toString(16), ((+b2 << 8) | +b3).toString(16)].join(':'),
  );
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (t: string) => (t ? t.split(':').map((x) => parseInt(x, 16)) : []);
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const out = Buffer.alloc(16);
  all.slice(0, 8).forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** 16 bytes: IPv6, or IPv4 as ::ffff:a.b.c.d (the data path uses one dual-stack socket). */
export function addressBytes(address: string): Buffer {
  if (isIPv4(address))
    return Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), ipv4Bytes(address)]);
  if (isIPv6(address)) return ipv6Bytes(address);
  throw new Error(`${address} is not an IP address`);
}

export function encodeEndpoint(ep: Endpoint | null): Buffer {
  const b = Buffer.alloc(18);
  if (!ep) return b;
  addressBytes(ep.address).copy(b, 0);
  b.writeUInt16BE(ep.port, 16);
  return b;
}

export function decodeEndpoint(b: Buffer): Endpoint {
  const port = b.readUInt16BE(16);
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return { address: `${b[12]}.${b[13]}.${b[14]}.${b[15]}`, port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return { address: groups.join(':'), port };
}

function encodeCidr(c: Cidr): Buffer {
  const b = Buffer.alloc(18);
  const family = isIPv4(c.address) ? 4 : 6;
  b[0] = family;
  b[1] = c.prefixLength;
  (family === 4 ? ipv4Bytes(c.address) : ipv6Bytes(c.address)).copy(b, 2);
  return b;
}

export interface DatapathOptions {
  mode: 'client' | 'gateway';
  tun: string;
  port?: number;
  workers?: number;
  /** TSO/USO super-packets from the TUN and UDP GSO/GRO. */
  offload?: boolean;
  /**
   * Share marks with the TUN's tc program: the client recovers skb->mark at egress, the gateway
   * sets each rule's mark (its uplink) at ingress.
   */
  flowmark?: boolean;
  /** Create the TUN and sockets inside this network namespace (a name under /run/netns). */
  netns?: string;
  /** SO_MARK of the UDP sockets (the exclude mode's bypass mark: the tunnel never carries itself). */
  udpMark?: number;
  binary?: string;
  /** Off only for debugging with strace. */
  seccomp?: boolean;
  /** Who the data path runs as (default nobody); ignored when the helper itself is not root. */
  user?: { uid: number; gid: number };
}

export interface DatapathReady {
  port: number;
  aesAvailable: boolean;
  workers: number;
  offload: boolean;
  gso: boolean;
  gro: boolean;
  flowmark: boolean;
}

export interface SessionKeys {
  localIndex: number;
  remoteIndex: number;
  peerId: number;
  epoch: number;
  cipher: 0 | 1;
  sendKey: Buffer;
  receiveKey: Buffer;
  lifetimeMs: number;
  rekeyAfterMessages: bigint;
}

export interface PeerConfig {
  id: number;
  endpoint: Endpoint | null;
  /** Inner addresses this peer owns: the gateway accepts them as sources and routes them to it. */
  addresses: Cidr[];
  /**
   * Gateway: the app tags this peer may claim, where each may go and the skb->mark its packets get
   * on entering the gateway (the uplink's routing mark; 0 or absent: none, the main table routes).
   */
  rules: { tag: number; allow: Cidr[]; mark?: number }[];
  /** The key group this peer slot's sessions belong to (keyGroupId; 0 or absent: the default group). */
  groupId?: number;
}

/** What a mark tag's packets carry, and (a key group's flow class) which peer slot sends them. */
export interface TagPolicy {
  tag: number;
  policy: number;
  trafficClass: number;
  /** The app tag the metadata names (a flow class's packets name their app; default: the tag). */
  metaTag?: number;
  /** Client: the peer slot of the tag's key group (its own session); absent: the default peer. */
  peerId?: number;
  /** The key group's id the metadata carries (keyGroupId). */
  groupId?: number;
}

export interface DatapathStats {
  counters: Record<string, number>;
  accounting: { peer: number; tag: number; policy: number; packets: number; bytes: number }[];
  /** Inner bytes sent and received per peer slot (a client has one per key group, 0 the default). */
  peers: { id: number; group: number; txBytes: number; rxBytes: number }[];
}

/** How the data path let a handshake message through. */
export interface HandshakeMeta {
  /** Under load, the initiation's mac2 proved a cookie we gave its source: skip the global limit. */
  cookieProved: boolean;
}

export interface DatapathEvents {
  handshake: [Endpoint, Buffer, HandshakeMeta];
  rekey: [number];
  confirmed: [number];
  exit: [number | null];
  log: [string];
  ready: [];
}

export class Datapath extends EventEmitter<DatapathEvents> {
  private buf = Buffer.alloc(0);
  private statsWaiters: ((s: DatapathStats) => void)[] = [];
  private exited = false;
  ready!: DatapathReady;

  private readonly stdin: Writable;

  private constructor(private readonly child: Supervised) {
    super();
    this.stdin = child.stdin!;
  }

  static async start(opts: DatapathOptions): Promise<Datapath> {
    const binary = opts.binary ?? process.env.SWITCHYARD_DATAPATH ?? DEFAULT_DATAPATH_BINARY;
    if (!existsSync(binary)) throw new Error(`the tunnel data path ${binary} is missing: ${BUILD_HINT}`);
    if (opts.flowmark && !existsSync(FLOWMARK_OBJECT))
      throw new Error(`the flowmark program ${FLOWMARK_OBJECT} is missing: ${BUILD_HINT}`);
    const workers = opts.workers ?? 1;
    const addon = native();
    const netns = opts.netns ? { netns: opts.netns } : {};
    // Every fd we open is closed below once the child holds its copy (or setup failed): the TUN
    // device and its tc filter then live exactly as long as the data path.
    const inherited: number[] = [];
    let child: Supervised;
    try {
      inherited.push(...addon.tunOpen(opts.tun, workers, { offload: !!opts.offload, ...netns }));
      const udp = addon.udpOpen(opts.port ?? 0, workers, netns).fds;
      inherited.push(...udp);
      if (opts.udpMark) for (const fd of udp) addon.setSocketMark(process.pid, fd, opts.udpMark);
      if (opts.flowmark)
        inherited.push(
          addon.flowmarkAttach(opts.tun, FLOWMARK_OBJECT, { ...netns, ingress: opts.mode === 'gateway' }),
        );
      // In the child, inherited fd i becomes fd 3 + i: TUN queues first, then sockets, then the map.
      const childFd = (i: number) => String(3 + i);
      const list = (from: number) => Array.from({ length: workers }, (_, i) => childFd(from + i)).join(',');
      const args = ['--mode', opts.mode, '--tun-fds', list(0), '--udp-fds', list(workers)];
      if (opts.flowmark) args.push('--flowmark-fd', childFd(2 * workers));
      if (opts.offload) args.push('--offload');
      else args.push('--no-gso', '--no-gro');
      if (opts.seccomp === false) args.push('--no-seccomp');
      const user = opts.user ?? DATAPATH_USER;
      args.push('--uid', String(user.uid), '--gid', String(user.gid));
      const asRoot = process.getuid?.() === 0;
      child = supervisor.start([binary, ...args], {
        name: `the tunnel data path ${binary}`,
        stdin: 'pipe',
        stdout: 'pipe',
        stderr: 'pipe',
        fds: inherited,
        ...(asRoot ? { uid: user.uid, gid: user.gid } : {}),
      });
    } finally {
      for (const fd of inherited) closeSync(fd);
    }
    const dp = new Datapath(child);
    child.on('log', (line) => dp.emit('log', line));
    return new Promise((resolveReady, reject) => {
      let isReady = false;
      child.spawned.then(
        () =>
          child.exited.then(({ code, stderrTail }) => {
            dp.exited = true;
            if (isReady) dp.emit('exit', code);
            else
              reject(
                new Error(
                  `the tunnel data path exited during setup (${code}): ${stderrTail.trim() || 'no output'}`,
                ),
              );
          }),
        // e.g. the binary is not executable by the data path's user
        (err: Error) => {
          dp.exited = true;
          reject(err);
        },
      );
      child.stdout!.on('data', (d: Buffer) => dp.onData(d));
      dp.once('ready', () => {
        isReady = true;
        resolveReady(dp);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onData(d: Buffer) {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + len) return;
      const type = this.buf[4]!;
      const p = this.buf.subarray(5, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      this.onFrame(type, Buffer.from(p));
    }
  }

  private onFrame(type: number, p: Buffer) {
    switch (type) {
      case EV.ready:
        this.ready = {
          port: p.readUInt16LE(0),
          aesAvailable: p[2] === 1,
          workers: p[3]!,
          offload: p[4] === 1,
          gso: p[5] === 1,
          gro: p[6] === 1,
          flowmark: p[7] === 1,
        };
        this.emit('ready');
        break;
      case EV.handshake:
        this.emit('handshake', decodeEndpoint(p.subarray(0, 18)), p.subarray(19), {
          cookieProved: (p[18]! & 1) === 1,
        });
        break;
      case EV.stats:
        this.statsWaiters.shift()?.(JSON.parse(p.toString('utf8')) as DatapathStats);
        break;
      case EV.rekey:
        this.emit('rekey', p.readUInt32LE(0));
        break;
      case EV.confirmed:
        this.emit('confirmed', p.readUInt32LE(0));
        break;
    }
  }

  private frame(type: number, payload: Buffer) {
    if (this.exited) return;
    const head = Buffer.alloc(5);
    head.writeUInt32LE(payload.length + 1, 0);
    head[4] = type;
    this.stdin.write(Buffer.concat([head, payload]));
  }

  addSession(s: SessionKeys): void {
    const b = Buffer.alloc(96);
    b.writeUInt32LE(s.localIndex >>> 0, 0);
    b.writeUInt32LE(s.remoteIndex >>> 0, 4);
    b.writeUInt32LE(s.peerId, 8);
    b.writeUInt32LE(s.epoch >>> 0, 12);
    b[16] = s.cipher;
    s.sendKey.copy(b, 20);
    s.receiveKey.copy(b, 52);
    b.writeUInt32LE(s.lifetimeMs, 84);
    b.writeBigUInt64LE(s.rekeyAfterMessages, 88);
    this.frame(CTL.addSession, b);
    b.fill(0);
  }

  deleteSession(localIndex: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(localIndex >>> 0);
    this.frame(CTL.delSession, b);
  }

  send(to: Endpoint, message: Buffer): void {
    this.frame(CTL.send, Buffer.concat([encodeEndpoint(to), message]));
  }

  setPeer(p: PeerConfig): void {
    const head = Buffer.alloc(28);
    head.writeUInt32LE(p.id, 0);
    encodeEndpoint(p.endpoint).copy(head, 4);
    head[22] = p.addresses.length;
    head[23] = p.rules.length;
    head.writeUInt32LE((p.groupId ?? 0) >>> 0, 24);
    const parts = [head, ...p.addresses.map(encodeCidr)];
    for (const r of p.rules) {
      const rh = Buffer.alloc(8);
      rh.writeUInt16LE(r.tag, 0);
      rh[2] = r.allow.length;
      rh.writeUInt32LE((r.mark ?? 0) >>> 0, 4);
      parts.push(rh, ...r.allow.map(encodeCidr));
    }
    this.frame(CTL.setPeer, Buffer.concat(parts));
  }

  /** Our static public key: the data path checks mac1 with it and seals cookie replies to it. */
  setStatic(publicKey: Uint8Array): void {
    this.frame(CTL.setStatic, Buffer.from(publicKey));
  }

  /**
   * Per mark tag: the policy id and traffic class its packets carry, and the app tag the metadata names
   * (a flow class's packets name their app; default: the tag itself).
   */
  setTags(tags: TagPolicy[]): void {
    const b = Buffer.alloc(4 + tags.length * 20);
    b.writeUInt32LE(tags.length, 0);
    tags.forEach((t, i) => {
      const at = 4 + i * 20;
      b.writeUInt16LE(t.tag, at);
      b[at + 2] = t.trafficClass;
      b.writeUInt32LE(t.policy >>> 0, at + 4);
      b.writeUInt16LE(t.metaTag ?? 0, at + 8);
      b.writeUInt32LE((t.peerId ?? 0) >>> 0, at + 12);
      b.writeUInt32LE((t.groupId ?? 0) >>> 0, at + 16);
    });
    this.frame(CTL.setTags, b);
  }

  stats(): Promise<DatapathStats> {
    if (this.exited) return Promise.reject(new Error('the tunnel data path is not running'));
    return new Promise((res) => {
      this.statsWaiters.push(res);
      this.frame(CTL.stats, Buffer.alloc(0));
    });
  }

  /** Closing stdin makes the data path exit; its TUN device goes with it. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.stdin.end();
    const timer = setTimeout(() => this.child.signal('SIGKILL'), 3000);
    await this.child.exited;
    clearTimeout(timer);
  }
}
