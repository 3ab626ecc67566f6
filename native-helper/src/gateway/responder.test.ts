import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Datapath } from '../tunnel/datapath.ts';
import { CIPHER_CHACHA, createInitiation } from '../tunnel/handshake.ts';
import { generateKeyPair } from '../tunnel/keys.ts';
import { DEFAULT_TIMERS } from '../tunnel/timers.ts';
import { MAX_SESSIONS_PER_PEER, Responder } from './responder.ts';

/** Records what the responder asks of the data path; handshakes arrive through its events. */
class RecordingDatapath extends EventEmitter {
  ready = { aesAvailable: false };
  live = new Set<number>();
  added = 0;
  sent = 0;
  addSession(s: { localIndex: number }) {
    this.live.add(s.localIndex);
    this.added++;
  }
  deleteSession(localIndex: number) {
    this.live.delete(localIndex);
  }
  send() {
    this.sent++;
  }
}

describe('Responder', () => {
  it('keeps at most a few sessions per peer however often it handshakes without sending data', () => {
    const dp = new RecordingDatapath();
    const gateway = generateKeyPair();
    const client = generateKeyPair();
    const responder = new Responder(
      dp as unknown as Datapath,
      gateway,
      [{ id: 1, name: 'laptop', publicKey: client.publicKey, group: '' }],
      DEFAULT_TIMERS,
      false,
    );
    const from = { address: '192.0.2.7', port: 40000 };
    for (let i = 0; i < 5; i++) {
      const init = createInitiation({
        ourStatic: client,
        peerStatic: gateway.publicKey,
        senderIndex: 100 + i,
        cipherOffer: 1 << CIPHER_CHACHA,
        epoch: i,
      });
      dp.emit('handshake', from, init.message, { cookieProved: false });
    }
    responder.stop();
    expect(responder.counters.accepted).toBe(5);
    expect(dp.sent).toBe(5);
    expect(dp.added).toBe(5);
    expect(dp.live.size).toBe(MAX_SESSIONS_PER_PEER);
  });
});
