// The tunnel end to end: a marked socket in the client namespace reaches a server behind the
// gateway through the TUN; the server sees the gateway's address; the gateway accounts the app's
// tag and policy id, learned from the packet's metadata.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDR,
  OTHER_TAG,
  POLICY,
  TAG,
  askServerWhoAmI,
  createTunnelLab,
  markFor,
  startWhoAmIServer,
  type TunnelLab,
} from './tunnel-lab.ts';
import { pubkey } from '../../native-helper/src/tunnel/keys.ts';

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

  it("gateway-side app policy: a destination outside the app's allow list is dropped and counted", async () => {
    const before = (await lab.gateway.stats()).counters.rxDestinationDenied!;
    const r = await lab.sh(
      lab.ns.client,
      ['ping', '-c', '2', '-i', '0.2', '-W', '1', '-m', String(markFor(TAG)), ADDR.gatewayLan],
      { allowFailure: true },
    );
    expect(r.stdout).toMatch(/0 received/);
    expect((await lab.gateway.stats()).counters.rxDestinationDenied! - before).toBe(2);
  });

  it("the gateway API updates a peer's apps at run time", async () => {
    const ping = () =>
      lab.sh(
        lab.ns.client,
        ['ping', '-c', '2', '-i', '0.2', '-W', '1', '-m', String(markFor(OTHER_TAG)), ADDR.server],
        {
          allowFailure: true,
        },
      );
    expect((await ping()).stdout).toMatch(/0 received/);
    await lab.gateway.updatePeers([
      {
        name: 'client',
        publicKey: pubkey(lab.keys.client),
        addresses: [`${ADDR.clientTun}/32`],
        apps: [
          { tag: TAG, allow: [`${ADDR.server}/32`] },
          { tag: OTHER_TAG, allow: [`${ADDR.server}/32`] },
        ],
      },
    ]);
    expect((await ping()).stdout).toMatch(/2 received/);
    const row = (await lab.gateway.stats()).accounting.find(
      (a) => a.peer === 'client' && a.tag === OTHER_TAG,
    );
    expect(row?.policyId).toBe(7);
    expect(row?.packets).toBe(2);
  });
});
