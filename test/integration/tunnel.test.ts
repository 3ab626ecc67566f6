// The tunnel end to end: a marked socket in the client namespace reaches a server behind the
// gateway through the TUN; the server sees the gateway's address; the gateway accounts the app's
// tag and policy id, learned from the packet's metadata. Both data paths run without privileges on
// descriptors the helper opened for them.
import { readFile, readdir, readlink } from 'node:fs/promises';
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
import type { Datapath } from '../../native-helper/src/tunnel/datapath.ts';

/** The real and effective uid/gid the kernel put in the process's auxiliary vector at exec time. */
async function idsAtExec(pid: number): Promise<Record<'uid' | 'euid' | 'gid' | 'egid', bigint>> {
  const auxv = await readFile(`/proc/${pid}/auxv`);
  const at = new Map<bigint, bigint>();
  for (let o = 0; o + 16 <= auxv.length; o += 16)
    at.set(auxv.readBigUInt64LE(o), auxv.readBigUInt64LE(o + 8));
  return { uid: at.get(11n)!, euid: at.get(12n)!, gid: at.get(13n)!, egid: at.get(14n)! }; // AT_UID..AT_EGID
}

async function expectUnprivilegedOnInheritedFds(dp: Datapath, tunName: string) {
  const pid = dp.pid!;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (k: string) => status.match(new RegExp(`^${k}:[ \\t]*(.*)$`, 'm'))?.[1]?.trim();
  expect(field('Uid')?.split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
  expect(field('Gid')?.split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
  expect(field('Groups')).toBe('');
  for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) expect(BigInt(`0x${field(cap)}`)).toBe(0n);
  expect(field('NoNewPrivs')).toBe('1');
  expect(field('Seccomp')).toBe('2');
  // Already nobody when the binary was exec'd, so it never could open /dev/net/tun (root-only) or
  // create a TUN queue (CAP_NET_ADMIN): the queues it holds are the ones the helper passed.
  expect(await idsAtExec(pid)).toEqual({ uid: 65534n, euid: 65534n, gid: 65534n, egid: 65534n });
  const n = dp.ready.workers;
  const targets = new Map<number, string>();
  for (const fd of await readdir(`/proc/${pid}/fd`))
    targets.set(Number(fd), await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
  const tunFds = [...targets].filter(([, t]) => t === '/dev/net/tun').map(([fd]) => fd);
  expect(tunFds.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => 3 + i));
  for (const fd of tunFds)
    expect(await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8')).toContain(`iff:\t${tunName}`);
  for (let i = 0; i < n; i++) expect(targets.get(3 + n + i)).toMatch(/^socket:\[\d+\]$/);
  expect((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')).toContain('--tun-fds');
}

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

  it('both data paths run as nobody without capabilities, on the TUN queues and sockets the helper passed', async () => {
    await expectUnprivilegedOnInheritedFds(lab.tunnel.datapath, 'sytun0');
    await expectUnprivilegedOnInheritedFds(lab.gateway.datapath, 'sygw0');
    // The helper attached the flowmark tc program and passed only its map.
    expect(lab.tunnel.datapath.ready.flowmark).toBe(true);
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

  it('removing a peer at run time ends its session at once; adding it back lets it in again', async () => {
    const ping = () =>
      lab.sh(
        lab.ns.client,
        ['ping', '-c', '3', '-i', '0.2', '-W', '1', '-m', String(markFor(TAG)), ADDR.server],
        { allowFailure: true },
      );
    expect((await ping()).stdout).toMatch(/3 received/);
    const client = lab.gateway.peers().find((p) => p.name === 'client')!;
    const before = (await lab.gateway.stats()).counters.rxUnknownIndex!;
    expect(await lab.gateway.removePeer('client')).toBeGreaterThanOrEqual(1);
    expect(lab.gateway.peers().map((p) => p.name)).not.toContain('client');
    // Nothing the client sends is accepted any more: its session's index is unknown.
    expect((await ping()).stdout).toMatch(/ 0 received/);
    expect((await lab.gateway.stats()).counters.rxUnknownIndex! - before).toBeGreaterThanOrEqual(3);
    await expect(lab.gateway.removePeer('client')).rejects.toThrow(/no peer named client/);

    // Back: its next handshake (forced here; a client retries within its rekey time) is accepted.
    await lab.gateway.setPeer(client);
    lab.tunnel.initiator.handshake();
    await expect
      .poll(async () => (await ping()).stdout, { timeout: 15_000, interval: 500 })
      .toMatch(/[1-3] received/);
  });
});

// Each cipher the handshake can choose runs in both data paths (the offer holds only that cipher).
describe.skipIf(!isRoot).each(['chacha20poly1305', 'aes256gcm'] as const)(
  'tunnel with only %s offered',
  (cipher) => {
    let lab: TunnelLab;
    beforeAll(async () => {
      lab = await createTunnelLab({ tunnel: { cipher } });
      await startWhoAmIServer(lab);
    });
    afterAll(async () => {
      await lab?.close();
    });

    it('full-size pings and a TCP exchange cross it and decrypt at the gateway', async () => {
      const r = await lab.sh(
        lab.ns.client,
        ['ping', '-c', '3', '-i', '0.2', '-W', '2', '-s', '1300', '-m', String(markFor(TAG)), ADDR.server],
        { allowFailure: true },
      );
      expect(r.stdout).toMatch(/3 received/);
      expect(await askServerWhoAmI(lab, markFor(TAG))).toBe(ADDR.gatewayLan);
      const gw = await lab.gateway.stats();
      expect(gw.counters.rxAuthFail).toBe(0);
      expect(gw.counters.rxPackets).toBeGreaterThanOrEqual(6);
    });
  },
);
