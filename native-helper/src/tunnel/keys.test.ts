import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dh, forgetPublicKeys, generateKeyPair, publicKeyOf, rememberPublicKeys } from './keys.ts';

/** X25519 the slow, obvious way: both keys imported from DER for this one call. */
function referenceDh(priv: Buffer, pub: Buffer): Buffer {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), priv]);
  const spki = Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), pub]);
  return diffieHellman({
    privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: spki, format: 'der', type: 'spki' }),
  });
}

describe('X25519 keys imported once', () => {
  it('agrees with a DER import, for generated, remembered and fresh-buffer keys', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(publicKeyOf(a.privateKey).equals(a.publicKey)).toBe(true);
    const expected = referenceDh(a.privateKey, b.publicKey);
    expect(dh(a.privateKey, b.publicKey).equals(expected)).toBe(true);
    const holder = {};
    rememberPublicKeys(holder, [b.publicKey]);
    // A copy is another buffer: found by value among the remembered keys.
    expect(dh(Buffer.from(a.privateKey), Buffer.from(b.publicKey)).equals(expected)).toBe(true);
    forgetPublicKeys(holder);
    expect(dh(a.privateKey, Buffer.from(b.publicKey)).equals(expected)).toBe(true);
  });

  it('a buffer rewritten in place is imported again, never answered from the old key', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const c = generateKeyPair();
    const priv = Buffer.from(a.privateKey);
    expect(dh(priv, b.publicKey).equals(referenceDh(a.privateKey, b.publicKey))).toBe(true);
    c.privateKey.copy(priv);
    expect(dh(priv, b.publicKey).equals(referenceDh(c.privateKey, b.publicKey))).toBe(true);
  });

  it('still refuses a low-order public key (OpenSSL refuses the zero result itself)', () => {
    expect(() => dh(generateKeyPair().privateKey, Buffer.alloc(32))).toThrow();
  });
});
