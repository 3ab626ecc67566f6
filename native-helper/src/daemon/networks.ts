// Networks and their trust: which network each uplink is attached to (by the default gateway's MAC and,
// on Wi-Fi, the SSID), the networks seen before, and the trust the user gave them. A network that is
// not identified yet (its gateway's MAC unknown) counts as untrusted until it is.
import { createHash } from 'node:crypto';
import type { Interface } from '../api/schema.ts';
import type { Network, NetworkFingerprint, Trust } from '../api/rules-model.ts';
import {
  type Neighbor,
  readNeighbors as kernelNeighbors,
  readRoutes,
  resolveNeighbor as kernelResolve,
} from '../mechanism/netlink/index.ts';
import { readSsid as kernelSsid } from '../mechanism/netlink/wifi.ts';
import { networkOf } from '../policy/compile.ts';
import type { PolicyDocument } from '../policy/model.ts';
import { effectiveTrust, type NetworkContext } from '../policy/trust.ts';
import type { PolicyState } from './policy-state.ts';

export interface NetworksDeps {
  policy: PolicyState;
  /** After any change to the list or a trust. */
  changed: (networks: Network[]) => void;
  readNeighbors?: () => Promise<Neighbor[]>;
  resolveNeighbor?: (address: string, dev: string) => Promise<void>;
  /** The SSID a Wi-Fi uplink is connected to; null when not connected. */
  readSsid?: (ifname: string) => Promise<string | null>;
  /** The uplink of the main table's best default route. */
  systemUplink?: () => Promise<string | null>;
  now?: () => Date;
}

interface Attachment {
  id: string | null;
  fingerprint: NetworkFingerprint;
  gateway: string;
}

export function networkId(fp: NetworkFingerprint): string | null {
  if (!fp.gatewayMac) return null;
  const h = createHash('sha256')
    .update(`${fp.gatewayMac}|${fp.ssid ?? ''}`)
    .digest('hex');
  return `n-${h.slice(0, 12)}`;
}

async function bestDefaultUplink(): Promise<string | null> {
  for (const family of [4, 6] as const) {
    const routes = (await readRoutes(family, { table: 254 })).filter((r) => r.dst === 'default' && r.dev);
    routes.sort((a, b) => a.metric - b.metric);
    if (routes[0]) return routes[0].dev;
  }
  return null;
}

export class Networks {
  private attached = new Map<string, Attachment>();
  private systemUplink: string | null = null;
  private readonly now: () => Date;

  constructor(private readonly deps: NetworksDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The networks the uplinks are on now; new ones are remembered. Returns what trust needs. */
  async identify(interfaces: readonly Interface[]): Promise<NetworkContext> {
    const neighbors = await (this.deps.readNeighbors ?? kernelNeighbors)();
    const next = new Map<string, Attachment>();
    for (const i of interfaces) {
      if (i.kind === 'tunnel' || i.kind === 'loopback' || !i.usable) continue;
      const gw = i.gateways.find((g) => g.family === 4) ?? i.gateways[0];
      if (!gw) continue;
      const mac = neighbors.find((n) => n.ifname === i.name && n.address === gw.address)?.mac ?? null;
      if (!mac) void (this.deps.resolveNeighbor ?? kernelResolve)(gw.address, i.name).catch(() => {});
      const a = i.addresses.find((x) => x.family === gw.family && !x.address.startsWith('fe80'));
      // Unreadable counts as no SSID: the network is then told by its gateway MAC alone.
      const ssid =
        i.kind === 'wifi' ? await (this.deps.readSsid ?? kernelSsid)(i.name).catch(() => null) : null;
      const fingerprint: NetworkFingerprint = {
        gatewayMac: mac,
        ssid,
        subnet: a ? networkOf(a.family, a.address, a.prefixLength) : null,
      };
      next.set(i.name, { id: networkId(fingerprint), fingerprint, gateway: gw.address });
    }
    this.systemUplink = await (this.deps.systemUplink ?? bestDefaultUplink)().catch(() => null);
    const changed = JSON.stringify([...next]) !== JSON.stringify([...this.attached]);
    this.attached = next;
    if (changed) {
      this.remember();
      this.deps.changed(this.list());
    }
    return this.context();
  }

  context(): NetworkContext {
    return {
      networkOf: Object.fromEntries([...this.attached].map(([name, a]) => [name, a.id])),
      systemUplink: this.systemUplink,
    };
  }

  /** Records networks seen for the first time and when known ones were last attached. */
  private remember(): void {
    const doc = this.deps.policy.current;
    const now = this.now().toISOString();
    let networks = doc.networks;
    for (const a of this.attached.values()) {
      if (!a.id) continue;
      const known = networks.find((n) => n.id === a.id);
      networks = known
        ? networks.map((n) => (n === known ? { ...n, lastSeen: now, fingerprint: a.fingerprint } : n))
        : [
            ...networks,
            {
              id: a.id,
              name:
                a.fingerprint.ssid !== null
                  ? `"${a.fingerprint.ssid}" via ${a.gateway}`
                  : `Network via ${a.gateway} (${a.fingerprint.gatewayMac})`,
              fingerprint: a.fingerprint,
              trust: null,
              firstSeen: now,
              lastSeen: now,
            },
          ];
    }
    if (networks !== doc.networks) this.deps.policy.commit({ ...doc, networks });
  }

  list(): Network[] {
    const doc = this.deps.policy.effective();
    const out: Network[] = doc.networks.map((n) => ({
      ...n,
      effectiveTrust: effectiveTrust(doc, n.id),
      interfaces: [...this.attached].filter(([, a]) => a.id === n.id).map(([name]) => name),
      managed: false,
    }));
    // Attached but not identified yet: shown, untrusted, not remembered.
    for (const [name, a] of this.attached)
      if (!a.id)
        out.push({
          // Not the id it will have: one per uplink until its gateway answers, never stored or trusted.
          id: `n-${createHash('sha256').update(`pending|${name}`).digest('hex').slice(0, 12)}`,
          name: `Identifying the network on ${name}…`,
          fingerprint: a.fingerprint,
          trust: null,
          effectiveTrust: 'untrusted',
          firstSeen: this.now().toISOString(),
          lastSeen: this.now().toISOString(),
          interfaces: [name],
          managed: false,
        });
    return out;
  }

  setTrust(id: string, trust: Trust | null): Network {
    const doc = this.deps.policy.current;
    if (!doc.networks.some((n) => n.id === id))
      throw new Error(`no network "${id}"; \`switchyard networks\` lists the networks seen so far.`);
    this.commit({ ...doc, networks: doc.networks.map((n) => (n.id === id ? { ...n, trust } : n)) });
    return this.list().find((n) => n.id === id)!;
  }

  rename(id: string, name: string): Network {
    const doc = this.deps.policy.current;
    if (!doc.networks.some((n) => n.id === id)) throw new Error(`no network "${id}".`);
    this.commit({ ...doc, networks: doc.networks.map((n) => (n.id === id ? { ...n, name } : n)) });
    return this.list().find((n) => n.id === id)!;
  }

  /** The trust of networks nobody marked. */
  setUnknownTrust(trust: Trust): void {
    this.commit({ ...this.deps.policy.current, unknownTrust: trust });
  }

  private commit(doc: PolicyDocument): void {
    this.deps.policy.commit(doc);
    this.deps.changed(this.list());
  }
}
