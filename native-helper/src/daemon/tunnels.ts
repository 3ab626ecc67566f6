// The helper's tunnels: each one is a running data path with a TUN device, and so one more egress.
// Their settings (private keys included) live in the state directory, mode 0600, written atomically.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AuditNote } from '../api/events-model.ts';
import { ApiError, type Tunnel, WireKey } from '../api/schema.ts';
import { writeFileAtomicSync } from '../storage/atomic-file.ts';
import { genkey, pubkey } from '../tunnel/keys.ts';
import { type RunningTunnel, runTunnel } from '../tunnel/tunnel.ts';

const TunnelRecord = z.preprocess(
  // Files written before IPv6 inside tunnels held one `address`.
  (v) => {
    if (!v || typeof v !== 'object' || !('address' in v)) return v;
    const { address, ...rest } = v as { address: unknown };
    return { ...rest, addresses: [address] };
  },
  z
    .object({
      name: z.string(),
      gateway: z.string(),
      gatewayPublicKey: WireKey,
      privateKey: WireKey,
      addresses: z.array(z.string()).min(1),
      cipher: z.enum(['auto', 'chacha20poly1305', 'aes256gcm']),
    })
    .strict(),
);
type TunnelRecord = z.infer<typeof TunnelRecord>;
export const TunnelFile = z.object({ version: z.literal(1), tunnels: z.array(TunnelRecord) }).strict();

/** The metadata a tunnel stamps on an app's packets: its tag and the id of the policy that sent it. */
export interface TunnelApp {
  tag: number;
  policyId: number;
  /** A flow class's tag names its app in the metadata (the gateway knows apps, not classes). */
  metaTag?: number;
  /** A flow class of an encrypt rule with a key group: its tunnel and group (its own session). */
  tunnel?: string;
  keyGroup?: string;
}

interface Live {
  record: TunnelRecord;
  running: RunningTunnel | null;
  state: Tunnel['state'];
  problem: string | null;
  /** Key groups whose session the gateway does not answer for. */
  groupProblems: Map<string, string>;
  /** The data path's last byte counts per peer slot (0 the default session), from refreshBytes(). */
  bytes: Map<number, { tx: number; rx: number }>;
  /**
   * The resolvers the gateway offered in its last handshake response (kept while it is down); null
   * before any handshake, or from a gateway that does not say.
   */
  gatewayDns: string[] | null;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ApiError('BAD_REQUEST', `gateway: '${text}' is not HOST:PORT (e.g. 203.0.113.7:51900)`);
  }
  return { host: m[1]!, port };
}

export class TunnelManager {
  private readonly path: string;
  private readonly live = new Map<string, Live>();
  private apps: TunnelApp[] = [];

  constructor(
    stateDir: string,
    private readonly onChange: () => void,
    private readonly log: (msg: string) => void,
    /** Writes to the audit trail: a key group losing or regaining its session is one. */
    private readonly audit: (note: AuditNote) => void = () => {},
    /** The mark of the data path's UDP sockets (exclude-mode.ts BYPASS_TAG): never routed into a tunnel. */
    private readonly udpMark?: number,
  ) {
    this.path = join(stateDir, 'tunnels.json');
  }

  /** Read the saved tunnels and start them; a tunnel that fails to start is reported, not fatal. */
  async startAll(): Promise<void> {
    if (!existsSync(this.path)) return;
    let file;
    try {
      file = TunnelFile.parse(JSON.parse(readFileSync(this.path, 'utf8')));
    } catch (err) {
      throw new Error(
        `the tunnels file ${this.path} cannot be used: ${(err as Error).message}; fix or remove it`,
        { cause: err },
      );
    }
    for (const record of file.tunnels) await this.start(record);
  }

  has(name: string): boolean {
    return this.live.has(name);
  }

  groupUp(name: string, group: string): boolean {
    return (
      this.live
        .get(name)
        ?.running?.groups()
        .find((g) => g.name === group)?.established ?? false
    );
  }

  isUp(name: string): boolean {
    return this.live.get(name)?.state === 'up';
  }

  /** Reads every running tunnel's byte counts from its data path (one control round trip each). */
  async refreshBytes(): Promise<void> {
    await Promise.all(
      [...this.live.values()].map(async (l) => {
        const peers = await l.running
          ?.stats()
          .then((s) => s.peers ?? [])
          .catch(() => null);
        if (peers) l.bytes = new Map(peers.map((p) => [p.id, { tx: p.txBytes, rx: p.rxBytes }]));
      }),
    );
  }

  /** Tunnel → the resolvers its gateway offers, for tunnels whose gateway offers any. */
  gatewayResolvers(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, l] of this.live) if (l.gatewayDns?.length) out[name] = l.gatewayDns;
    return out;
  }

  list(): Tunnel[] {
    return [...this.live.values()].map(
      ({ record, state, problem, running, groupProblems, bytes, gatewayDns }) => ({
        name: record.name,
        gateway: record.gateway,
        gatewayPublicKey: record.gatewayPublicKey,
        publicKey: pubkey(record.privateKey),
        addresses: record.addresses,
        cipher: record.cipher,
        state,
        problem: [problem, ...groupProblems.values()].filter(Boolean).join('; ') || null,
        ...(gatewayDns ? { gatewayDns } : {}),
        ...(running && {
          txBytes: sum([...bytes.values()].map((b) => b.tx)),
          rxBytes: sum([...bytes.values()].map((b) => b.rx)),
        }),
        groups: (running?.groups() ?? []).map((g) => ({
          name: g.name,
          established: g.established,
          epoch: g.epoch,
          since: g.since === null ? null : new Date(g.since).toISOString(),
          txBytes: bytes.get(g.peerId)?.tx ?? 0,
          rxBytes: bytes.get(g.peerId)?.rx ?? 0,
        })),
      }),
    );
  }

  async add(
    p: Omit<TunnelRecord, 'privateKey'> & { privateKey?: string },
    interfaceExists: (name: string) => boolean,
  ): Promise<Tunnel> {
    if (this.live.has(p.name)) throw new ApiError('CONFLICT', `a tunnel named ${p.name} exists already`);
    if (interfaceExists(p.name))
      throw new ApiError('CONFLICT', `an interface named ${p.name} exists already; pick another name`);
    parseHostPort(p.gateway);
    const record: TunnelRecord = { ...p, privateKey: p.privateKey ?? genkey() };
    await this.start(record);
    this.save();
    return this.list().find((t) => t.name === p.name)!;
  }

  async remove(name: string): Promise<void> {
    const t = this.live.get(name);
    if (!t) throw new ApiError('NOT_FOUND', `no tunnel named ${name}`);
    this.live.delete(name);
    this.save();
    await t.running?.stop();
    this.onChange();
  }

  /** Which tag and policy id each app's packets carry; sent to every running data path. */
  setApps(apps: TunnelApp[]): void {
    if (JSON.stringify(apps) === JSON.stringify(this.apps)) return;
    this.apps = apps;
    for (const t of this.live.values()) if (t.running) this.configure(t.running);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.live.values()].map((t) => t.running?.stop()));
    this.live.clear();
  }

  /** The tunnel's key groups (those its flow classes name) and every tag's metadata and group. */
  private configure(running: RunningTunnel): void {
    const mine = (a: TunnelApp) => a.tunnel === running.name && a.keyGroup;
    running.setGroups([...new Set(this.apps.filter(mine).map((a) => a.keyGroup!))]);
    running.setTags(
      this.apps.map((a) => ({
        tag: a.tag,
        policy: a.policyId,
        trafficClass: 0,
        ...(a.metaTag ? { metaTag: a.metaTag } : {}),
        ...(mine(a) ? { group: a.keyGroup } : {}),
      })),
    );
  }

  private async start(record: TunnelRecord): Promise<void> {
    const live: Live = {
      record,
      running: null,
      state: 'connecting',
      problem: null,
      groupProblems: new Map(),
      bytes: new Map(),
      gatewayDns: null,
    };
    this.live.set(record.name, live);
    try {
      const running = await runTunnel(
        {
          name: record.name,
          privateKey: record.privateKey,
          gateway: parseHostPort(record.gateway),
          gatewayPublicKey: record.gatewayPublicKey,
          address: record.addresses,
          cipher: record.cipher,
          apps: this.apps.map((a) => ({ tag: a.tag, policyId: a.policyId })),
          ...(this.udpMark ? { udpMark: this.udpMark } : {}),
        },
        {},
        {
          groupEstablished: (group) => {
            if (live.groupProblems.delete(group)) {
              const message = `tunnel ${record.name}: key group ${group} has a session again`;
              this.log(message);
              this.audit({ action: 'keygroup.up', kind: 'tunnel', by: `gateway ${record.gateway}`, message });
            }
            this.onChange();
          },
          groupFailed: (group, reason) => {
            // The gateway does not answer for this group: revoked there, or never given to this peer.
            const message = `key group ${group} has no session (${reason}); the gateway may have revoked it, and the flows of rules using it are held`;
            if (live.groupProblems.get(group) !== message) this.log(`tunnel ${record.name}: ${message}`);
            if (!live.groupProblems.has(group))
              this.audit({
                action: 'keygroup.down',
                kind: 'tunnel',
                by: `gateway ${record.gateway}`,
                message: `tunnel ${record.name}: ${message}`,
              });
            live.groupProblems.set(group, message);
            this.onChange();
          },
        },
      );
      live.running = running;
      // The default session's liveness (tunnel.ts watchLiveness): an initiation unanswered for one retry
      // means the gateway is gone or no longer knows us. The tunnel stops counting as up, so its apps
      // fail over or are held at once, not when the session expires; it keeps trying meanwhile.
      running.initiator.on('unanswered', (reason: string) => {
        if (live.state !== 'up') return;
        live.state = 'connecting';
        live.problem = `the gateway ${record.gateway} does not answer (${reason}); still trying`;
        this.log(`tunnel ${record.name}: ${live.problem}`);
        this.onChange();
      });
      // Every handshake response says which resolvers the gateway offers (none from an older gateway).
      const learnDns = (dns: string[] | null) => {
        if (JSON.stringify(dns) === JSON.stringify(live.gatewayDns)) return;
        live.gatewayDns = dns;
        const offer =
          dns === null
            ? 'does not say which resolvers it offers'
            : `offers ${dns.join(', ') || 'no resolver'}`;
        this.log(`tunnel ${record.name}: the gateway ${offer}`);
        this.onChange();
      };
      running.initiator.on('established', (s) => learnDns(s.resolvers));
      if (running.initiator.session) learnDns(running.initiator.session.resolvers);
      running.initiator.on('established', () => {
        if (live.state !== 'connecting' || live.problem === null) return;
        live.state = 'up';
        live.problem = null;
        this.log(`tunnel ${record.name} is up again`);
        this.onChange();
      });
      // With the flow classes' metadata tags too (the config carries apps' own tags only).
      this.configure(running);
      running.datapath.on('exit', () => {
        live.state = 'down';
        live.problem = 'the data path exited';
        this.onChange();
      });
      void running.established(60_000).then(
        () => {
          live.state = 'up';
          live.problem = null;
          this.log(`tunnel ${record.name} is up`);
          this.onChange();
        },
        () => {
          // It keeps trying; the likely causes, in the user's words.
          live.problem = `no handshake with ${record.gateway} in 60 s: is this end's public key (switchyard tunnel show ${record.name}) among the gateway's peers, and does its UDP port answer?`;
          this.onChange();
        },
      );
    } catch (err) {
      live.state = 'down';
      live.problem = (err as Error).message;
      this.log(`tunnel ${record.name} could not start: ${live.problem}`);
    }
  }

  private save(): void {
    const file = { version: 1 as const, tunnels: [...this.live.values()].map((t) => t.record) };
    writeFileAtomicSync(this.path, `${JSON.stringify(file, null, 2)}\n`, 0o600);
  }
}
