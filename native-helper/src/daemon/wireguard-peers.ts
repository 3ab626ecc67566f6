// The WireGuard devices' public keys, peers and latest handshakes, for the interface list. Read from
// the UAPI socket or `wg show dump` (mechanism/wireguard) at most every few seconds: handshakes do not
// raise netlink events, so the tick and interfaces.list ask for them. Each read also feeds the peers'
// liveness (wireguard-health.ts).
import type { Interface, WireguardInfo } from '../api/schema.ts';
import { readWireguard, type WireguardDevice } from '../mechanism/wireguard/index.ts';

const MAX_AGE_MS = 2000;

export function wireguardInfo(dev: WireguardDevice): WireguardInfo {
  return {
    publicKey: dev.publicKey,
    listenPort: dev.listenPort,
    peers: dev.peers.map((p) => ({
      publicKey: p.publicKey,
      endpoint: p.endpoint,
      allowedIps: p.allowedIps,
      latestHandshake: p.latestHandshake === null ? null : new Date(p.latestHandshake * 1000).toISOString(),
    })),
  };
}

export class WireguardPeers {
  private info = new Map<string, WireguardInfo | null>();
  private readAt = 0;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly log: (msg: string) => void,
    private readonly opts: {
      read?: (ifname: string) => Promise<WireguardDevice>;
      /** Runs after each read while WireGuard devices exist (wireguard-health.ts, wireguard-guard.ts). */
      after?: (devices: ReadonlyMap<string, WireguardDevice | null>) => void;
      /** What is wrong with a device now ("wg0: peer not answering since 12:03"), shown with its peers. */
      problem?: (ifname: string) => string | null;
    } = {},
  ) {}

  /** Reads every WireGuard device again unless the last read is recent (or `force`). */
  refresh(interfaces: readonly Pick<Interface, 'name' | 'kind'>[], force = false): Promise<void> {
    const names = interfaces.filter((i) => i.kind === 'wireguard').map((i) => i.name);
    if (!names.length) {
      // The last device went: what was said about it goes too.
      if (this.info.size) this.opts.after?.(new Map());
      this.info.clear();
      return Promise.resolve();
    }
    if (this.reading) return this.reading;
    if (!force && Date.now() - this.readAt < MAX_AGE_MS && names.every((n) => this.info.has(n)))
      return Promise.resolve();
    this.reading = (async () => {
      const next = new Map<string, WireguardInfo | null>();
      const devices = new Map<string, WireguardDevice | null>();
      for (const name of names) {
        try {
          const dev = await (this.opts.read ?? readWireguard)(name);
          devices.set(name, dev);
          next.set(name, wireguardInfo(dev));
        } catch (err) {
          // Not ours to fix (a stale socket, wg missing): the card says it cannot tell.
          if (this.info.get(name) !== null)
            this.log(`could not read WireGuard ${name}: ${(err as Error).message}`);
          next.set(name, null);
          devices.set(name, null);
        }
      }
      this.info = next;
      this.readAt = Date.now();
      try {
        this.opts.after?.(devices);
      } catch (err) {
        this.log(`WireGuard checks: ${(err as Error).message}`);
      }
    })().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  /** The interface with its WireGuard details, when it is a WireGuard device. */
  with<I extends Interface>(i: I): I {
    if (i.kind !== 'wireguard') return i;
    const info = this.info.get(i.name) ?? null;
    const problem = this.opts.problem?.(i.name) ?? null;
    return { ...i, wireguard: info && (problem ? { ...info, problem } : info) };
  }
}
