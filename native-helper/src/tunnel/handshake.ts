// Switchyard's handshake messages (PROTOCOL.md): Noise IK wrapped in a prefix, indices, mac1 and
// mac2, and the cookie reply a gateway under load sends instead of doing DH.
import { timingSafeEqual } from 'node:crypto';
import { addressValue, isIPv4, isIPv6 } from '../api/ip.ts';
import { generateKeyPair, type KeyPair } from './keys.ts';
import { HandshakeError, HandshakeState, PATTERN_IK, hash, hmac } from './noise.ts';
import { xchachaOpen } from './xchacha.ts';

export const PROTOCOL_NAME = 'Noise_IK_25519_ChaChaPoly_BLAKE2s';
export const PROLOGUE = Buffer.from('Switchyard tunnel v1', 'ascii');
export const VERSION = 1;
export const TYPE_INIT = 1;
export const TYPE_RESPONSE = 2;
export const TYPE_COOKIE = 3;
export const TYPE_DATA = 4;
export const INIT_LEN = 180;
export const RESPONSE_LEN = 80;
/** A response that also carries the gateway's resolvers (the initiation asked for them). */
export const RESPONSE_RESOLVERS_LEN = 112;
/** Initiation flags (the byte after the cipher offer): bit 0 asks for the gateway's resolvers. */
const FLAG_ASK_RESOLVERS = 1;
/** Resolver slots in such a response: 16 bytes each (IPv4-mapped for IPv4), all zeros when unused. */
export const MAX_GATEWAY_RESOLVERS = 2;
export const COOKIE_REPLY_LEN = 64;
const INIT_MAC1 = 148; // mac2 follows at 164, over everything before it
/** A cookie from a cookie reply is good for this long (the gateway rotates its secret every 120 s). */
export const COOKIE_LIFETIME_MS = 120_000;

/** The key group's name in an initiation: ASCII, zero-padded (KeyGroupName allows 24 characters). */
const GROUP_FIELD = 24;
const GROUP_NAME = /^(|[a-z0-9][a-z0-9_-]{0,23})$/;

function encodeGroup(name: string): Buffer {
  if (!GROUP_NAME.test(name)) throw new Error(`"${name}" is not a key group name`);
  const b = Buffer.alloc(GROUP_FIELD);
  b.write(name, 'ascii');
  return b;
}

/** The name, or null when the field is not a zero-padded valid name. */
function decodeGroup(field: Uint8Array): string | null {
  const b = Buffer.from(field);
  const end = b.indexOf(0);
  const name = b.subarray(0, end < 0 ? b.length : end).toString('latin1');
  if (end >= 0 && b.subarray(end).some((x) => x !== 0)) return null;
  return GROUP_NAME.test(name) ? name : null;
}

/**
 * The key group's id in each data packet's metadata (secret TLV 5): the first 4 bytes of
 * BLAKE2s-256("Switchyard key group " ‖ name), big-endian; 0 is the default group (no name), and a
 * name whose hash is 0 takes 1.
 */
export function keyGroupId(name: string): number {
  if (!name) return 0;
  const id = hash(Buffer.from(`Switchyard key group ${name}`, 'ascii')).readUInt32BE(0);
  return id === 0 ? 1 : id;
}

export const CIPHER_CHACHA = 0;
export const CIPHER_AESGCM = 1;
export type Cipher = typeof CIPHER_CHACHA | typeof CIPHER_AESGCM;

const MAC1_LABEL = Buffer.from('mac1----', 'ascii');
const COOKIE_LABEL = Buffer.from('cookie--', 'ascii');

// mac1 keys are derived from static keys we trust (ours, a configured peer's, the gateway's), never
// from a key a stranger sends, so remembering them is bounded by the config; each handshake needed
// three of these hashes otherwise.
const mac1Keys = new Map<string, Buffer>();
function mac1Key(receiverStatic: Uint8Array): Buffer {
  const id = Buffer.from(receiverStatic).toString('latin1');
  let key = mac1Keys.get(id);
  if (!key) {
    if (mac1Keys.size >= 8192) mac1Keys.clear();
    key = hash(MAC1_LABEL, receiverStatic);
    mac1Keys.set(id, key);
  }
  return key;
}
function mac(key: Uint8Array, body: Uint8Array): Buffer {
  return hmac(Buffer.from(key), body).subarray(0, 16);
}

/** Where mac1 sits: 148 in an initiation (mac2 follows it), at the end of a response. */
function mac1Offset(message: Uint8Array): number | null {
  if (message.length === INIT_LEN && message[1] === TYPE_INIT) return INIT_MAC1;
  if (isResponseLength(message.length) && message[1] === TYPE_RESPONSE) return message.length - 16;
  return null;
}

/** Cheap check before any DH: does the sender know our public key? */
export function mac1Valid(message: Uint8Array, ourStatic: Uint8Array): boolean {
  const off = mac1Offset(message);
  if (off === null) return false;
  return timingSafeEqual(mac(mac1Key(ourStatic), message.subarray(0, off)), message.subarray(off, off + 16));
}

/** Initiator: the receiver index a cookie reply is for, or null when it is not one. */
export function cookieReplyReceiverIndex(message: Uint8Array): number | null {
  if (message.length !== COOKIE_REPLY_LEN || message[0] !== VERSION || message[1] !== TYPE_COOKIE)
    return null;
  return Buffer.from(message).readUInt32BE(4);
}

/**
 * Initiator: the cookie in a reply to our initiation (sealed to the gateway's public key, bound to
 * the initiation by its mac1), or null when it does not open.
 */
export function openCookieReply(
  message: Uint8Array,
  initiation: Uint8Array,
  peerStatic: Uint8Array,
): Buffer | null {
  if (cookieReplyReceiverIndex(message) === null) return null;
  const key = hash(COOKIE_LABEL, peerStatic);
  const cookie = xchachaOpen(
    key,
    message.subarray(8, 32),
    message.subarray(32, 64),
    initiation.subarray(INIT_MAC1, INIT_MAC1 + 16),
  );
  return cookie?.length === 16 ? cookie : null;
}

/** TAI64N: 8 bytes seconds since 1970 + 2^62, 4 bytes nanoseconds. Monotonic per process. */
let lastStamp = 0n;
export function tai64n(nowNs: bigint = BigInt(Date.now()) * 1_000_000n): Buffer {
  const stamp = nowNs > lastStamp ? nowNs : lastStamp + 1n;
  lastStamp = stamp;
  const b = Buffer.alloc(12);
  b.writeBigUInt64BE((1n << 62n) + stamp / 1_000_000_000n, 0);
  b.writeUInt32BE(Number(stamp % 1_000_000_000n), 8);
  return b;
}

function prefix(type: number): Buffer {
  return Buffer.from([VERSION, type, 0, 0]);
}

export interface Initiation {
  message: Buffer;
  state: HandshakeState;
  senderIndex: number;
}

export function createInitiation(opts: {
  ourStatic: KeyPair;
  peerStatic: Uint8Array;
  senderIndex: number;
  cipherOffer: number;
  /** The key generation this handshake creates; both ends stamp it on every data packet. */
  epoch: number;
  ephemeral?: KeyPair;
  timestamp?: Buffer;
  /** The gateway's latest cookie: mac2 proves we receive its replies (needed while it is under load). */
  cookie?: Buffer | null;
  /** The key group this session is for; '' the tunnel's default session. */
  group?: string;
  /** Ask the gateway for its resolvers (a gateway that does not know the flag answers as before). */
  askResolvers?: boolean;
}): Initiation {
  const state = new HandshakeState(
    PATTERN_IK,
    {
      protocolName: PROTOCOL_NAME,
      initiator: true,
      prologue: PROLOGUE,
      s: opts.ourStatic,
      rs: opts.peerStatic,
      e: opts.ephemeral,
    },
    generateKeyPair,
  );
  const tail = Buffer.alloc(8 + GROUP_FIELD);
  tail[0] = opts.cipherOffer;
  tail[1] = opts.askResolvers ? FLAG_ASK_RESOLVERS : 0;
  tail.writeUInt32BE(opts.epoch >>> 0, 4);
  encodeGroup(opts.group ?? '').copy(tail, 8);
  const payload = Buffer.concat([opts.timestamp ?? tai64n(), tail]);
  const noise = state.writeMessage(payload);
  const head = prefix(TYPE_INIT);
  const idx = Buffer.alloc(4);
  idx.writeUInt32BE(opts.senderIndex >>> 0);
  const body = Buffer.concat([head, idx, noise]);
  const withMac1 = Buffer.concat([body, mac(mac1Key(opts.peerStatic), body)]);
  return {
    message: Buffer.concat([withMac1, opts.cookie ? mac(opts.cookie, withMac1) : Buffer.alloc(16)]),
    state,
    senderIndex: opts.senderIndex,
  };
}

export interface ReceivedInitiation {
  state: HandshakeState;
  peerStatic: Buffer;
  peerIndex: number;
  timestamp: Buffer;
  cipherOffer: number;
  epoch: number;
  /** The key group the initiator asks a session for; '' the default. */
  group: string;
  /** The initiator asked for our resolvers: the response carries them (RESPONSE_RESOLVERS_LEN). */
  asksResolvers: boolean;
}

/** Responder: parse and authenticate message 1. Throws HandshakeError on anything wrong. */
export function consumeInitiation(message: Uint8Array, ourStatic: KeyPair): ReceivedInitiation {
  if (message.length !== INIT_LEN || message[0] !== VERSION || message[1] !== TYPE_INIT)
    throw new HandshakeError('not an initiation');
  if (!mac1Valid(message, ourStatic.publicKey)) throw new HandshakeError('initiation mac1 is wrong');
  const state = new HandshakeState(
    PATTERN_IK,
    { protocolName: PROTOCOL_NAME, initiator: false, prologue: PROLOGUE, s: ourStatic },
    generateKeyPair,
  );
  const payload = state.readMessage(message.subarray(8, INIT_MAC1));
  if (payload.length !== 20 + GROUP_FIELD) throw new HandshakeError('initiation payload has the wrong size');
  const group = decodeGroup(payload.subarray(20));
  if (group === null) throw new HandshakeError('initiation names a malformed key group');
  return {
    state,
    peerStatic: state.rs!,
    peerIndex: Buffer.from(message).readUInt32BE(4),
    timestamp: payload.subarray(0, 12),
    cipherOffer: payload[12]!,
    epoch: payload.readUInt32BE(16),
    group,
    asksResolvers: ((payload[13] ?? 0) & FLAG_ASK_RESOLVERS) !== 0,
  };
}

export function createResponse(opts: {
  received: ReceivedInitiation;
  senderIndex: number;
  cipher: Cipher;
  /** The resolvers this gateway offers inside the tunnel; sent only when the initiation asked. */
  resolvers?: readonly string[];
}): Buffer {
  const head = Buffer.from([opts.cipher, 0, 0, 0]);
  const noise = opts.received.state.writeMessage(
    opts.received.asksResolvers ? Buffer.concat([head, encodeResolvers(opts.resolvers ?? [])]) : head,
  );
  const idx = Buffer.alloc(8);
  idx.writeUInt32BE(opts.senderIndex >>> 0, 0);
  idx.writeUInt32BE(opts.received.peerIndex >>> 0, 4);
  const body = Buffer.concat([prefix(TYPE_RESPONSE), idx, noise]);
  return Buffer.concat([body, mac(mac1Key(opts.received.peerStatic), body)]);
}

export interface ReceivedResponse {
  peerIndex: number;
  cipher: Cipher;
  /** The gateway's resolvers; absent when the response has no such field (not asked, or an older gateway). */
  resolvers?: string[];
}

function isResponseLength(n: number): boolean {
  return n === RESPONSE_LEN || n === RESPONSE_RESOLVERS_LEN;
}

/** Up to MAX_GATEWAY_RESOLVERS addresses, 16 bytes each (IPv4 as ::ffff:a.b.c.d), zero-filled. */
export function encodeResolvers(addresses: readonly string[]): Buffer {
  if (addresses.length > MAX_GATEWAY_RESOLVERS)
    throw new Error(`a gateway offers at most ${MAX_GATEWAY_RESOLVERS} resolvers`);
  const out = Buffer.alloc(16 * MAX_GATEWAY_RESOLVERS);
  addresses.forEach((a, i) => {
    const v4 = isIPv4(a);
    if (!v4 && !isIPv6(a)) throw new Error(`resolver "${a}" is not an IP address`);
    const value = v4 ? (0xffffn << 32n) | addressValue(a) : addressValue(a);
    out.writeBigUInt64BE(value >> 64n, 16 * i);
    out.writeBigUInt64BE(value & 0xffff_ffff_ffff_ffffn, 16 * i + 8);
  });
  return out;
}

export function decodeResolvers(field: Uint8Array): string[] {
  const out: string[] = [];
  for (let i = 0; i + 16 <= field.length; i += 16) {
    const b = Buffer.from(field.subarray(i, i + 16));
    if (b.every((x) => x === 0)) continue;
    const v4 = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    const groups = Array.from({ length: 8 }, (_, g) => b.readUInt16BE(2 * g).toString(16)).join(':');
    // The URL parser writes IPv6 in its canonical short form (RFC 5952).
    out.push(v4 ? [...b.subarray(12)].join('.') : new URL(`http://[${groups}]/`).hostname.slice(1, -1));
  }
  return out;
}

/** Initiator: the receiver index of a response, to find the pending handshake. */
export function responseReceiverIndex(message: Uint8Array): number | null {
  if (!isResponseLength(message.length) || message[0] !== VERSION || message[1] !== TYPE_RESPONSE)
    return null;
  return Buffer.from(message).readUInt32BE(8);
}

export function consumeResponse(
  message: Uint8Array,
  initiation: Initiation,
  ourStatic: KeyPair,
  offer: number,
): ReceivedResponse {
  if (responseReceiverIndex(message) !== initiation.senderIndex >>> 0)
    throw new HandshakeError('response for another handshake');
  if (!mac1Valid(message, ourStatic.publicKey)) throw new HandshakeError('response mac1 is wrong');
  const payload = initiation.state.readMessage(message.subarray(12, message.length - 16));
  const cipher = payload[0];
  const withResolvers = message.length === RESPONSE_RESOLVERS_LEN;
  if (
    payload.length !== (withResolvers ? 4 + 16 * MAX_GATEWAY_RESOLVERS : 4) ||
    (cipher !== CIPHER_CHACHA && cipher !== CIPHER_AESGCM) ||
    !(offer & (1 << cipher))
  )
    throw new HandshakeError('response chose a cipher we did not offer');
  return {
    peerIndex: Buffer.from(message).readUInt32BE(4),
    cipher,
    ...(withResolvers ? { resolvers: decodeResolvers(payload.subarray(4)) } : {}),
  };
}

/** The responder's pick from an offer: AES-256-GCM only when both ends have it. */
export function chooseCipher(offer: number, weHaveAes: boolean): Cipher | null {
  if (weHaveAes && offer & (1 << CIPHER_AESGCM)) return CIPHER_AESGCM;
  if (offer & (1 << CIPHER_CHACHA)) return CIPHER_CHACHA;
  return null;
}
