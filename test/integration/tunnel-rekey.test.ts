// Session lifetime with shortened timers: rekey by time and by volume without losing traffic, a
// session that could not be renewed stops carrying data at its reject-after time, the handshake is
// retried until the gateway answers again, and a flood of initiations is rate limited.
import { afterEach, describe, expect, it } from 'vitest';
import { createInitiation } from '../../native-helper/src/tunnel/handshake.ts';
import { decodeKey, generateKeyPair, pubkey } from '../../native-helper/src/tunnel/keys.ts';
import { ADDR, TAG, createTunnelLab, markFor, sendDatagrams, type TunnelLab } from './tunnel-lab.ts';

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ping(lab: TunnelLab, count: number, interval = 0.2): Promise<number> {
  const r = await lab.sh(
    lab.ns.client,
    ['ping', '-c', String(count), '-i', String(interval), '-W', '1', '-m', String(markFor(TAG)), ADDR.server],
    { allowFailure: true, timeoutMs: (count * interval + 10) * 1000 },
  );
  return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? -1);
}

describe.skipIf(!isRoot)('tunnel session lifetime', () => {
  let lab: TunnelLab | undefined;
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
  });

  it('rekeys by time while traffic keeps flowing', async () => {
    lab = await createTunnelLab({
      timers: { rekeyAfterMs: 1500, rejectAfterMs: 6000, rekeyTimeoutMs: 1000 },
    });
    const first = lab.tunnel.initiator.session!;
    expect(await ping(lab, 25)).toBeGreaterThanOrEqual(24); // 5 s: at least two rekeys
    const now = lab.tunnel.initiator.session!;
    expect(now.epoch).toBeGreaterThanOrEqual(first.epoch + 2);
    expect(now.localIndex).not.toBe(first.localIndex);
    expect((await lab.gateway.stats()).handshakes.accepted).toBeGreaterThanOrEqual(3);
  });

  it('rekeys by volume when the data path reports the send counter passed the limit', async () => {
    lab = await createTunnelLab({ timers: { rekeyAfterMessages: 10n } });
    const first = lab.tunnel.initiator.session!;
    expect(await ping(lab, 15, 0.1)).toBeGreaterThanOrEqual(14);
    await sleep(300);
    expect(lab.tunnel.initiator.session!.epoch).toBeGreaterThan(first.epoch);
    expect((await lab.gateway.stats()).handshakes.accepted).toBeGreaterThanOrEqual(2);
  });

  it('stops using a session at its reject-after time, retries the handshake and recovers', async () => {
    lab = await createTunnelLab({
      timers: { rekeyAfterMs: 1000, rejectAfterMs: 2500, rekeyTimeoutMs: 400, rekeyAttemptMs: 2000 },
    });
    // The gateway stops hearing handshakes (initiations are 180 bytes + 8 UDP header).
    await lab.sh(lab.ns.gateway, ['nft', '-f', '-'], {
      input:
        'table ip syhs {\n chain in {\n type filter hook input priority -400;\n udp length 188 drop\n }\n}\n',
    });
    const failed = new Promise<string>((r) => lab!.tunnel.initiator.once('failed', r));
    await sleep(3000);
    expect(await ping(lab, 3)).toBe(0);
    const c = (await lab.tunnel.stats()).counters;
    expect(c.txNoSession).toBeGreaterThanOrEqual(3);
    expect(await failed).toMatch(/no handshake response/);
    const sent = lab.tunnel.initiator.handshakesSent;
    await lab.sh(lab.ns.gateway, ['nft', 'delete', 'table', 'ip', 'syhs']);
    await sleep(1200);
    expect(lab.tunnel.initiator.handshakesSent).toBeGreaterThan(sent);
    expect(await ping(lab, 3)).toBe(3);
  });

  it('rate-limits a flood of initiations from one source before doing any DH', async () => {
    lab = await createTunnelLab();
    const gwKey = decodeKey(pubkey(lab.keys.gateway));
    const flood = Array.from(
      { length: 60 },
      (_, i) =>
        createInitiation({
          ourStatic: generateKeyPair(),
          peerStatic: gwKey,
          senderIndex: i,
          cipherOffer: 1,
          epoch: 1,
        }).message,
    );
    const before = (await lab.gateway.stats()).handshakes;
    await sendDatagrams(lab, flood, lab.gateway.port, 500);
    const after = (await lab.gateway.stats()).handshakes;
    const processed = after.unknownPeer - before.unknownPeer;
    expect(after.rateLimited - before.rateLimited).toBeGreaterThanOrEqual(50);
    expect(processed).toBeLessThanOrEqual(10);
    expect(processed + after.rateLimited - before.rateLimited).toBe(60);
  });
});
