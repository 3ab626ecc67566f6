// Key groups in the handshake (PROTOCOL.md, "Key groups"): the group travels in message 1's encrypted
// payload, two groups' sessions share nothing, and the group id of the data metadata has fixed vectors.
import { describe, expect, it } from 'vitest';
import {
  CIPHER_CHACHA,
  INIT_LEN,
  consumeInitiation,
  createInitiation,
  createResponse,
  keyGroupId,
} from './handshake.ts';
import { generateKeyPair } from './keys.ts';

const gw = generateKeyPair();
const client = generateKeyPair();
const init = (group?: string) =>
  createInitiation({
    ourStatic: client,
    peerStatic: gw.publicKey,
    senderIndex: 7,
    cipherOffer: 1 << CIPHER_CHACHA,
    epoch: 1,
    ...(group !== undefined ? { group } : {}),
  });

describe('key groups', () => {
  it('group id vectors (BLAKE2s-256 of "Switchyard key group " ‖ name, first 4 bytes)', () => {
    expect(keyGroupId('')).toBe(0);
    expect(keyGroupId('work')).toBe(0xa409aefd);
    expect(keyGroupId('personal')).toBe(0xe060f3e9);
    expect(keyGroupId('banking')).toBe(0x67c07612);
  });

  it('the group travels in the initiation, and the default session names none', () => {
    const w = init('work');
    expect(w.message.length).toBe(INIT_LEN);
    expect(consumeInitiation(w.message, gw).group).toBe('work');
    expect(consumeInitiation(init().message, gw).group).toBe('');
    expect(consumeInitiation(init('a-24-character-group-nam').message, gw).group).toBe(
      'a-24-character-group-nam',
    );
  });

  it("two groups' sessions share no key, even from one initiator", () => {
    const a = init('work');
    const b = init('personal');
    const split = (m: Buffer) => {
      const got = consumeInitiation(m, gw);
      createResponse({ received: got, senderIndex: 9, cipher: CIPHER_CHACHA });
      return got.state.split();
    };
    const ka = split(a.message);
    const kb = split(b.message);
    expect(ka.send.equals(kb.send)).toBe(false);
    expect(ka.receive.equals(kb.receive)).toBe(false);
  });

  it('refuses to name a malformed group', () => {
    expect(() => init('Work')).toThrow(/not a key group name/);
    expect(() => init('x'.repeat(25))).toThrow(/not a key group name/);
  });
});
