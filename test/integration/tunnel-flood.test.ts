// A handshake flood at the gateway, 10,000 packets a second, while the real client handshakes:
//  - garbage initiations (anyone can send them: no key needed) cost one HMAC in the data path and
//    nothing else, so they never hold up a real handshake, during the flood or after it;
//  - initiations with a valid mac1 (anyone who knows the gateway's public key) from 20 addresses hold
//    the admitted rate at zero; the gateway answers them with cookie replies, and the real client
//    proves its cookie (mac2) and completes its handshake during the flood.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INIT_LEN, createInitiation } from '../../native-helper/src/tunnel/handshake.ts';
import { decodeKey, generateKeyPair, pubkey } from '../../native-helper/src/tunnel/keys.ts';
import { ADDR, type TunnelLab, createTunnelLab } from './tunnel-lab.ts';

const isRoot = process.getuid?.() === 0;
const RATE = 10_000;
const SOURCES = Array.from({ length: 20 }, (_, i) => `198.18.91.${100 + i}`);

// Sends the hex packets (stdin, one a line) round-robin from the given source addresses to HOST:PORT at
// RATE per second for MS milliseconds, then prints how many it sent.
const FLOOD = `
const dgram = require('dgram');
const [host, port, rate, ms, sources] = process.argv.slice(-5);
let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', async () => {
  const packets = input.split('\\n').filter(Boolean).map((h) => Buffer.from(h, 'hex'));
  const socks = await Promise.all(sources.split(',').map((a) => new Promise((r) => {
    const s = dgram.createSocket('udp4'); s.on('message', () => {}); s.bind(0, a, () => r(s));
  })));
  let sent = 0; const start = Date.now();
  const tick = setInterval(() => {
    const due = Math.floor(((Date.now() - start) * Number(rate)) / 1000);
    for (; sent < due; sent++) socks[sent % socks.length].send(packets[sent % packets.length], Number(port), host);
    if (Date.now() - start >= Number(ms)) { clearInterval(tick); setTimeout(() => { console.log(sent); process.exit(0); }, 200); }
  }, 5);
});`;

describe.skipIf(!isRoot)('a handshake flood at the gateway', () => {
  let lab: TunnelLab;

  beforeAll(async () => {
    lab = await createTunnelLab();
    for (const a of SOURCES) await lab.sh(lab.ns.client, ['ip', 'addr', 'add', `${a}/24`, 'dev', 'c0']);
  });

  afterAll(async () => {
    await lab?.close();
  });

  function flood(packets: Buffer[], ms: number): Promise<number> {
    return lab
      .sh(
        lab.ns.client,
        [
          'node',
          '-e',
          FLOOD,
          ADDR.gatewayWan,
          String(lab.gateway.port),
          String(RATE),
          String(ms),
          SOURCES.join(','),
        ],
        { input: packets.map((p) => p.toString('hex')).join('\n') + '\n', timeoutMs: ms + 30_000 },
      )
      .then((r) => Number(r.stdout.trim()));
  }

  /** A fresh handshake from the real client; resolves with how long it took. */
  async function handshake(deadlineMs = 20_000): Promise<number> {
    const started = Date.now();
    const done = new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no handshake within ${deadlineMs} ms`)), deadlineMs);
      lab.tunnel.initiator.once('established', () => (clearTimeout(t), resolve(Date.now() - started)));
    });
    lab.tunnel.initiator.handshake();
    return done;
  }

  const counters = async () => (await lab.gateway.stats()).counters;

  it('garbage initiations cost nothing: a real handshake completes during and after the flood', async () => {
    const garbage = Array.from({ length: 256 }, () => {
      const p = randomBytes(INIT_LEN);
      p.set([1, 1, 0, 0]);
      return p;
    });
    const before = await counters();
    const running = flood(garbage, 8000);
    await new Promise((r) => setTimeout(r, 2000));
    const during = await handshake();
    const sent = await running;
    const after = await handshake();
    const c = await counters();
    console.log(
      `garbage flood: ${sent} packets; handshake during ${during} ms, after ${after} ms; dropped for mac1 ${c.handshakesBadMac! - before.handshakesBadMac!}`,
    );
    expect(sent).toBeGreaterThan(RATE * 6);
    expect(c.handshakesBadMac! - before.handshakesBadMac!).toBeGreaterThan(sent * 0.9);
  });

  it('initiations with a valid mac1 get cookie replies; the real client proves its cookie and gets through', async () => {
    const gatewayKey = decodeKey(pubkey(lab.keys.gateway));
    const valid = Array.from(
      { length: 256 },
      (_, i) =>
        createInitiation({
          ourStatic: generateKeyPair(),
          peerStatic: gatewayKey,
          senderIndex: i,
          cipherOffer: 1,
          epoch: 1,
        }).message,
    );
    const before = await counters();
    const cookiesBefore = lab.tunnel.initiator.cookiesReceived;
    const running = flood(valid, 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    // An initiation that happens to find a token in the gateway's bucket (~2 % under this flood) needs
    // no cookie; try again until one had to prove its cookie.
    let during = await handshake();
    for (let i = 0; i < 3 && lab.tunnel.initiator.cookiesReceived === cookiesBefore; i++)
      during = await handshake();
    const cookies = lab.tunnel.initiator.cookiesReceived - cookiesBefore;
    const sent = await running;
    const after = await handshake();
    const c = await counters();
    console.log(
      `valid-mac1 flood: ${sent} packets from ${SOURCES.length} addresses; handshake during ${during} ms (${cookies} cookie), after ${after} ms; cookie replies ${c.cookieRepliesSent! - before.cookieRepliesSent!}`,
    );
    expect(cookies).toBeGreaterThanOrEqual(1);
    expect(c.cookieRepliesSent! - before.cookieRepliesSent!).toBeGreaterThan(1000);
    expect(c.handshakesWithCookie! - before.handshakesWithCookie!).toBeGreaterThanOrEqual(1);
  });
});
