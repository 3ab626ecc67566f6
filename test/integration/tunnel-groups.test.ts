// Key groups end to end (seed 2 with seed 3): two apps whose traffic uses the groups "work" and
// "personal" of one tunnel go in two sessions with their own receiver indexes and counters (a capture
// between client and gateway shows it); the gateway holds each group to its apps and revokes one at
// run time while the other goes on; metadata naming another group, a tag another group carries, and a
// packet of one group replayed into the other's session are dropped and counted.
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyGroupId } from '../../native-helper/src/tunnel/handshake.ts';
import { pubkey } from '../../native-helper/src/tunnel/keys.ts';
import { REPO } from '../lab/switchyard-helper.ts';
import {
  ADDR,
  OTHER_TAG,
  POLICY,
  TAG,
  type TunnelLab,
  createTunnelLab,
  markFor,
  sendDatagrams,
  withMark,
} from './tunnel-lab.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('key groups: a session, keys and rights per group', () => {
  let lab: TunnelLab;
  let work: string;
  let capture: string;

  const ping = async (tag: number, n = 3, size = 56) => {
    const r = await lab.sh(
      lab.ns.client,
      [
        'ping',
        '-c',
        String(n),
        '-i',
        '0.2',
        '-W',
        '1',
        '-s',
        String(size),
        '-m',
        String(markFor(tag)),
        ADDR.server,
      ],
      { allowFailure: true },
    );
    return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
  };
  const counters = async () => (await lab.gateway.stats()).counters;
  /** Per receiver index of client→gateway data messages: the counters the capture saw. */
  const sessions = () => {
    const out = new Map<number, number[]>();
    for (const line of readFileSync(capture, 'utf8').split('\n').slice(1)) {
      const [idx, counter, dir] = line.split(' ');
      if (dir !== 'out') continue;
      out.set(Number(idx), [...(out.get(Number(idx)) ?? []), Number(counter)]);
    }
    return out;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sy-groups-'));
    capture = join(work, 'capture');
    lab = await createTunnelLab({ allowedTags: [] });
    // The gateway: the client's peer has two key groups, each carrying one app.
    await lab.gateway.setPeer({
      name: 'client',
      publicKey: pubkey(lab.keys.client),
      addresses: [`${ADDR.clientTun}/32`],
      apps: [],
      groups: [
        { name: 'work', apps: [{ tag: TAG, allow: [`${ADDR.server}/32`] }] },
        { name: 'personal', apps: [{ tag: OTHER_TAG, allow: [`${ADDR.server}/32`] }] },
      ],
    });
    lab.spawn(lab.ns.client, [
      'python3',
      join(REPO, 'test/integration/fixtures/tunnel-capture.py'),
      'c0',
      String(lab.gateway.port),
      capture,
    ]);
    for (
      let i = 0;
      i < 50 && !(existsSync(capture) && readFileSync(capture, 'utf8').startsWith('capturing'));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(capture)) throw new Error('the capture between client and gateway did not start');
    // The client: each app's tag is sent under its group's session.
    lab.tunnel.setGroups(['work', 'personal']);
    lab.tunnel.setTags([
      { tag: TAG, policy: POLICY, trafficClass: 0, group: 'work' },
      { tag: OTHER_TAG, policy: 7, trafficClass: 0, group: 'personal' },
    ]);
    for (let i = 0; i < 150 && !lab.tunnel.groups().every((g) => g.established); i++)
      await new Promise((r) => setTimeout(r, 100));
    if (!lab.tunnel.groups().every((g) => g.established))
      throw new Error(`key groups did not come up: ${JSON.stringify(lab.tunnel.groups())}`);
  });

  afterAll(async () => {
    await lab?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('two groups, two sessions: their own receiver indexes and counters on the wire', async () => {
    expect(await ping(TAG, 5)).toBe(5);
    expect(await ping(OTHER_TAG, 5)).toBe(5);
    await new Promise((r) => setTimeout(r, 200));
    const seen = sessions();
    const used = [...seen].filter(([, c]) => c.length >= 5);
    expect(used).toHaveLength(2);
    // Independent counters: each session counts from 0 by itself.
    for (const [, c] of used) expect(Math.min(...c)).toBe(0);
    const s = await lab.gateway.stats();
    expect(s.handshakes.accepted).toBeGreaterThanOrEqual(3); // the default session and one per group
    const byPeer = new Map(s.accounting.map((a) => [`${a.peer}:${a.tag}`, a.packets]));
    expect(byPeer.get(`client/work:${TAG}`)).toBeGreaterThanOrEqual(5);
    expect(byPeer.get(`client/personal:${OTHER_TAG}`)).toBeGreaterThanOrEqual(5);
  });

  it('a tag another group carries is dropped and counted; so is metadata naming another group', async () => {
    // The client (misbehaving) sends work's tag in the personal session.
    lab.tunnel.setTags([
      { tag: TAG, policy: POLICY, trafficClass: 0, group: 'personal' },
      { tag: OTHER_TAG, policy: 7, trafficClass: 0, group: 'personal' },
    ]);
    const before = await counters();
    expect(await ping(TAG)).toBe(0);
    const after = await counters();
    expect(after.rxTagDenied! - before.rxTagDenied!).toBe(3);
    // Personal's session, carrying work's group id in its metadata.
    const personal = lab.tunnel.groups().find((g) => g.name === 'personal')!;
    lab.tunnel.datapath.setTags([
      { tag: OTHER_TAG, policy: 7, trafficClass: 0, peerId: personal.peerId, groupId: keyGroupId('work') },
    ]);
    expect(await ping(OTHER_TAG)).toBe(0);
    expect((await counters()).rxGroupDenied! - after.rxGroupDenied!).toBe(3);
    lab.tunnel.setTags([
      { tag: TAG, policy: POLICY, trafficClass: 0, group: 'work' },
      { tag: OTHER_TAG, policy: 7, trafficClass: 0, group: 'personal' },
    ]);
    expect(await ping(TAG)).toBe(3);
    expect(await ping(OTHER_TAG)).toBe(3);
  });

  it("a packet of one group replayed into another group's session is dropped", async () => {
    // Work's counters run ahead of personal's, so its newest message is new to personal's window too
    // (a counter personal has seen would be dropped even before the AEAD, as a replay).
    await ping(TAG, 10);
    const seen = sessions();
    const [workIdx, personalIdx] = [...seen].filter(([, c]) => c.length >= 5).map(([i]) => i);
    // A real message of work's session, off the wire: replayed as it is, and into personal's session.
    const ofSession = (idx: number) =>
      readFileSync(capture, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith(`${idx} `) && l.split(' ')[2] === 'out');
    const newest = (idx: number) => Math.max(...ofSession(idx).map((l) => Number(l.split(' ')[1])));
    expect(newest(workIdx!)).toBeGreaterThan(newest(personalIdx!));
    const line = ofSession(workIdx!).find((l) => Number(l.split(' ')[1]) === newest(workIdx!))!;
    const msg = Buffer.from(line.split(' ')[3]!, 'hex');
    const before = await counters();
    await sendDatagrams(lab, [msg], lab.gateway.port);
    const replayed = await counters();
    const moved = Object.fromEntries(
      Object.entries(replayed).flatMap(([k, v]) => (v !== before[k] ? [[k, v - before[k]!]] : [])),
    );
    expect(moved, `msg ${msg.length} bytes`).toEqual({ rxReplay: 1 });
    const crossed = Buffer.from(msg);
    crossed.writeUInt32BE(personalIdx!, 4);
    await sendDatagrams(lab, [crossed], lab.gateway.port);
    const after = await counters();
    const crossedMoved = Object.fromEntries(
      Object.entries(after).flatMap(([k, v]) => (v !== replayed[k] ? [[k, v - replayed[k]!]] : [])),
    );
    expect(crossedMoved, `indexes ${workIdx} ${personalIdx}`).toEqual({ rxAuthFail: 1 });
    expect(after.rxPackets).toBe(before.rxPackets);
  });

  it("tampered and truncated packets of each group's session are dropped and counted", async () => {
    // One fresh message per group, seen by the capture but not by the gateway (its input drops them).
    const lines = () => new Set(readFileSync(capture, 'utf8').split('\n'));
    await lab.sh(lab.ns.gateway, ['nft', '-f', '-'], {
      input: `table ip sygroups {\n chain in {\n type filter hook input priority -400;\n udp dport ${lab.gateway.port} udp length > 180 drop\n }\n}\n`,
    });
    const fresh: Buffer[] = [];
    try {
      for (const tag of [TAG, OTHER_TAG]) {
        const before = lines();
        // A 150-byte echo: its data message (210 bytes) is larger than anything else the tunnel may carry
        // meanwhile (keepalives, the kernel's own IPv6 messages such as an MLD report, 108 bytes), and
        // only it is dropped by the gateway's input (UDP length > 180).
        expect(await ping(tag, 1, 150)).toBe(0);
        await new Promise((r) => setTimeout(r, 200));
        const added = [...lines()].filter((l) => {
          const [, , dir, hex] = l.split(' ');
          return !before.has(l) && dir === 'out' && hex!.length / 2 > 180;
        });
        expect(added).toHaveLength(1);
        fresh.push(Buffer.from(added[0]!.split(' ')[3]!, 'hex'));
      }
    } finally {
      await lab.sh(lab.ns.gateway, ['nft', 'delete', 'table', 'ip', 'sygroups']);
    }
    expect(fresh[0]!.readUInt32LE(4)).not.toBe(fresh[1]!.readUInt32LE(4)); // two sessions
    const DROPS = ['rxAuthFail', 'rxBadHeader', 'rxUnknownIndex', 'rxUnknownType', 'rxReplay', 'rxExpired'];
    for (const original of fresh) {
      const flipped: Buffer[] = [];
      for (let bit = 0; bit < original.length * 8; bit++) {
        const p = Buffer.from(original);
        p[bit >> 3]! ^= 1 << (bit & 7);
        flipped.push(p);
      }
      const cuts = Array.from({ length: original.length - 1 }, (_, n) => original.subarray(0, n + 1));
      const before = await counters();
      await sendDatagrams(lab, [...flipped, ...cuts], lab.gateway.port, 800);
      const after = await counters();
      const dropped = DROPS.reduce((sum, k) => sum + after[k]! - before[k]!, 0);
      expect(dropped).toBe(flipped.length + cuts.length);
      expect(after.rxAuthFail! - before.rxAuthFail!).toBeGreaterThanOrEqual((original.length - 8) * 8 - 64);
      expect(after.rxPackets).toBe(before.rxPackets);
      // Control: the message itself is accepted, so the drops above were the tampering.
      await sendDatagrams(lab, [original], lab.gateway.port);
      expect((await counters()).rxPackets).toBe(before.rxPackets! + 1);
    }
  });

  it('rekeying one group under load loses (almost) nothing on the other', async () => {
    for (const port of [5201, 5202]) lab.spawn(lab.ns.server, ['iperf3', '-s', '-p', String(port)]);
    await new Promise((r) => setTimeout(r, 500));
    const udp = (tag: number, port: number) =>
      lab.sh(
        lab.ns.client,
        [
          ...withMark(markFor(tag)),
          'iperf3',
          '-c',
          ADDR.server,
          '-p',
          String(port),
          '-u',
          '-b',
          '50M',
          '-l',
          '1200',
          '-t',
          '4',
          '-J',
        ],
        { allowFailure: true, timeoutMs: 20_000 },
      );
    const personalBefore = lab.tunnel.groups().find((g) => g.name === 'personal')!.epoch!;
    const runs = Promise.all([udp(TAG, 5201), udp(OTHER_TAG, 5202)]);
    await new Promise((r) => setTimeout(r, 2000));
    lab.tunnel.rekeyGroup('personal');
    const [work, personal] = await runs;
    const lost = (r: { stdout: string }) => {
      const sum = (JSON.parse(r.stdout) as { end: { sum: { lost_packets: number; packets: number } } }).end
        .sum;
      return { lost: sum.lost_packets, packets: sum.packets };
    };
    const w = lost(work);
    const p = lost(personal);
    console.log(
      `rekey of "personal" under load (2 × 50 Mbit/s UDP for 4 s): "work" lost ${w.lost} of ${w.packets} packets, "personal" ${p.lost} of ${p.packets}`,
    );
    expect(lab.tunnel.groups().find((g) => g.name === 'personal')!.epoch).toBeGreaterThan(personalBefore);
    expect(w.packets).toBeGreaterThan(10_000);
    expect(w.lost).toBeLessThanOrEqual(10);
  });

  it('revoking "personal" at the gateway stops that app at once; "work" goes on', async () => {
    expect(await ping(OTHER_TAG)).toBe(3);
    const ended = await lab.gateway.revokeGroup('client', 'personal');
    expect(ended).toBeGreaterThanOrEqual(1);
    const before = await counters();
    expect(await ping(OTHER_TAG, 5)).toBe(0);
    expect((await counters()).rxUnknownIndex! - before.rxUnknownIndex!).toBeGreaterThanOrEqual(5);
    expect(await ping(TAG, 5)).toBe(5);
    // Its next handshake is refused: the gateway no longer has that group for this peer.
    const refused = (await lab.gateway.stats()).handshakes.unknownGroup;
    lab.tunnel.setGroups(['work']);
    lab.tunnel.setGroups(['work', 'personal']);
    await expect
      .poll(async () => (await lab.gateway.stats()).handshakes.unknownGroup, { timeout: 10_000 })
      .toBeGreaterThan(refused);
    expect(await ping(OTHER_TAG)).toBe(0);
    expect(await ping(TAG)).toBe(3);
  });
});
