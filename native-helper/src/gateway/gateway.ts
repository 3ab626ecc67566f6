// `switchyard gateway`: terminate client tunnels, check each packet's app metadata against the
// peer's allowed apps, account per peer + app tag + policy id, forward with NAT out of each app's
// uplink (uplinks.ts). Its kernel state is one desired value (kernel-state.ts) that the reconciler
// applies in the gateway's namespace and removes on stop.
import { availableParallelism } from 'node:os';
import { gatewayLayout, uplinkMark } from '../layout/kernel-layout.ts';
import { Reconciler } from '../reconcile/reconciler.ts';
import { Datapath, parseCidr, type DatapathStats } from '../tunnel/datapath.ts';
import { decodeKey, publicKeyOf } from '../tunnel/keys.ts';
import { keyGroupId } from '../tunnel/handshake.ts';
import { DEFAULT_TIMERS, type TunnelTimers } from '../tunnel/timers.ts';
import {
  parseGatewayConfig,
  type GatewayPeer,
  type GatewayPeerInput,
  type GatewayConfig,
  type GatewayConfigInput,
} from './config.ts';
import { gatewayDesired } from './kernel-state.ts';
import { Responder, type ResponderCounters } from './responder.ts';
import { readMainDefaults } from './uplinks.ts';

export interface AccountingRow {
  peer: string;
  tag: number;
  policyId: number;
  packets: number;
  bytes: number;
}

export interface GatewayStats {
  counters: Record<string, number>;
  handshakes: ResponderCounters;
  accounting: AccountingRow[];
}

export interface RunningGateway {
  readonly config: GatewayConfig;
  readonly datapath: Datapath;
  readonly port: number;
  stats(): Promise<GatewayStats>;
  /**
   * Add peers or change their keys, addresses and apps at run time (matched by name). A peer left out
   * can no longer handshake; its current session, and its apps, stay until the session expires.
   */
  updatePeers(peers: GatewayPeerInput[]): Promise<void>;
  /** The peers now (the file's, with run-time changes). */
  peers(): GatewayPeer[];
  /** Adds a peer or replaces the one of that name; a replaced peer's sessions end at once. */
  setPeer(peer: GatewayPeerInput): Promise<void>;
  /** Removes a peer: it can no longer handshake, and its sessions end at once. Returns how many. */
  removePeer(name: string): Promise<number>;
  /**
   * Revokes one key group of a peer: its session ends at once and it can no longer handshake, while the
   * peer's other groups go on. Returns the sessions ended.
   */
  revokeGroup(peer: string, group: string): Promise<number>;
  stop(): Promise<void>;
}

export async function runGateway(
  input: GatewayConfigInput | GatewayConfig,
  timers: Partial<TunnelTimers> = {},
): Promise<RunningGateway> {
  const cfg = parseGatewayConfig(input);
  const priv = decodeKey(cfg.privateKey, 'the gateway private key');
  const ourStatic = { privateKey: priv, publicKey: publicKeyOf(priv) };
  const layout = gatewayLayout(cfg.instance);
  const netns = cfg.netns ? { netns: cfg.netns } : {};
  const reconciler = new Reconciler({ layout, ...netns });
  const dp = await Datapath.start({
    mode: 'gateway',
    tun: cfg.tunName,
    port: cfg.listenPort,
    workers: cfg.workers ?? Math.min(availableParallelism(), 16),
    offload: cfg.offload,
    flowmark: true,
    netns: cfg.netns,
  });
  dp.setStatic(ourStatic.publicKey); // garbage costs one HMAC in the data path; floods get cookie replies
  const cleanup = () => reconciler.teardown();
  try {
    const mainDefaults = await readMainDefaults(
      cfg.uplinks.map((u) => u.interface),
      netns,
    );
    await reconciler.apply(gatewayDesired(cfg, layout, mainDefaults));
  } catch (e) {
    await dp.stop();
    await cleanup();
    throw e;
  }
  const markOf = (uplink: string | undefined) =>
    uplinkMark(layout, uplink ? cfg.uplinks.findIndex((u) => u.name === uplink) : 0);
  // Stable data path ids per peer slot ("laptop", "laptop/work"), so run-time updates never reassign
  // another slot's id. A key group is a slot of its own: its sessions, its apps, the peer's addresses.
  const ids = new Map<string, number>();
  const slotId = (slot: string) => {
    const id = ids.get(slot) ?? ids.size + 1;
    ids.set(slot, id);
    return id;
  };
  const install = (list: GatewayPeer[]) =>
    list.flatMap((p) => {
      const publicKey = decodeKey(p.publicKey, `peer ${p.name}'s key`);
      return [{ group: '', apps: p.apps }, ...p.groups.map((g) => ({ group: g.name, apps: g.apps }))].map(
        ({ group, apps }) => {
          const name = group ? `${p.name}/${group}` : p.name;
          const id = slotId(name);
          dp.setPeer({
            id,
            endpoint: null,
            addresses: p.addresses.map(parseCidr),
            rules: apps.map((a) => ({ tag: a.tag, allow: a.allow.map(parseCidr), mark: markOf(a.uplink) })),
            groupId: keyGroupId(group),
          });
          return { id, name, publicKey, group };
        },
      );
    });
  /** Takes a slot out: nothing it sends is accepted or routed to it, and its sessions end now. */
  const closeSlot = (slot: string): number => {
    const id = ids.get(slot);
    if (id === undefined) return 0;
    dp.setPeer({ id, endpoint: null, addresses: [], rules: [] });
    return responder.revoke(id);
  };
  const slotsOf = (p: GatewayPeer) => [p.name, ...p.groups.map((g) => `${p.name}/${g.name}`)];
  const timing = { ...DEFAULT_TIMERS, ...timers };
  let current = cfg.peers;
  const responder = new Responder(dp, ourStatic, install(cfg.peers), timing, cfg.preferAes, cfg.dns);
  dp.on('exit', () => responder.stop());
  const updatePeers = async (peers: GatewayPeerInput[]) => {
    const checked = parseGatewayConfig({ ...cfg, peers }).peers;
    responder.setPeers(install(checked));
    current = checked;
    await dp.stats(); // control frames are handled in order: once this answers, the peers are in place
  };
  const nameOf = (id: number) => [...ids].find(([, v]) => v === id)?.[0] ?? `#${id}`;
  return {
    config: cfg,
    datapath: dp,
    port: dp.ready.port,
    async stats() {
      const s: DatapathStats = await dp.stats();
      return {
        counters: s.counters,
        // Initiations refused for rate before they reached us (the data path's bucket, or a cookie
        // reply in their place) count with ours, so the numbers add up to what arrived.
        handshakes: {
          ...responder.counters,
          rateLimited:
            responder.counters.rateLimited +
            (s.counters.handshakesRateLimited ?? 0) +
            (s.counters.cookieRepliesSent ?? 0),
          badMac: responder.counters.badMac + (s.counters.handshakesBadMac ?? 0),
        },
        accounting: s.accounting.map((a) => ({
          peer: nameOf(a.peer),
          tag: a.tag,
          policyId: a.policy,
          packets: a.packets,
          bytes: a.bytes,
        })),
      };
    },
    updatePeers,
    peers: () => current,
    async setPeer(input) {
      const peer = parseGatewayConfig({ ...cfg, peers: [input] }).peers[0]!;
      const old = current.find((p) => p.name === peer.name);
      await updatePeers(old ? current.map((p) => (p.name === peer.name ? peer : p)) : [...current, peer]);
      if (!old) return;
      // A new key: nothing may go on under the old one. A group gone: its session ends now. Apps and
      // destinations changed in place apply to the next packet without a new handshake.
      const keep = new Set(old.publicKey === peer.publicKey ? slotsOf(peer) : []);
      for (const slot of slotsOf(old))
        if (!keep.has(slot)) {
          if (slotsOf(peer).includes(slot)) responder.revoke(ids.get(slot)!);
          else closeSlot(slot);
        }
      await dp.stats();
    },
    async removePeer(name) {
      const old = current.find((p) => p.name === name);
      if (!old) throw new Error(`no peer named ${name}`);
      await updatePeers(current.filter((p) => p.name !== name));
      const ended = slotsOf(old).reduce((n, slot) => n + closeSlot(slot), 0);
      await dp.stats();
      return ended;
    },
    async revokeGroup(name, group) {
      const old = current.find((p) => p.name === name);
      if (!old) throw new Error(`no peer named ${name}`);
      if (!old.groups.some((g) => g.name === group))
        throw new Error(`peer ${name} has no key group ${group}`);
      await updatePeers(
        current.map((p) =>
          p.name === name ? { ...p, groups: p.groups.filter((g) => g.name !== group) } : p,
        ),
      );
      const ended = closeSlot(`${name}/${group}`);
      await dp.stats();
      return ended;
    },
    async stop() {
      responder.stop();
      await dp.stop();
      await cleanup();
    },
  };
}
