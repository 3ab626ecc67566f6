// A client tunnel: the data path process, its TUN device and address, and the initiator.
// Routing apps into the TUN (fwmark rules) belongs to the policy engine: the TUN is one more egress.
import { availableParallelism } from 'node:os';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { LINKS_ONLY } from '../layout/kernel-layout.ts';
import { Reconciler } from '../reconcile/reconciler.ts';
import { TunnelConfig, type TunnelConfigInput } from './config.ts';
import { Datapath, type DatapathStats } from './datapath.ts';
import { CIPHER_AESGCM, CIPHER_CHACHA, keyGroupId } from './handshake.ts';
import { Initiator } from './initiator.ts';
import { decodeKey, publicKeyOf } from './keys.ts';
import { DEFAULT_TIMERS, IndexAllocator, type TunnelTimers } from './timers.ts';

/** A mark tag's policy, and the key group its packets are sent under ('' or absent: the default). */
export interface TunnelTag {
  tag: number;
  policy: number;
  trafficClass: number;
  metaTag?: number;
  group?: string;
}

export interface KeyGroupState {
  name: string;
  /** Its data path peer slot (the gateway keeps a slot per group too). */
  peerId: number;
  established: boolean;
  /** The current session's handshake generation and when it was made (ms since the epoch). */
  epoch: number | null;
  since: number | null;
}

export interface RunningTunnel {
  readonly name: string;
  readonly datapath: Datapath;
  /** The default session's initiator (traffic without a key group). */
  readonly initiator: Initiator;
  /** Key groups, each with its own session: made for the names given, closed for the others. */
  setGroups(groups: readonly string[]): void;
  groups(): KeyGroupState[];
  /** Per mark tag: its metadata, and its key group's session. A group not set is never used. */
  setTags(tags: readonly TunnelTag[]): void;
  /** A new handshake for one key group's session now (the others go on untouched). */
  rekeyGroup(name: string): void;
  /** Resolves once the first handshake completed. */
  established(timeoutMs?: number): Promise<void>;
  stats(): Promise<DatapathStats>;
  stop(): Promise<void>;
}

/** What happens to key groups' sessions, for the helper's log and the tunnel's state. */
export interface TunnelHooks {
  groupEstablished?(group: string): void;
  /** No answer from the gateway: the group was revoked there, or never configured. */
  groupFailed?(group: string, reason: string): void;
}

export async function runTunnel(
  input: TunnelConfigInput,
  timers: Partial<TunnelTimers> = {},
  hooks: TunnelHooks = {},
): Promise<RunningTunnel> {
  const cfg = TunnelConfig.parse(input);
  const priv = decodeKey(cfg.privateKey, 'the tunnel private key');
  const ourStatic = { privateKey: priv, publicKey: publicKeyOf(priv) };
  const gatewayAddress = (await lookup(cfg.gateway.host)).address;
  const mtu = cfg.mtu ?? (isIPv4(gatewayAddress) ? 1413 : 1393);
  const dp = await Datapath.start({
    mode: 'client',
    tun: cfg.name,
    workers: cfg.workers ?? Math.min(availableParallelism(), 16),
    offload: cfg.offload,
    flowmark: true,
    netns: cfg.netns,
    ...(cfg.udpMark ? { udpMark: cfg.udpMark } : {}),
  });
  try {
    // The TUN lives as long as the data path: its settings need applying, never removing.
    const reconciler = new Reconciler({ layout: LINKS_ONLY, ...(cfg.netns ? { netns: cfg.netns } : {}) });
    await reconciler.apply({
      rules: [],
      routes: [],
      nft: null,
      sysctls: {},
      links: [{ name: cfg.name, mtu, up: true, addresses: cfg.address }],
    });
  } catch (e) {
    await dp.stop();
    throw e;
  }
  const endpoint = { address: gatewayAddress, port: cfg.gateway.port };
  dp.setStatic(ourStatic.publicKey); // responses' mac1 is checked in the data path, before us
  dp.setPeer({
    id: 1,
    endpoint,
    addresses: [
      { address: '0.0.0.0', prefixLength: 0 },
      { address: '::', prefixLength: 0 },
    ],
    rules: [],
  });

  const offer =
    cfg.cipher === 'chacha20poly1305'
      ? 1 << CIPHER_CHACHA
      : cfg.cipher === 'aes256gcm'
        ? 1 << CIPHER_AESGCM
        : (1 << CIPHER_CHACHA) | (dp.ready.aesAvailable ? 1 << CIPHER_AESGCM : 0);
  if (cfg.cipher === 'aes256gcm' && !dp.ready.aesAvailable) {
    await dp.stop();
    throw new Error(
      'this CPU has no AES-NI, so AES-256-GCM is unavailable; use cipher "auto" or "chacha20poly1305"',
    );
  }
  const peerStatic = decodeKey(cfg.gatewayPublicKey, 'the gateway public key');
  const indices = new IndexAllocator();
  const initiatorFor = (peerId: number, group: string) =>
    new Initiator(dp, {
      ourStatic,
      peerStatic,
      endpoint,
      peerId,
      cipherOffer: offer,
      timers: { ...DEFAULT_TIMERS, ...timers },
      group,
      indices,
      askResolvers: group === '', // the gateway's resolvers come with the default session
    });
  const initiator = initiatorFor(1, '');
  // Key groups: a peer slot each (ids from 2, kept per name for the tunnel's life) and an initiator.
  const groupIds = new Map<string, number>();
  const groupInitiators = new Map<string, Initiator>();
  /** Groups whose new handshake the gateway does not answer: their old session goes nowhere either. */
  const stalled = new Set<string>();
  const setGroups = (wanted: readonly string[]) => {
    for (const [name, gi] of groupInitiators)
      if (!wanted.includes(name)) {
        gi.close();
        groupInitiators.delete(name);
      }
    for (const name of wanted) {
      if (!name || groupInitiators.has(name)) continue;
      const id = groupIds.get(name) ?? groupIds.size + 2;
      groupIds.set(name, id);
      dp.setPeer({ id, endpoint, addresses: [], rules: [], groupId: keyGroupId(name) });
      const gi = initiatorFor(id, name);
      gi.on('established', () => {
        stalled.delete(name);
        hooks.groupEstablished?.(name);
      });
      gi.on('unanswered', (reason: string) => {
        stalled.add(name);
        hooks.groupFailed?.(name, reason);
      });
      gi.on('failed', (reason) => hooks.groupFailed?.(name, reason));
      groupInitiators.set(name, gi);
      gi.handshake();
    }
  };
  let tags: readonly TunnelTag[] = [];
  const setTags = (next: readonly TunnelTag[]) => {
    tags = next;
    dp.setTags(
      next.map((t) => {
        const id = t.group ? groupIds.get(t.group) : undefined;
        return {
          tag: t.tag,
          policy: t.policy,
          trafficClass: t.trafficClass,
          metaTag: t.metaTag ?? 0,
          // A group without its session yet: peer 0 would mean the default; -1 matches no peer, so the
          // data path drops the packet rather than send it under the default keys.
          peerId: t.group ? (id ?? 0xffffffff) : 0,
          groupId: t.group ? keyGroupId(t.group) : 0,
        };
      }),
    );
  };
  setGroups(cfg.groups);
  setTags(cfg.apps.map((a) => ({ tag: a.tag, policy: a.policyId, trafficClass: a.trafficClass })));
  const liveness = watchLiveness(
    dp,
    () => [[1, initiator], ...[...groupInitiators].map(([n, gi]) => [groupIds.get(n)!, gi] as const)],
    timers.rekeyTimeoutMs ?? DEFAULT_TIMERS.rekeyTimeoutMs,
  );
  // A data path that dies takes the TUN with it; stop handshaking into the void.
  dp.on('exit', () => {
    clearInterval(liveness);
    initiator.stop();
    for (const gi of groupInitiators.values()) gi.stop();
  });
  initiator.handshake();
  return {
    name: cfg.name,
    datapath: dp,
    initiator,
    setGroups(groups) {
      setGroups(groups);
      setTags(tags); // the groups' peer slots may be new
    },
    groups: () =>
      [...groupInitiators].map(([name, gi]) => ({
        name,
        peerId: groupIds.get(name)!,
        established: gi.session !== null && !stalled.has(name),
        epoch: gi.session?.epoch ?? null,
        since: gi.session?.createdAt ?? null,
      })),
    setTags,
    rekeyGroup(name) {
      const gi = groupInitiators.get(name);
      if (!gi) throw new Error(`tunnel ${cfg.name} has no key group ${name}`);
      gi.handshake();
    },
    established(timeoutMs = 10_000) {
      if (initiator.session) return Promise.resolve();
      return new Promise((res, rej) => {
        const t = setTimeout(
          () => rej(new Error(`tunnel ${cfg.name}: no handshake with the gateway within ${timeoutMs} ms`)),
          timeoutMs,
        );
        initiator.once('established', () => {
          clearTimeout(t);
          res();
        });
      });
    },
    stats: () => dp.stats(),
    async stop() {
      clearInterval(liveness);
      initiator.stop();
      for (const gi of groupInitiators.values()) gi.stop();
      await dp.stop();
    },
  };
}

/**
 * WireGuard's rule for a dead session: data was sent on it and nothing came back for the keepalive
 * time plus a handshake timeout (15 s), so make a new handshake. An unanswered one then says so: how
 * a client learns that the gateway revoked a key group. Read from the data path's per-slot bytes.
 */
function watchLiveness(
  dp: Datapath,
  sessions: () => (readonly [number, Initiator])[],
  everyMs: number,
): NodeJS.Timeout {
  const SILENCE_MS = 10_000 + everyMs;
  const seen = new Map<number, { tx: number; rx: number; unansweredSince: number | null }>();
  const t = setInterval(() => {
    dp.stats().then(
      (s) => {
        const now = Date.now();
        const bytes = new Map((s.peers ?? []).map((p) => [p.id, p]));
        for (const [id, gi] of sessions()) {
          const b = bytes.get(id);
          if (!b || !gi.session) continue;
          const last = seen.get(id) ?? { tx: b.txBytes, rx: b.rxBytes, unansweredSince: null };
          if (b.rxBytes !== last.rx) last.unansweredSince = null;
          else if (b.txBytes !== last.tx) last.unansweredSince ??= now;
          if (last.unansweredSince !== null && now - last.unansweredSince >= SILENCE_MS) {
            last.unansweredSince = null;
            gi.handshake();
          }
          seen.set(id, { ...last, tx: b.txBytes, rx: b.rxBytes });
        }
      },
      () => {}, // the data path is stopping: its exit handler clears this timer
    );
  }, everyMs);
  t.unref();
  return t;
}
