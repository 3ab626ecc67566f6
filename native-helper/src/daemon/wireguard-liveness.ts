// Whether a WireGuard device's peer still answers, from its byte counters and latest handshake, as
// WireGuard's own timers judge it: data sent and nothing back for ~18 s (KEEPALIVE_TIMEOUT 10 s plus
// REKEY_TIMEOUT 5 s, plus one read), or traffic on a session older than REJECT_AFTER_TIME (180 s). A
// device whose interface is up but whose peer is gone black-holes its apps; the helper then stops
// counting it as usable (failover, kill switch) until the peer answers again: a newer handshake, or
// bytes received that answer us (not the peer's own handshake initiations). Pure: the clock is injected; the samples come from mechanism/wireguard.

/** Data sent and not answered for this long: the peer is not answering. */
export const SILENT_MS = 18_000;
/** WireGuard's REJECT_AFTER_TIME: a session older than this carries nothing. */
export const REJECT_AFTER_MS = 180_000;
/** WireGuard's REKEY_TIMEOUT: a handshake initiation is answered within this, or retried. */
const REKEY_TIMEOUT_MS = 5_000;
/** While a peer does not answer, how often to give the device a packet, so it keeps shaking hands. */
export const NUDGE_EVERY_MS = 10_000;
/** A keepalive is a transport header (16) and an empty payload's tag (16): it expects no answer. */
const KEEPALIVE_BYTES = 32;
/** A handshake initiation's size: the one message a peer sends without having heard from us. */
const INITIATION_BYTES = 148;

export interface PeerSample {
  publicKey: string;
  /** Unix seconds of the latest handshake, null when none. */
  latestHandshake: number | null;
  rxBytes: number;
  txBytes: number;
  /** Seconds; 0 = off. */
  persistentKeepalive: number;
}

interface PeerState {
  at: number;
  rx: number;
  tx: number;
  handshake: number | null;
  /** When data went out that nothing has answered yet. */
  unansweredSince: number | null;
  /** Since when this peer counts as not answering (ms), or null. */
  deadSince: number | null;
}

interface DeviceState {
  peers: Map<string, PeerState>;
  lastNudge: number;
}

export type LivenessChange = { device: string; answering: boolean; since: number };

export class WireguardLiveness {
  private readonly devices = new Map<string, DeviceState>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * One read of a device's peers. Returns the change when the device stopped or started answering.
   * The device is not answering when a peer is not answering and none is: with one peer (the usual
   * full tunnel) that peer decides.
   */
  observe(device: string, peers: readonly PeerSample[]): LivenessChange | null {
    const t = this.now();
    const was = this.answering(device);
    let d = this.devices.get(device);
    if (!d) this.devices.set(device, (d = { peers: new Map(), lastNudge: 0 }));
    const seen = new Set<string>();
    for (const p of peers) {
      seen.add(p.publicKey);
      const prev = d.peers.get(p.publicKey);
      d.peers.set(p.publicKey, prev ? step(prev, p, t) : first(p, t));
    }
    for (const key of d.peers.keys()) if (!seen.has(key)) d.peers.delete(key);
    const now = this.answering(device);
    if (now === was) return null;
    if (!now) d.lastNudge = t; // the device is retrying already; the first nudge comes a period later
    return { device, answering: now, since: now ? t : this.deadSince(device)! };
  }

  /** False once the device's peers stopped answering; true for a device never seen. */
  answering(device: string): boolean {
    const peers = [...(this.devices.get(device)?.peers.values() ?? [])];
    return !peers.some((p) => p.deadSince !== null) || peers.some(isAnswering);
  }

  /** When the device stopped answering (ms), or null while it answers. */
  deadSince(device: string): number | null {
    if (this.answering(device)) return null;
    const times = [...this.devices.get(device)!.peers.values()]
      .map((p) => p.deadSince)
      .filter((s): s is number => s !== null);
    return Math.min(...times);
  }

  /** True (and counts it as done) when a device that does not answer is due for a nudge. */
  nudgeDue(device: string): boolean {
    const d = this.devices.get(device);
    if (!d || this.answering(device)) return false;
    const t = this.now();
    if (t - d.lastNudge < NUDGE_EVERY_MS) return false;
    d.lastNudge = t;
    return true;
  }

  /** Forgets the devices that are gone. */
  keepOnly(devices: readonly string[]): void {
    for (const name of this.devices.keys()) if (!devices.includes(name)) this.devices.delete(name);
  }
}

const isAnswering = (p: PeerState) => p.deadSince === null && (p.handshake !== null || p.rx > 0);

function first(p: PeerSample, t: number): PeerState {
  return {
    at: t,
    rx: p.rxBytes,
    tx: p.txBytes,
    handshake: p.latestHandshake,
    unansweredSince: null,
    deadSince: null,
  };
}

function step(prev: PeerState, p: PeerSample, t: number): PeerState {
  const next: PeerState = {
    ...first(p, t),
    unansweredSince: prev.unansweredSince,
    deadSince: prev.deadSince,
  };
  // A counter that went back: the device was recreated. Start over.
  if (p.rxBytes < prev.rx || p.txBytes < prev.tx) return first(p, t);
  const answered = heardBack(p.rxBytes - prev.rx) || (p.latestHandshake ?? 0) > (prev.handshake ?? 0);
  if (answered) {
    next.unansweredSince = null;
    next.deadSince = null;
    return next;
  }
  if (!expectsAnswer(p.txBytes - prev.tx, t - prev.at, p.persistentKeepalive)) return next;
  // Sent since the last read: the first unanswered packet left at the earliest just after it.
  next.unansweredSince ??= prev.at;
  const silentFor = t - next.unansweredSince;
  // An expired session: its next data starts a handshake, which answers within REKEY_TIMEOUT if the
  // peer is there (a read between the initiation and its answer is no verdict).
  const expired =
    p.latestHandshake !== null &&
    t - p.latestHandshake * 1000 > REJECT_AFTER_MS &&
    silentFor >= REKEY_TIMEOUT_MS;
  if (next.deadSince === null && (silentFor >= SILENT_MS || expired)) next.deadSince = next.unansweredSince;
  return next;
}

/**
 * Whether bytes received prove the peer hears us. Its own handshake initiations (148 bytes each) do not:
 * a peer that sent data and hears nothing back initiates by itself, and our answers may be what is lost.
 * Everything else it sends (a handshake response, a cookie, data, a keepalive) answers us.
 */
export function heardBack(received: number): boolean {
  return received > 0 && received % INITIATION_BYTES !== 0;
}

/**
 * Whether bytes sent in a window want an answer: data and handshake initiations do, keepalives do not
 * (persistent ones every `keepalive` s, and one passive one after received data). Keepalives are 32
 * bytes each, so anything else, or more of them than the timers send, is traffic.
 */
export function expectsAnswer(sent: number, windowMs: number, keepalive: number): boolean {
  if (sent <= 0) return false;
  if (sent % KEEPALIVE_BYTES !== 0) return true;
  const keepalives = (keepalive > 0 ? Math.ceil(windowMs / 1000 / keepalive) : 0) + 1;
  return sent > keepalives * KEEPALIVE_BYTES;
}
