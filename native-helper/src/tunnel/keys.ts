// X25519 keys: generation, public-key derivation, DH, and the base64 text form users copy around
// (`switchyard tunnel keygen` / `pubkey`), the same form as WireGuard's.
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

export interface KeyPair {
  privateKey: Buffer;
  publicKey: Buffer;
}

// Keys go in and out of OpenSSL as JWK: a PKCS#8 DER import costs ~1.2 ms (OpenSSL 3 tries its
// decoders in turn), ten times the X25519 itself; JWK is a raw-key import (~0.1 ms private, 0.03 ms
// public). And each key is imported once: by buffer identity (a static key, an ephemeral for the handshake it is
// used in; the copy guards against a buffer rewritten in place), and by value for the public keys a
// config names (`rememberPublicKeys`), which arrive as fresh buffers in every handshake. Keys an
// attacker sends are never cached by value, so a flood of them cannot grow this.
interface Cached {
  object: KeyObject;
  raw: Buffer;
}
const byBuffer = new WeakMap<Uint8Array, Cached>();
/** Per holder (a responder, an initiator), so several in one process do not replace each other's. */
const configured = new Map<object, Map<string, KeyObject>>();

function cachedFor(raw: Uint8Array): KeyObject | undefined {
  const c = byBuffer.get(raw);
  return c && c.raw.equals(raw) ? c.object : undefined;
}

function remember(raw: Uint8Array, object: KeyObject): KeyObject {
  byBuffer.set(raw, { object, raw: Buffer.from(raw) });
  return object;
}

function privateKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error('an X25519 private key is 32 bytes');
  return (
    cachedFor(raw) ??
    remember(
      raw,
      // Node requires an x but derives the public key from d alone; the placeholder is never read.
      createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64url(raw), x: b64url(raw) }, format: 'jwk' }),
    )
  );
}

function importPublic(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(raw) }, format: 'jwk' });
}

function b64url(raw: Uint8Array): string {
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
}

function rawOf(key: KeyObject, part: 'd' | 'x'): Buffer {
  return Buffer.from(key.export({ format: 'jwk' })[part] as string, 'base64url');
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error('an X25519 public key is 32 bytes');
  const hit = cachedFor(raw);
  if (hit) return hit;
  const id = Buffer.from(raw).toString('latin1');
  for (const keys of configured.values()) {
    const object = keys.get(id);
    if (object) return object;
  }
  return remember(raw, importPublic(raw));
}

/**
 * The public keys a config names (a gateway's peers, a client's gateway): imported once here, so the
 * handshakes with them skip the import. Replaces the holder's previous set; `forgetPublicKeys` at its end.
 */
export function rememberPublicKeys(holder: object, keys: Iterable<Uint8Array>): void {
  const previous = configured.get(holder);
  const next = new Map<string, KeyObject>();
  for (const raw of keys) {
    if (raw.length !== 32) throw new Error('an X25519 public key is 32 bytes');
    const id = Buffer.from(raw).toString('latin1');
    next.set(id, previous?.get(id) ?? importPublic(raw));
  }
  configured.set(holder, next);
}

export function forgetPublicKeys(holder: object): void {
  configured.delete(holder);
}

export function publicKeyOf(privateKey: Uint8Array): Buffer {
  return rawOf(createPublicKey(privateKeyObject(privateKey)), 'x');
}

/** A fresh key pair whose private key object is already made (an ephemeral is used in two DHs). */
export function generateKeyPair(): KeyPair {
  const pair = generateKeyPairSync('x25519');
  const jwk = pair.privateKey.export({ format: 'jwk' });
  const privateKey = Buffer.from(jwk.d!, 'base64url');
  remember(privateKey, pair.privateKey);
  return { privateKey, publicKey: Buffer.from(jwk.x!, 'base64url') };
}

/** X25519; rejects the all-zero result of a low-order point, as WireGuard does. */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Buffer {
  const out = diffieHellman({
    privateKey: privateKeyObject(privateKey),
    publicKey: publicKeyObject(publicKey),
  });
  if (out.every((b) => b === 0))
    throw new Error('X25519 produced the zero point: the peer sent a low-order key');
  return out;
}

export function encodeKey(raw: Uint8Array): string {
  return Buffer.from(raw).toString('base64');
}

export function decodeKey(text: string, what = 'key'): Buffer {
  const raw = Buffer.from(text.trim(), 'base64');
  if (raw.length !== 32 || encodeKey(raw) !== text.trim())
    throw new Error(
      `${what} is not a base64 X25519 key (44 characters); generate one with \`switchyard tunnel keygen\``,
    );
  return raw;
}

/** `genkey`: a new private key in text form. */
export function genkey(): string {
  return encodeKey(generateKeyPair().privateKey);
}

/** `pubkey`: the public key for a private key in text form. */
export function pubkey(privateKeyText: string): string {
  return encodeKey(publicKeyOf(decodeKey(privateKeyText, 'the private key')));
}
