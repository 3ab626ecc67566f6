// The gateway side of the handshake: authenticate the peer by its static key, refuse replays and
// floods before doing DH, install the session keys into the data path.
import type { Datapath, Endpoint } from '../tunnel/datapath.ts';
import { HandshakeError } from '../tunnel/noise.ts';
import { INIT_LEN, chooseCipher, consumeInitiation, createResponse, mac1Valid } from '../tunnel/handshake.ts';
import { forgetPublicKeys, rememberPublicKeys, type KeyPair } from '../tunnel/keys.ts';
import { IndexAllocator, TokenBucket, type TunnelTimers } from '../tunnel/timers.ts';

export interface ResponderPeer {
  id: number;
  name: string;
  publicKey: Buffer;
  /** The key group this slot's sessions are for; '' the peer's default session. */
  group: string;
}

export interface ResponderCounters {
  accepted: number;
  unknownPeer: number;
  replayedInitiation: number;
  rateLimited: number;
  badMac: number;
  invalid: number;
  /** A known key asking for a key group it does not have (or no longer: revoked). */
  unknownGroup: number;
}

/** Sessions one peer slot may hold at once: the one in use, the one replacing it, and one more. */
export const MAX_SESSIONS_PER_PEER = 3;
/** Handshakes admitted before cookies are asked for; the data path's hs_bucket has the same numbers. */
export const HANDSHAKE_BURST = 500;
export const HANDSHAKES_PER_SECOND = 2000;
/** One source's initiations (WireGuard's ratelimiter: 20/s, burst 5), before any DH. */
export const SOURCE_BURST = 5;
export const SOURCE_PER_SECOND = 20;

interface PeerState {
  lastTimestamp: Buffer | null;
  sessions: { localIndex: number; timer: NodeJS.Timeout }[];
}

export class Responder {
  readonly counters: ResponderCounters = {
    accepted: 0,
    unknownPeer: 0,
    replayedInitiation: 0,
    rateLimited: 0,
    badMac: 0,
    invalid: 0,
    unknownGroup: 0,
  };
  private indices = new IndexAllocator();
  private byKey = new Map<string, ResponderPeer>();
  private state = new Map<number, PeerState>();
  // The rate the data path admits before it counts as under load (PROTOCOL.md, "Under load"): a
  // second guard in case something else feeds us handshakes.
  private global = new TokenBucket(HANDSHAKE_BURST, HANDSHAKES_PER_SECOND);
  private perSource = new Map<string, TokenBucket>();

  constructor(
    private readonly dp: Datapath,
    private readonly ourStatic: KeyPair,
    peers: ResponderPeer[],
    private readonly timers: TunnelTimers,
    private readonly preferAes: boolean,
    /** The resolvers this gateway offers inside the tunnel; told to initiators that ask. */
    private readonly resolvers: readonly string[] = [],
  ) {
    this.setPeers(peers);
    dp.on('handshake', (from, msg, meta) => this.onMessage(from, msg, meta.cookieProved));
    dp.on('confirmed', (idx) => this.onConfirmed(idx));
  }

  /** Replace the set of accepted static keys; existing sessions of dropped peers end with their lifetime. */
  setPeers(peers: ResponderPeer[]): void {
    this.byKey.clear();
    for (const p of peers) this.byKey.set(`${p.publicKey.toString('base64')}|${p.group}`, p);
    rememberPublicKeys(
      this,
      peers.map((p) => p.publicKey),
    );
  }

  private bucketFor(address: string): TokenBucket {
    let b = this.perSource.get(address);
    if (!b) {
      if (this.perSource.size > 10_000) this.perSource.clear();
      b = new TokenBucket(SOURCE_BURST, SOURCE_PER_SECOND);
      this.perSource.set(address, b);
    }
    return b;
  }

  private onMessage(from: Endpoint, msg: Buffer, cookieProved: boolean) {
    if (msg.length !== INIT_LEN) return; // responses are for initiators
    if (!mac1Valid(msg, this.ourStatic.publicKey)) {
      this.counters.badMac++;
      return;
    }
    // A source that proved a cookie is held to its own limit only: the global one is what a flood
    // from spoofed sources exhausts.
    if (!this.bucketFor(from.address).take() || (!cookieProved && !this.global.take())) {
      this.counters.rateLimited++;
      return;
    }
    let got;
    try {
      got = consumeInitiation(msg, this.ourStatic);
    } catch (e) {
      if (e instanceof HandshakeError) this.counters.invalid++;
      return;
    }
    const key = got.peerStatic.toString('base64');
    const peer = this.byKey.get(`${key}|${got.group}`);
    if (!peer) {
      if (got.group && this.byKey.has(`${key}|`)) this.counters.unknownGroup++;
      else this.counters.unknownPeer++;
      return;
    }
    const st = this.state.get(peer.id) ?? { lastTimestamp: null, sessions: [] };
    this.state.set(peer.id, st);
    if (st.lastTimestamp && Buffer.compare(got.timestamp, st.lastTimestamp) <= 0) {
      this.counters.replayedInitiation++;
      return;
    }
    const cipher = chooseCipher(got.cipherOffer, this.preferAes && this.dp.ready.aesAvailable);
    if (cipher === null) {
      this.counters.invalid++;
      return;
    }
    st.lastTimestamp = got.timestamp;
    const localIndex = this.indices.allocate();
    const response = createResponse({
      received: got,
      senderIndex: localIndex,
      cipher,
      resolvers: this.resolvers,
    });
    const keys = got.state.split();
    this.dp.addSession({
      localIndex,
      remoteIndex: got.peerIndex,
      peerId: peer.id,
      epoch: got.epoch,
      cipher,
      sendKey: keys.send,
      receiveKey: keys.receive,
      lifetimeMs: this.timers.rejectAfterMs,
      rekeyAfterMessages: 1n << 62n, // only the initiator rekeys
    });
    keys.send.fill(0);
    keys.receive.fill(0);
    const timer = setTimeout(() => this.retire(peer.id, localIndex), this.timers.rejectAfterMs);
    timer.unref();
    st.sessions.push({ localIndex, timer });
    // A peer that keeps handshaking without sending data would otherwise fill the session table for
    // everyone; like WireGuard (previous, current, next) it keeps at most MAX_SESSIONS_PER_PEER.
    while (st.sessions.length > MAX_SESSIONS_PER_PEER) this.retire(peer.id, st.sessions[0]!.localIndex);
    this.dp.send(from, response);
    this.counters.accepted++;
  }

  /** Ends every session of the peer at once (its keys are gone from the data path); returns how many. */
  revoke(peerId: number): number {
    const st = this.state.get(peerId);
    if (!st) return 0;
    const n = st.sessions.length;
    for (const s of [...st.sessions]) this.retire(peerId, s.localIndex);
    this.state.delete(peerId);
    return n;
  }

  /** Data arrived on a new session: the client has it, older ones can go. */
  private onConfirmed(localIndex: number) {
    for (const [peerId, st] of this.state) {
      const i = st.sessions.findIndex((s) => s.localIndex === localIndex);
      if (i < 0) continue;
      for (const old of st.sessions.slice(0, i)) this.retire(peerId, old.localIndex);
    }
  }

  private retire(peerId: number, localIndex: number) {
    const st = this.state.get(peerId);
    if (!st) return;
    const i = st.sessions.findIndex((s) => s.localIndex === localIndex);
    if (i < 0) return;
    clearTimeout(st.sessions[i]!.timer);
    st.sessions.splice(i, 1);
    this.dp.deleteSession(localIndex);
    this.indices.release(localIndex);
  }

  stop(): void {
    forgetPublicKeys(this);
    for (const st of this.state.values()) for (const s of st.sessions) clearTimeout(s.timer);
  }
}
