import { describe, expect, it } from 'vitest';
import {
  NUDGE_EVERY_MS,
  type PeerSample,
  WireguardLiveness,
  expectsAnswer,
  heardBack,
} from './wireguard-liveness.ts';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

/** A clock the test moves, and a peer whose counters it moves. */
function setup(keepalive = 0) {
  let now = T0;
  const live = new WireguardLiveness(() => now);
  const peer: PeerSample = {
    publicKey: 'gw',
    latestHandshake: T0 / 1000 - 30,
    rxBytes: 10_000,
    txBytes: 20_000,
    persistentKeepalive: keepalive,
  };
  const read = () => live.observe('wg0', [{ ...peer }]);
  const advance = (ms: number) => (now += ms);
  return { live, peer, read, advance, now: () => now };
}

describe('WireGuard liveness', () => {
  it('a peer that stops answering data is not answering after ~18 s, and the change says since when', () => {
    const { live, peer, read, advance } = setup();
    expect(read()).toBeNull();
    const changes = [];
    for (let i = 0; i < 8; i++) {
      advance(2000);
      peer.txBytes += 148; // an app's data (and later the device's handshake retries), nothing back
      changes.push(read());
    }
    expect(changes.slice(0, 8).filter(Boolean)).toHaveLength(0);
    advance(2000);
    peer.txBytes += 148;
    const c = read();
    expect(c).toEqual({ device: 'wg0', answering: false, since: T0 });
    expect(live.answering('wg0')).toBe(false);
    expect(live.deadSince('wg0')).toBe(T0);
  });

  it('an answering peer stays usable under traffic', () => {
    const { live, peer, read, advance } = setup();
    read();
    for (let i = 0; i < 30; i++) {
      advance(2000);
      peer.txBytes += 1500;
      if (i % 3 === 0) peer.rxBytes += 96;
      expect(read()).toBeNull();
    }
    expect(live.answering('wg0')).toBe(true);
  });

  it('keepalives alone expect no answer: an idle device is not judged', () => {
    const { live, peer, read, advance } = setup(5);
    read();
    for (let i = 0; i < 60; i++) {
      advance(2000);
      if (i % 5 === 0) peer.txBytes += 32;
      read();
    }
    expect(live.answering('wg0')).toBe(true);
  });

  it('traffic on a session older than 180 s that no handshake renews is not answering within 5 s', () => {
    const { live, peer, read, advance } = setup();
    peer.latestHandshake = T0 / 1000 - 200;
    read();
    advance(2000);
    peer.txBytes += 148; // the initiation the data started
    expect(read()).toBeNull(); // no verdict between the initiation and its answer
    advance(2000);
    expect(read()).toBeNull(); // no new traffic: nothing new to judge
    advance(2000);
    peer.txBytes += 148;
    expect(read()).toEqual({ device: 'wg0', answering: false, since: T0 });
    expect(live.answering('wg0')).toBe(false);
  });

  it('an expired session that is renewed at once is fine', () => {
    const { live, peer, read, advance, now } = setup();
    peer.latestHandshake = T0 / 1000 - 200;
    read();
    advance(2000);
    peer.txBytes += 148;
    read();
    advance(2000);
    peer.rxBytes += 92;
    peer.latestHandshake = Math.floor(now() / 1000);
    expect(read()).toBeNull();
    expect(live.answering('wg0')).toBe(true);
  });

  it('a newer handshake or received bytes make it answering again', () => {
    for (const answer of ['handshake', 'rx'] as const) {
      const { live, peer, read, advance, now } = setup();
      read();
      for (let i = 0; i < 10; i++) {
        advance(2000);
        peer.txBytes += 148;
        read();
      }
      expect(live.answering('wg0')).toBe(false);
      advance(3000);
      if (answer === 'handshake') peer.latestHandshake = Math.floor(now() / 1000);
      else peer.rxBytes += 32;
      expect(read()).toEqual({ device: 'wg0', answering: true, since: now() });
      expect(live.deadSince('wg0')).toBeNull();
    }
  });

  it('nudges a device that does not answer every 10 s, and never one that answers', () => {
    const { live, peer, read, advance } = setup();
    read();
    expect(live.nudgeDue('wg0')).toBe(false);
    for (let i = 0; i < 10; i++) {
      advance(2000);
      peer.txBytes += 148;
      read();
    }
    // Just declared: the device is retrying by itself.
    expect(live.nudgeDue('wg0')).toBe(false);
    advance(NUDGE_EVERY_MS);
    expect(live.nudgeDue('wg0')).toBe(true);
    expect(live.nudgeDue('wg0')).toBe(false);
    advance(NUDGE_EVERY_MS - 1);
    expect(live.nudgeDue('wg0')).toBe(false);
    advance(1);
    expect(live.nudgeDue('wg0')).toBe(true);
  });

  it('with two peers, one still answering keeps the device usable; a recreated device starts over', () => {
    let now = T0;
    const live = new WireguardLiveness(() => now);
    const a = {
      publicKey: 'a',
      latestHandshake: T0 / 1000,
      rxBytes: 100,
      txBytes: 100,
      persistentKeepalive: 0,
    };
    const b = { ...a, publicKey: 'b' };
    live.observe('wg1', [a, b]);
    for (let i = 0; i < 12; i++) {
      now += 2000;
      a.txBytes += 148;
      b.txBytes += 148;
      b.rxBytes += 64;
      live.observe('wg1', [a, b]);
    }
    expect(live.answering('wg1')).toBe(true);
    // Counters back at zero: a new device of the same name.
    expect(live.observe('wg1', [{ ...a, rxBytes: 0, txBytes: 0, latestHandshake: null }])).toBeNull();
    expect(live.answering('wg1')).toBe(true);
    live.keepOnly([]);
    expect(live.answering('wg1')).toBe(true);
  });

  it('tells data and handshakes from keepalives', () => {
    expect(expectsAnswer(0, 2000, 5)).toBe(false);
    expect(expectsAnswer(32, 2000, 5)).toBe(false);
    expect(expectsAnswer(64, 2000, 5)).toBe(false); // a persistent and a passive keepalive
    expect(expectsAnswer(96, 2000, 5)).toBe(true);
    expect(expectsAnswer(148, 2000, 5)).toBe(true); // a handshake initiation
    expect(expectsAnswer(32, 2000, 0)).toBe(false);
    expect(expectsAnswer(64, 2000, 0)).toBe(true);
    expect(expectsAnswer(80, 2000, 25)).toBe(true);
  });

  it("the peer's own handshake initiations are no answer: they reach us while ours are lost", () => {
    const { live, peer, read, advance } = setup();
    read();
    for (let i = 0; i < 10; i++) {
      advance(2000);
      peer.txBytes += 92; // our responses to its initiations, lost on the way
      if (i % 3 === 0) peer.rxBytes += 148;
      read();
    }
    expect(live.answering('wg0')).toBe(false);
    expect(heardBack(148)).toBe(false);
    expect(heardBack(296)).toBe(false);
    expect(heardBack(92)).toBe(true); // a response to our initiation
    expect(heardBack(32)).toBe(true); // a keepalive
    expect(heardBack(148 + 32)).toBe(true);
    expect(heardBack(0)).toBe(false);
  });
});
