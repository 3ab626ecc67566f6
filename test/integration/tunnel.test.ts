// The tunnel end to end: a marked socket in the client namespace reaches a server behind the
// gateway through the TUN; the server sees the gateway's address; the gateway accounts the app's
// tag and policy id, learned from the packet's metadata.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDR,
  POLICY,
  TAG,
  askServerWhoAmI,
  createTunnelLab,
  markFor,
  startWhoAmIServer,
  type TunnelLab,
} from './tunnel-lab.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('tunnel: client -> gateway -> server', () => {
  let lab: TunnelLab;
  beforeAll(async () => {
    lab = await createTunnelLab();
    await startWhoAmIServer(lab);
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('a ping with the app mark crosses the tunnel', async () => {
    const r = await lab.sh(
      lab.ns.client,
      ['ping', '-c', '3', '-i', '0.2', '-W', '2', '-m', String(markFor(TAG)), ADDR.server],
      {
        allowFailure: true,
      },
    );
    expect(r.stdout).toMatch(/3 received/);
    const s = await lab.tunnel.stats();
    expect(s.counters.txPackets).toBeGreaterThanOrEqual(3);
    expect(s.counters.rxPackets).toBeGreaterThanOrEqual(3);
  });

  it('a marked TCP connection reaches the server, which sees the gateway address', async () => {
    expect(await askServerWhoAmI(lab, markFor(TAG))).toBe(ADDR.gatewayLan);
  });

  it('an unmarked connection does not use the tunnel at all (no route to the server)', async () => {
    const before = (await lab.tunnel.stats()).counters.txPackets!;
    expect(await askServerWhoAmI(lab, 0)).toBe('');
    expect((await lab.tunnel.stats()).counters.txPackets).toBe(before);
  });

  it("the gateway's per-app accounting shows the peer, the tag and the policy id", async () => {
    const s = await lab.gateway.stats();
    const row = s.accounting.find((a) => a.peer === 'client' && a.tag === TAG && a.policyId === POLICY);
    expect(row).toBeDefined();
    expect(row!.packets).toBeGreaterThanOrEqual(3 + 3); // pings + the TCP exchange
    expect(row!.bytes).toBeGreaterThan(0);
    expect(s.handshakes.accepted).toBe(1);
  });
});
