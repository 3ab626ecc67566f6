// The gateway's resolvers in the handshake (PROTOCOL.md, "Resolvers"): an initiation asks with a flag,
// the response then carries up to two addresses inside its encrypted payload; a client that does not
// ask, or a gateway that does not know the flag, keeps the 80-byte response.
import { describe, expect, it } from 'vitest';
import {
  CIPHER_CHACHA,
  RESPONSE_LEN,
  RESPONSE_RESOLVERS_LEN,
  consumeInitiation,
  consumeResponse,
  createInitiation,
  createResponse,
  decodeResolvers,
  encodeResolvers,
  mac1Valid,
  responseReceiverIndex,
} from './handshake.ts';
import { generateKeyPair } from './keys.ts';
import { HandshakeError } from './noise.ts';

const gw = generateKeyPair();
const client = generateKeyPair();
const OFFER = 1 << CIPHER_CHACHA;

function handshake(ask: boolean, resolvers: string[]) {
  const init = createInitiation({
    ourStatic: client,
    peerStatic: gw.publicKey,
    senderIndex: 11,
    cipherOffer: OFFER,
    epoch: 1,
    askResolvers: ask,
  });
  const got = consumeInitiation(init.message, gw);
  const response = createResponse({ received: got, senderIndex: 22, cipher: CIPHER_CHACHA, resolvers });
  return { init, got, response };
}

describe("the gateway's resolvers in the handshake", () => {
  it('are sent when the initiation asks, IPv4 and IPv6, and opened by the client', () => {
    const { got, init, response } = handshake(true, ['10.77.0.1', 'fd77::1']);
    expect(got.asksResolvers).toBe(true);
    expect(response.length).toBe(RESPONSE_RESOLVERS_LEN);
    expect(responseReceiverIndex(response)).toBe(11);
    expect(mac1Valid(response, client.publicKey)).toBe(true);
    const r = consumeResponse(response, init, client, OFFER);
    expect(r).toEqual({ peerIndex: 22, cipher: CIPHER_CHACHA, resolvers: ['10.77.0.1', 'fd77::1'] });
  });

  it('say "none" when the gateway offers none, so the client forgets an old offer', () => {
    const { init, response } = handshake(true, []);
    expect(response.length).toBe(RESPONSE_RESOLVERS_LEN);
    expect(consumeResponse(response, init, client, OFFER).resolvers).toEqual([]);
  });

  it('are not sent to a client that does not ask (the response keeps its 80 bytes)', () => {
    const { got, init, response } = handshake(false, ['10.77.0.1']);
    expect(got.asksResolvers).toBe(false);
    expect(response.length).toBe(RESPONSE_LEN);
    expect(consumeResponse(response, init, client, OFFER).resolvers).toBeUndefined();
  });

  it('a gateway that ignores the flag answers as before, and the client takes that as "not said"', () => {
    // What an older gateway does: the flag byte is inside the payload it does not read.
    const init = createInitiation({
      ourStatic: client,
      peerStatic: gw.publicKey,
      senderIndex: 12,
      cipherOffer: OFFER,
      epoch: 1,
      askResolvers: true,
    });
    const got = consumeInitiation(init.message, gw);
    const old = createResponse({
      received: { ...got, asksResolvers: false },
      senderIndex: 5,
      cipher: CIPHER_CHACHA,
    });
    expect(old.length).toBe(RESPONSE_LEN);
    expect(consumeResponse(old, init, client, OFFER).resolvers).toBeUndefined();
  });

  it('cannot be changed on the way (they are inside the AEAD)', () => {
    const { init, response } = handshake(true, ['10.77.0.1']);
    const forged = Buffer.from(response);
    forged[40] = forged[40]! ^ 1; // in the encrypted payload; mac1 is not recomputed either
    expect(() => consumeResponse(forged, init, client, OFFER)).toThrow(HandshakeError);
  });

  it('encode IPv4 as IPv4-mapped, leave unused slots zero, and refuse more than two or a non-address', () => {
    const field = encodeResolvers(['192.0.2.53']);
    expect(field.length).toBe(32);
    expect(field.subarray(0, 16).toString('hex')).toBe('00000000000000000000ffffc0000235');
    expect(field.subarray(16).every((b) => b === 0)).toBe(true);
    expect(decodeResolvers(field)).toEqual(['192.0.2.53']);
    expect(decodeResolvers(encodeResolvers(['2001:db8::53', '::ffff:0:1']))).toEqual([
      '2001:db8::53',
      '0.0.0.1',
    ]);
    expect(() => encodeResolvers(['10.0.0.1', '10.0.0.2', '10.0.0.3'])).toThrow(/at most 2/);
    expect(() => encodeResolvers(['gw.example.org'])).toThrow(/not an IP address/);
  });
});
