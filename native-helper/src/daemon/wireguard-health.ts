// A WireGuard egress whose peer stopped answering is not usable: its apps fail over or are held (the
// loop asks `answering`), and the user reads "wg0: peer not answering since 12:03" among the problems
// and on the interface. While it does not answer, it gets a nudge every 10 s, so that it keeps shaking
// hands and is usable again the moment the peer answers. The verdict is wireguard-liveness.ts's.
import { addressValue } from '../api/ip.ts';
import { type WireguardDevice, nudge } from '../mechanism/wireguard/index.ts';
import type { Problems } from './problems.ts';
import { WireguardLiveness } from './wireguard-liveness.ts';

export interface WireguardHealthDeps {
  log: (msg: string) => void;
  problems: Pick<Problems, 'set' | 'clear'>;
  /** A device stopped or started answering: evaluate again. */
  changed: () => void;
  /** The mark the nudge carries (the tunnels' bypass mark): no app rule or exclude mode takes it. */
  mark: number;
  now?: () => number;
  nudge?: (ifname: string, address: string, mark: number) => Promise<void>;
}

const problemKey = (device: string) => `wireguard-peer:${device}`;

/** "12:03" in the machine's time zone, as a clock on the desktop shows it. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

const v4 = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
const v6 = (n: bigint) =>
  Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - i * 16)) & 0xffffn).toString(16)).join(':');

/**
 * Where a nudge goes: an address inside the allowed IPs (IPv4 first); null when there is none.
 * WireGuard drops anything else; a default route gets TEST-NET, which answers nobody.
 */
export function nudgeTarget(allowedIps: readonly string[]): string | null {
  const nets = allowedIps.map((c) => {
    const [address = '', len = ''] = c.split('/');
    return { address, len: Number(len), family: address.includes(':') ? 6 : 4 };
  });
  const net = nets.find((n) => n.family === 4) ?? nets.find((n) => n.family === 6);
  if (!net || !Number.isInteger(net.len)) return null;
  const bits = net.family === 4 ? 32 : 128;
  if (net.len === 0) return net.family === 4 ? '192.0.2.1' : '2001:db8::1';
  const base = (addressValue(net.address) >> BigInt(bits - net.len)) << BigInt(bits - net.len);
  // The network's first host (its own address for a single host).
  const host = net.len >= bits - 1 ? addressValue(net.address) : base + 1n;
  return net.family === 4 ? v4(host) : v6(host);
}

export class WireguardHealth {
  private readonly liveness: WireguardLiveness;
  private readonly failedNudge = new Set<string>();
  /** The devices of the last read: a problem of one that is gone goes with it. */
  private known = new Set<string>();

  constructor(private readonly deps: WireguardHealthDeps) {
    this.liveness = new WireguardLiveness(deps.now);
  }

  /** One read of every WireGuard device (null: it could not be read, so no verdict changes). */
  observe(devices: ReadonlyMap<string, WireguardDevice | null>): void {
    for (const [name, dev] of devices) {
      if (!dev) continue;
      const change = this.liveness.observe(name, dev.peers);
      if (change) {
        const problem = this.problem(name);
        if (problem) this.deps.problems.set(problemKey(name), problem);
        else this.deps.problems.clear(problemKey(name));
        // Setting the problem logs it already.
        if (!problem) this.deps.log(`${name}: the peer answers again`);
        this.deps.changed();
      }
      if (this.liveness.nudgeDue(name)) this.nudge(name, dev);
    }
    for (const gone of this.gone(devices)) this.deps.problems.clear(problemKey(gone));
    this.liveness.keepOnly([...devices.keys()]);
  }

  /** False while the device's peer does not answer (never seen: true). */
  answering(device: string): boolean {
    return this.liveness.answering(device);
  }

  /** "wg0: peer not answering since 12:03", or null. */
  problem(device: string): string | null {
    const since = this.liveness.deadSince(device);
    return since === null ? null : `${device}: peer not answering since ${clockTime(since)}`;
  }

  private gone(devices: ReadonlyMap<string, unknown>): string[] {
    const gone = [...this.known].filter((n) => !devices.has(n));
    this.known = new Set(devices.keys());
    return gone;
  }

  private nudge(name: string, dev: WireguardDevice): void {
    const target = nudgeTarget(dev.peers.flatMap((p) => p.allowedIps));
    if (!target) return;
    void (this.deps.nudge ?? nudge)(name, target, this.deps.mark).then(
      () => this.failedNudge.delete(name),
      (err: Error) => {
        // Once per spell: it is retried every 10 s anyway.
        if (!this.failedNudge.has(name)) this.deps.log(`could not nudge ${name}: ${err.message}`);
        this.failedNudge.add(name);
      },
    );
  }
}
