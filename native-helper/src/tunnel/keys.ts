// X25519 keys: generation, public-key derivation, DH, and the base64 text form users copy around
// (`switchyard tunnel keygen` / `pubkey`), the same form as WireGuard's.
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';

export interface KeyPair {
  privateKey: Buffer;
  publicKey: Buffer;
}

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

function privateKeyObject(raw: Uint8Array) {
  if (raw.length !== 32) throw new Error('an X25519 private key is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(raw: Uint8Array) {
  if (raw.length !== 32) throw new Error('an X25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
}

export function publicKeyOf(privateKey: Uint8Array): Buffer {
  const der = createPublicKey(privateKeyObject(privateKey)).export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}

export function generateKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const raw = Buffer.from(der.subarray(der.length - 32));
  return { privateKey: raw, publicKey: publicKeyOf(raw) };
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
