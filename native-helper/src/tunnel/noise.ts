// The Noise framework (rev. 34) for the 25519 / ChaChaPoly / BLAKE2s suite, with a generic token
// interpreter so the same engine runs IK for us and any other pattern for the published test vectors.
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { dh, publicKeyOf, type KeyPair } from './keys.ts';

export const HASHLEN = 32;
export const DHLEN = 32;
export const TAGLEN = 16;

export function hash(...parts: Uint8Array[]): Buffer {
  const h = createHash('blake2s256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('blake2s256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Noise HKDF: up to three outputs of HASHLEN bytes. */
export function hkdf(ck: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Buffer[] {
  const temp = hmac(ck, ikm);
  const o1 = hmac(temp, Buffer.from([1]));
  const o2 = hmac(temp, o1, Buffer.from([2]));
  if (outputs === 2) return [o1, o2];
  return [o1, o2, hmac(temp, o2, Buffer.from([3]))];
}

function chachaNonce(n: bigint): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(n, 4);
  return nonce;
}

export function aeadEncrypt(key: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, chachaNonce(n), { authTagLength: TAGLEN });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** Returns null when authentication fails. */
export function aeadDecrypt(
  key: Uint8Array,
  n: bigint,
  ad: Uint8Array,
  ciphertext: Uint8Array,
): Buffer | null {
  if (ciphertext.length < TAGLEN) return null;
  const body = ciphertext.subarray(0, ciphertext.length - TAGLEN);
  const d = createDecipheriv('chacha20-poly1305', key, chachaNonce(n), { authTagLength: TAGLEN });
  d.setAAD(ad, { plaintextLength: body.length });
  d.setAuthTag(ciphertext.subarray(ciphertext.length - TAGLEN));
  try {
    return Buffer.concat([d.update(body), d.final()]);
  } catch {
    return null;
  }
}

export class CipherState {
  private n = 0n;
  constructor(private k: Buffer | null = null) {}
  hasKey(): boolean {
    return this.k !== null;
  }
  key(): Buffer {
    if (!this.k) throw new Error('cipher state has no key');
    return this.k;
  }
  encrypt(ad: Uint8Array, plaintext: Uint8Array): Buffer {
    if (!this.k) return Buffer.from(plaintext);
    return aeadEncrypt(this.k, this.n++, ad, plaintext);
  }
  decrypt(ad: Uint8Array, ciphertext: Uint8Array): Buffer | null {
    if (!this.k) return Buffer.from(ciphertext);
    const p = aeadDecrypt(this.k, this.n, ad, ciphertext);
    if (p) this.n++;
    return p;
  }
}

export class SymmetricState {
  ck: Buffer;
  h: Buffer;
  cs = new CipherState();
  constructor(protocolName: string) {
    const name = Buffer.from(protocolName, 'ascii');
    this.h = name.length <= HASHLEN ? Buffer.concat([name, Buffer.alloc(HASHLEN - name.length)]) : hash(name);
    this.ck = Buffer.from(this.h);
  }
  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf(this.ck, ikm, 2) as [Buffer, Buffer];
    this.ck = ck;
    this.cs = new CipherState(k);
  }
  mixHash(data: Uint8Array): void {
    this.h = hash(this.h, data);
  }
  encryptAndHash(plaintext: Uint8Array): Buffer {
    const c = this.cs.encrypt(this.h, plaintext);
    this.mixHash(c);
    return c;
  }
  decryptAndHash(ciphertext: Uint8Array): Buffer | null {
    const p = this.cs.decrypt(this.h, ciphertext);
    if (p) this.mixHash(ciphertext);
    return p;
  }
  split(): [Buffer, Buffer] {
    const [k1, k2] = hkdf(this.ck, Buffer.alloc(0), 2) as [Buffer, Buffer];
    return [k1, k2];
  }
}

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';
export interface Pattern {
  /** Pre-message keys: what the initiator's and responder's static keys are known in advance. */
  pre: { initiator: ('s' | 'e')[]; responder: ('s' | 'e')[] };
  messages: Token[][];
}

export const PATTERN_IK: Pattern = {
  pre: { initiator: [], responder: ['s'] },
  messages: [
    ['e', 'es', 's', 'ss'],
    ['e', 'ee', 'se'],
  ],
};

export class HandshakeError extends Error {}

export interface HandshakeInit {
  protocolName: string;
  initiator: boolean;
  prologue: Uint8Array;
  s: KeyPair;
  /** Given only for test vectors; otherwise a fresh one is drawn. */
  e?: KeyPair;
  /** The remote static key when the pattern says it is known in advance. */
  rs?: Uint8Array;
}

/** One side of a Noise handshake, interpreting the pattern's tokens. */
export class HandshakeState {
  readonly ss: SymmetricState;
  private e: KeyPair | null;
  private re: Buffer | null = null;
  rs: Buffer | null;
  private step = 0;

  constructor(
    readonly pattern: Pattern,
    private readonly init: HandshakeInit,
    private readonly newEphemeral: () => KeyPair,
  ) {
    this.ss = new SymmetricState(init.protocolName);
    this.ss.mixHash(init.prologue);
    this.e = init.e ?? null;
    this.rs = init.rs ? Buffer.from(init.rs) : null;
    const mine = init.initiator ? pattern.pre.initiator : pattern.pre.responder;
    const theirs = init.initiator ? pattern.pre.responder : pattern.pre.initiator;
    // Pre-messages are hashed initiator's first, then responder's.
    const first = init.initiator ? mine : theirs;
    const second = init.initiator ? theirs : mine;
    for (const [keys, local] of [
      [first, init.initiator],
      [second, !init.initiator],
    ] as const) {
      for (const k of keys) {
        if (k !== 's') throw new HandshakeError('ephemeral pre-messages are not supported');
        const key = local ? init.s.publicKey : this.rs;
        if (!key) throw new HandshakeError('the pattern needs the remote static key in advance');
        this.ss.mixHash(key);
      }
    }
  }

  get done(): boolean {
    return this.step >= this.pattern.messages.length;
  }
  private myTurn(): boolean {
    return (this.step % 2 === 0) === this.init.initiator;
  }

  private dhFor(token: 'ee' | 'es' | 'se' | 'ss'): Buffer {
    // token "xy": initiator's x with responder's y
    const [a, b] = [token[0], token[1]] as ['e' | 's', 'e' | 's'];
    const local = this.init.initiator ? a : b;
    const remote = this.init.initiator ? b : a;
    const priv = local === 'e' ? this.e : this.init.s;
    const pub = remote === 'e' ? this.re : this.rs;
    if (!priv || !pub) throw new HandshakeError(`missing key for ${token}`);
    return dh(priv.privateKey, pub);
  }

  writeMessage(payload: Uint8Array): Buffer {
    if (this.done || !this.myTurn()) throw new HandshakeError('not our turn to write');
    const out: Buffer[] = [];
    for (const t of this.pattern.messages[this.step]!) {
      if (t === 'e') {
        this.e ??= this.newEphemeral();
        out.push(Buffer.from(this.e.publicKey));
        this.ss.mixHash(this.e.publicKey);
      } else if (t === 's') {
        out.push(this.ss.encryptAndHash(this.init.s.publicKey));
      } else {
        this.ss.mixKey(this.dhFor(t));
      }
    }
    out.push(this.ss.encryptAndHash(payload));
    this.step++;
    return Buffer.concat(out);
  }

  /** Returns the payload; throws HandshakeError when the message does not authenticate. */
  readMessage(message: Uint8Array): Buffer {
    if (this.done || this.myTurn()) throw new HandshakeError('not our turn to read');
    let off = 0;
    const take = (n: number): Buffer => {
      if (off + n > message.length) throw new HandshakeError('handshake message too short');
      const b = Buffer.from(message.subarray(off, off + n));
      off += n;
      return b;
    };
    for (const t of this.pattern.messages[this.step]!) {
      if (t === 'e') {
        this.re = take(DHLEN);
        this.ss.mixHash(this.re);
      } else if (t === 's') {
        const len = this.ss.cs.hasKey() ? DHLEN + TAGLEN : DHLEN;
        const rs = this.ss.decryptAndHash(take(len));
        if (!rs) throw new HandshakeError('static key does not authenticate');
        this.rs = rs;
      } else {
        this.ss.mixKey(this.dhFor(t));
      }
    }
    const payload = this.ss.decryptAndHash(message.subarray(off));
    if (!payload) throw new HandshakeError('handshake payload does not authenticate');
    this.step++;
    return payload;
  }

  /** Transport keys: [send, receive] for this side. */
  split(): { send: Buffer; receive: Buffer; handshakeHash: Buffer } {
    if (!this.done) throw new HandshakeError('handshake not finished');
    const [k1, k2] = this.ss.split();
    return this.init.initiator
      ? { send: k1, receive: k2, handshakeHash: this.ss.h }
      : { send: k2, receive: k1, handshakeHash: this.ss.h };
  }
}

export function keyPairFromPrivate(privateKey: Uint8Array): KeyPair {
  return { privateKey: Buffer.from(privateKey), publicKey: publicKeyOf(privateKey) };
}
