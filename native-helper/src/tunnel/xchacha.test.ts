import { describe, expect, it } from 'vitest';
import { hchacha20, xchachaOpen } from './xchacha.ts';

// Key 00..1f, nonce 100..123, plaintext 200..215, AAD 50..65; outputs from libsodium 1.0.18
// (crypto_core_hchacha20 and crypto_aead_xchacha20poly1305_ietf_encrypt), which seals the cookie
// replies in the data path.
const key = Buffer.from([...Array(32).keys()]);
const nonce = Buffer.from([...Array(24).keys()].map((i) => 100 + i));
const aad = Buffer.from([...Array(16).keys()].map((i) => 50 + i));
const sealed = Buffer.from('b4ba337b33e3474d57e14fec72ba6b1ee00d79846346c14106511adf71079b16', 'hex');

describe('XChaCha20-Poly1305', () => {
  it('derives the subkey as libsodium does', () => {
    expect(hchacha20(key, nonce.subarray(0, 16)).toString('hex')).toBe(
      'eca2711e80b0c1af4f65dc825b1b1b5a07be253f22c58bd234229551e93206fc',
    );
  });

  it("opens libsodium's ciphertext and refuses any change to it or its AAD", () => {
    expect(xchachaOpen(key, nonce, sealed, aad)).toEqual(
      Buffer.from([...Array(16).keys()].map((i) => 200 + i)),
    );
    const flipped = Buffer.from(sealed);
    flipped[3]! ^= 1;
    expect(xchachaOpen(key, nonce, flipped, aad)).toBeNull();
    expect(xchachaOpen(key, nonce, sealed, Buffer.alloc(16))).toBeNull();
  });
});
