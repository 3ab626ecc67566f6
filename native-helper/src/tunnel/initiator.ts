// The client side of the handshake: initiate, retry, install keys into the data path, rekey by time
// and by volume (the data path reports when the send counter passes the limit).
import { EventEmitter } from 'node:events';
import type { Datapath, Endpoint } from './datapath.ts';
import {
  COOKIE_LIFETIME_MS,
  consumeResponse,
  cookieReplyReceiverIndex,
  createInitiation,
  openCookieReply,
  responseReceiverIndex,
  type Cipher,
  type Initiation,
} from './handshake.ts';
import type { KeyPair } from './keys.ts';
import { IndexAllocator, type TunnelTimers } from './timers.ts';

export interface InitiatorOptions {
  ourStatic: KeyPair;
  peerStatic: Buffer;
  endpoint: Endpoint;
  peerId: number;
  cipherOffer: number;
  timers: TunnelTimers;
  /** The key group this initiator keeps a session for; '' or absent: the tunnel's default. */
  group?: string;
  /** Shared by every initiator of one data path: their sessions' indexes must never collide. */
  indices?: IndexAllocator;
  /** Ask the gateway for the resolvers it offers inside the tunnel (the default session does). */
  askResolvers?: boolean;
}

interface Live {
  localIndex: number;
  createdAt: number;
  epoch: number;
  cipher: Cipher;
  /** The resolvers the gateway offered in this handshake; null when it did not say (older gateway). */
  resolvers: string[] | null;
}

export interface InitiatorEvents {
  established: [Live];
  failed: [string];
  /** A handshake got no answer within the retry time (it is sent again). */
  unanswered: [string];
}

export class Initiator extends EventEmitter<InitiatorEvents> {
  private readonly indices: IndexAllocator;
  private pending: Initiation | null = null;
  private attemptStarted = 0;
  private epoch = 0;
  private current: Live | null = null;
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** The gateway's last cookie, for mac2 while it is under load. */
  private cookie: { value: Buffer; at: number } | null = null;
  handshakesSent = 0;
  cookiesReceived = 0;

  constructor(
    private readonly dp: Datapath,
    private readonly o: InitiatorOptions,
  ) {
    super();
    this.indices = o.indices ?? new IndexAllocator();
    dp.on('handshake', (from, msg) => this.onMessage(from, msg));
    dp.on('rekey', (idx) => {
      if (this.current?.localIndex === idx) this.handshake();
    });
  }

  get session(): Live | null {
    return this.current;
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  /** Start (or restart) a handshake; retries every rekeyTimeout until a response arrives. */
  handshake(): void {
    if (this.stopped) return;
    if (this.pending) return; // one attempt cycle at a time
    this.attemptStarted = Date.now();
    this.sendInitiation();
  }

  private sendInitiation() {
    if (this.pending) this.indices.release(this.pending.senderIndex);
    const epoch = ++this.epoch;
    this.pending = createInitiation({
      ourStatic: this.o.ourStatic,
      peerStatic: this.o.peerStatic,
      senderIndex: this.indices.allocate(),
      cipherOffer: this.o.cipherOffer,
      epoch,
      cookie: this.cookie && Date.now() - this.cookie.at < COOKIE_LIFETIME_MS ? this.cookie.value : null,
      group: this.o.group ?? '',
      askResolvers: this.o.askResolvers ?? false,
    });
    this.dp.send(this.o.endpoint, this.pending.message);
    this.handshakesSent++;
    const sent = this.pending;
    const jitter = Math.floor(Math.random() * 333);
    this.later(this.o.timers.rekeyTimeoutMs + jitter, () => {
      if (this.pending !== sent) return;
      const from = `${this.o.endpoint.address}:${this.o.endpoint.port}`;
      // Said at once, not after the whole attempt time: a revoked group's flows go nowhere meanwhile.
      this.emit(
        'unanswered',
        `no handshake response from ${from} for ${Date.now() - this.attemptStarted} ms`,
      );
      if (Date.now() - this.attemptStarted >= this.o.timers.rekeyAttemptMs)
        this.emit('failed', `no handshake response from ${from}`);
      this.sendInitiation();
    });
  }

  private onMessage(_from: Endpoint, msg: Buffer) {
    if (this.pending && cookieReplyReceiverIndex(msg) === this.pending.senderIndex >>> 0) {
      // The gateway is under load: prove we receive its replies and try again at once.
      const value = openCookieReply(msg, this.pending.message, this.o.peerStatic);
      if (!value) return;
      this.cookie = { value, at: Date.now() };
      this.cookiesReceived++;
      this.sendInitiation();
      return;
    }
    if (!this.pending || responseReceiverIndex(msg) !== this.pending.senderIndex) return;
    let r;
    try {
      r = consumeResponse(msg, this.pending, this.o.ourStatic, this.o.cipherOffer);
    } catch {
      return; // forged or corrupted: wait for a valid one or the retry
    }
    const init = this.pending;
    this.pending = null;
    const keys = init.state.split();
    const epoch = this.epoch;
    this.dp.addSession({
      localIndex: init.senderIndex,
      remoteIndex: r.peerIndex,
      peerId: this.o.peerId,
      epoch,
      cipher: r.cipher,
      sendKey: keys.send,
      receiveKey: keys.receive,
      lifetimeMs: this.o.timers.rejectAfterMs,
      rekeyAfterMessages: this.o.timers.rekeyAfterMessages,
    });
    keys.send.fill(0);
    keys.receive.fill(0);
    const previous = this.current;
    this.current = {
      localIndex: init.senderIndex,
      createdAt: Date.now(),
      epoch,
      cipher: r.cipher,
      resolvers: r.resolvers ?? null,
    };
    // Keep the old session a moment for packets already in flight, then forget it.
    if (previous)
      this.later(this.o.timers.rekeyTimeoutMs, () => {
        this.dp.deleteSession(previous.localIndex);
        this.indices.release(previous.localIndex);
      });
    const mine = this.current;
    this.later(this.o.timers.rekeyAfterMs, () => {
      if (this.current === mine) this.handshake();
    });
    this.emit('established', this.current);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Stops, and takes its session out of the data path at once (a key group no rule uses any more). */
  close(): void {
    this.stop();
    if (this.current) {
      this.dp.deleteSession(this.current.localIndex);
      this.indices.release(this.current.localIndex);
      this.current = null;
    }
    if (this.pending) this.indices.release(this.pending.senderIndex);
    this.pending = null;
  }
}
