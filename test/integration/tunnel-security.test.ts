// The tunnel under attack, with real packets: replayed, tampered, truncated and unknown-receiver
// data packets are dropped and counted, never delivered; an unknown key's handshake is refused; a
// peer claiming another peer's app tag is dropped; plaintext never appears on the wire.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output } from '../../native-helper/src/mechanism/exec.ts';
import { createInitiation } from '../../native-helper/src/tunnel/handshake.ts';
import { decodeKey, generateKeyPair, pubkey } from '../../native-helper/src/tunnel/keys.ts';
import {
  ADDR,
  OTHER_TAG,
  TAG,
  askServerWhoAmI,
  createTunnelLab,
  markFor,
  sendDatagrams,
  startWhoAmIServer,
  type TunnelLab,
} from './tunnel-lab.ts';

const isRoot = process.getuid?.() === 0;

/** UDP payloads of a pcap (Ethernet link type) sent to `port`. */
function udpPayloads(pcap: Buffer, port: number): Buffer[] {
  const out: Buffer[] = [];
  let off = 24;
  while (off + 16 <= pcap.length) {
    const caplen = pcap.readUInt32LE(off + 8);
    const frame = pcap.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    if (frame.length < 14 + 20 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    if (ip[9] !== 17) continue;
    const udp = ip.subarray((ip[0]! & 15) * 4);
    if (udp.readUInt16BE(2) !== port) continue;
    out.push(Buffer.from(udp.subarray(8, udp.readUInt16BE(4))));
  }
  return out;
}

describe.skipIf(!isRoot)('tunnel security', () => {
  let lab: TunnelLab;
  let dir: string;
  let captured: Buffer[] = [];
  /** Tunnel packets the gateway never received (dropped by nft before its socket): fresh counters. */
  let fresh: Buffer[] = [];

  const gw = () => lab.gateway.stats();
  const send = (packets: Buffer[], port = lab.gateway.port, waitMs = 300) =>
    sendDatagrams(lab, packets, port, waitMs);
  const echoRequestsAtServer = async () => {
    const j = JSON.parse(
      await output([
        'ip',
        'netns',
        'exec',
        lab.ns.server,
        'nft',
        '-j',
        'list',
        'chain',
        'ip',
        'sytest',
        'in',
      ]),
    ) as {
      nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[];
    };
    for (const item of j.nftables)
      for (const e of item.rule?.expr ?? []) if (e.counter) return e.counter.packets;
    throw new Error('no counter in the server test chain');
  };

  /** Starts tcpdump in a namespace; the returned function stops it and gives the pcap bytes. */
  async function capture(ns: string, ifname: string, name: string): Promise<() => Promise<Buffer>> {
    const file = join(dir, `${name}.pcap`);
    const p = lab.spawn(ns, ['tcpdump', '-i', ifname, '--immediate-mode', '-U', '-s', '0', '-w', file]);
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('tcpdump did not start')), 5000);
      p.stderr!.on('data', (d: Buffer) => {
        if (d.toString().includes('listening')) {
          clearTimeout(t);
          res();
        }
      });
    });
    return async () => {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGINT');
      await gone;
      return readFile(file);
    };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'syt-sec-'));
    lab = await createTunnelLab();
    await startWhoAmIServer(lab);
    await lab.sh(lab.ns.server, ['nft', '-f', '-'], {
      input:
        'table ip sytest {\n chain in {\n type filter hook input priority 0;\n icmp type echo-request counter\n }\n}\n',
    });
    // Real tunnel packets to replay and mangle: three pings, captured between client and gateway.
    const stop = await capture(lab.ns.gateway, 'g0', 'pings');
    const r = await lab.sh(
      lab.ns.client,
      ['ping', '-c', '3', '-i', '0.2', '-W', '2', '-m', String(markFor(TAG)), ADDR.server],
      {
        allowFailure: true,
      },
    );
    expect(r.stdout).toMatch(/3 received/);
    captured = udpPayloads(await stop(), lab.gateway.port).filter((p) => p[1] === 4);
    expect(captured.length).toBe(3);
    expect(await echoRequestsAtServer()).toBe(3);
    // Capture at the gateway's interface (before netfilter) while its input hook drops tunnel data.
    await lab.sh(lab.ns.gateway, ['nft', '-f', '-'], {
      input: `table ip sytest {\n chain in {\n type filter hook input priority -400;\n udp dport ${lab.gateway.port} udp length > 100 drop\n }\n}\n`,
    });
    const stopFresh = await capture(lab.ns.gateway, 'g0', 'fresh');
    await lab.sh(
      lab.ns.client,
      ['ping', '-c', '2', '-i', '0.2', '-W', '1', '-m', String(markFor(TAG)), ADDR.server],
      { allowFailure: true },
    );
    fresh = udpPayloads(await stopFresh(), lab.gateway.port).filter((p) => p[1] === 4);
    await lab.sh(lab.ns.gateway, ['nft', 'delete', 'table', 'ip', 'sytest']);
    expect(fresh.length).toBe(2);
    expect(await echoRequestsAtServer()).toBe(3);
  });
  afterAll(async () => {
    await lab?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('replayed data packets are dropped and counted, never delivered', async () => {
    const before = await gw();
    await send(captured);
    const after = await gw();
    expect(after.counters.rxReplay! - before.counters.rxReplay!).toBe(3);
    expect(after.counters.rxPackets).toBe(before.counters.rxPackets);
    expect(await echoRequestsAtServer()).toBe(3);
  });

  it('a bit flipped anywhere in a data packet is dropped and counted', async () => {
    const original = fresh[0]!;
    const flipped: Buffer[] = [];
    for (let bit = 0; bit < original.length * 8; bit++) {
      const p = Buffer.from(original);
      p[bit >> 3]! ^= 1 << (bit & 7);
      flipped.push(p);
    }
    const before = await gw();
    await send(flipped, undefined, 800);
    const after = await gw();
    const dropped = (k: string) => after.counters[k]! - before.counters[k]!;
    const total = [
      'rxAuthFail',
      'rxBadHeader',
      'rxUnknownIndex',
      'rxUnknownType',
      'rxReplay',
      'rxExpired',
    ].reduce((s, k) => s + dropped(k), 0);
    expect(total).toBe(flipped.length);
    // Everything past the receiver index reaches the AEAD check, and fails it.
    expect(dropped('rxAuthFail')).toBeGreaterThanOrEqual((original.length - 8) * 8 - 64);
    expect(after.counters.rxPackets).toBe(before.counters.rxPackets);
    expect(await echoRequestsAtServer()).toBe(3);
    // Control: the same packet unmodified is accepted, so the drops above were the tampering.
    await send([original]);
    expect((await gw()).counters.rxPackets).toBe(before.counters.rxPackets! + 1);
    expect(await echoRequestsAtServer()).toBe(4);
  });

  it('truncated packets are dropped and counted', async () => {
    const original = fresh[1]!;
    const cuts = Array.from({ length: original.length - 1 }, (_, n) => original.subarray(0, n + 1));
    const before = await gw();
    await send(cuts, undefined, 500);
    const after = await gw();
    const dropped = ['rxAuthFail', 'rxBadHeader', 'rxUnknownType'].reduce(
      (s, k) => s + after.counters[k]! - before.counters[k]!,
      0,
    );
    expect(dropped).toBe(cuts.length);
    expect(after.counters.rxPackets).toBe(before.counters.rxPackets);
    await send([original]);
    expect((await gw()).counters.rxPackets).toBe(before.counters.rxPackets! + 1);
  });

  it('packets for an unknown receiver index are dropped and counted', async () => {
    const p = Buffer.from(captured[2]!);
    p.writeUInt32BE((p.readUInt32BE(4) + 1) >>> 0, 4);
    const before = await gw();
    await send([p]);
    const after = await gw();
    expect(after.counters.rxUnknownIndex! - before.counters.rxUnknownIndex!).toBe(1);
    expect(after.counters.rxPackets).toBe(before.counters.rxPackets);
  });

  it('a handshake from an unknown key is refused without a reply', async () => {
    const stranger = generateKeyPair();
    const init = createInitiation({
      ourStatic: stranger,
      peerStatic: decodeKey(pubkey(lab.keys.gateway)),
      senderIndex: 99,
      cipherOffer: 1,
      epoch: 1,
    });
    const before = await gw();
    const replies = await send([init.message], undefined, 1000);
    const after = await gw();
    expect(replies).toBe(0);
    expect(after.handshakes.unknownPeer - before.handshakes.unknownPeer).toBe(1);
    expect(after.handshakes.accepted).toBe(before.handshakes.accepted);
  });

  it('a peer claiming another peer’s app tag is dropped at the gateway and counted', async () => {
    const before = await gw();
    const r = await lab.sh(
      lab.ns.client,
      ['ping', '-c', '3', '-i', '0.2', '-W', '1', '-m', String(markFor(OTHER_TAG)), ADDR.server],
      {
        allowFailure: true,
      },
    );
    expect(r.stdout).toMatch(/0 received/);
    const after = await gw();
    expect(after.counters.rxTagDenied! - before.counters.rxTagDenied!).toBe(3);
    expect(await echoRequestsAtServer()).toBe(5);
    expect(after.accounting.some((a) => a.tag === OTHER_TAG)).toBe(false);
  });

  it('plaintext never appears on the wire between client and gateway', async () => {
    const marker = `SWITCHYARD-PLAINTEXT-MARKER-${Date.now()}`;
    const stopWire = await capture(lab.ns.gateway, 'g0', 'wire');
    const stopLan = await capture(lab.ns.server, 's0', 'lan');
    expect(await askServerWhoAmI(lab, markFor(TAG), marker.repeat(20))).toBe(ADDR.gatewayLan);
    const wire = await stopWire();
    const lan = await stopLan();
    // Control: behind the gateway the marker is in the clear, so a capture does see it.
    expect(lan.includes(marker)).toBe(true);
    expect(wire.length).toBeGreaterThan(24 + 10 * 16);
    expect(wire.includes(marker)).toBe(false);
    expect(wire.includes(Buffer.from(marker).subarray(0, 12))).toBe(false);
  });

  it('both data paths run unprivileged, with no_new_privs and a seccomp filter', async () => {
    for (const dp of [lab.tunnel.datapath, lab.gateway.datapath]) {
      const status = await readFile(`/proc/${dp.pid}/status`, 'utf8');
      const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1]?.trim();
      expect(field('Uid')).toBe('65534\t65534\t65534\t65534');
      expect(field('Gid')).toBe('65534\t65534\t65534\t65534');
      expect(field('Groups')).toBe('');
      expect(field('CapEff')).toBe('0000000000000000');
      expect(field('CapPrm')).toBe('0000000000000000');
      expect(field('NoNewPrivs')).toBe('1');
      expect(field('Seccomp')).toBe('2');
    }
  });
});
