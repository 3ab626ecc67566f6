// `switchyard gateway`: terminate client tunnels, check each packet's app metadata against the
// peer's allowed apps, account per peer + app tag + policy id, forward with NAT out of each app's
// uplink (uplinks.ts). Its kernel state is one desired value (kernel-state.ts) that the reconciler
// applies in the gateway's namespace and removes on stop.
import { availableParallelism } from 'node:os';
import { gatewayLayout, uplinkMark } from '../layout/kernel-layout.ts';
import { Reconciler } from '../reconcile/reconciler.ts';
import { Datapath, parseCidr, type DatapathStats } from '../tunnel/datapath.ts';
import { decodeKey, publicKeyOf } from '../tunnel/keys.ts';
import { DEFAULT_TIMERS, type TunnelTimers } from '../tunnel/timers.ts';
import {
  parseGatewayConfig,
  type GatewayPeer,
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
  updatePeers(peers: GatewayPeer[]): Promise<void>;
  /** The peers now (the file's, with run-time changes). */
  peers(): GatewayPeer[];
  /** Adds a peer or replaces the one of that name; a replaced peer's sessions end at once. */
  setPeer(peer: GatewayPeer): Promise<void>;
  /** Removes a peer: it can no longer handshake, and its sessions end at once. Returns how many. */
  removePeer(name: string): Promise<number>;
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
  // Stable data path ids per peer name, so run-time updates never reassign another peer's id.
  const ids = new Map<string, number>();
  const install = (list: GatewayPeer[]) =>
    list.map((p) => {
      const id = ids.get(p.name) ?? ids.size + 1;
      ids.set(p.name, id);
      dp.setPeer({
        id,
        endpoint: null,
        addresses: p.addresses.map(parseCidr),
        rules: p.apps.map((a) => ({ tag: a.tag, allow: a.allow.map(parseCidr), mark: markOf(a.uplink) })),
      });
      return { id, name: p.name, publicKey: decodeKey(p.publicKey, `peer ${p.name}'s key`) };
    });
  const timing = { ...DEFAULT_TIMERS, ...timers };
  let current = cfg.peers;
  const responder = new Responder(dp, ourStatic, install(cfg.peers), timing, cfg.preferAes);
  dp.on('exit', () => responder.stop());
  const updatePeers = async (peers: GatewayPeer[]) => {
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
    async setPeer(peer) {
      const old = current.find((p) => p.name === peer.name);
      await updatePeers(old ? current.map((p) => (p.name === peer.name ? peer : p)) : [...current, peer]);
      // New keys or rights: nothing the old session carried may go on under the old terms.
      if (old) responder.revoke(ids.get(peer.name)!);
    },
    async removePeer(name) {
      if (!current.some((p) => p.name === name)) throw new Error(`no peer named ${name}`);
      await updatePeers(current.filter((p) => p.name !== name));
      const id = ids.get(name)!;
      // Its slot keeps no address or app: nothing it sends is accepted, nothing is routed to it.
      dp.setPeer({ id, endpoint: null, addresses: [], rules: [] });
      const ended = responder.revoke(id);
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
