// A gateway at scale (issue 16): one tunnel's throughput through a gateway with 1 peer, then with
// 1,000 configured peers of which 100 hold sessions (the tunnel plus 99 initiators that handshake
// over UDP from addresses of their own, gateway-initiators.ts); the handshakes per second those
// initiators complete against the raw X25519 + BLAKE2s rate of the responder's own crypto; and the
// gateway's memory per configured, idle peer. All anchors are measured in this run.
import { diffieHellman, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { runGateway, type RunningGateway } from '../../native-helper/src/gateway/gateway.ts';
import type { GatewayPeerInput } from '../../native-helper/src/gateway/config.ts';
import { runTunnel, type RunningTunnel } from '../../native-helper/src/tunnel/tunnel.ts';
import { dh, generateKeyPair, genkey, pubkey } from '../../native-helper/src/tunnel/keys.ts';
import { hash, hkdf } from '../../native-helper/src/tunnel/noise.ts';
import { type BenchContext, type BenchRow, measureThroughput, startIperf3Server } from './harness.ts';
import type { InitiatorsPlan } from './gateway-initiators.ts';
import { createNetnsPair, inNs } from './netns-pair.ts';

const GROUP = 'gateway at scale';
const CONFIGURED = 1000;
const ACTIVE = 100;
const TAG = 0x0b0c;
const MARK = ((0x5a << 24) | (1 << 16) | TAG) >>> 0;
const SUBNET = '198.18.61';
const CLIENT_TUN = '198.19.61.2';
const GATEWAY_TUN = '198.19.61.1';
const here = dirname(fileURLToPath(import.meta.url));
const INITIATORS = resolve(here, 'gateway-initiators.ts');
const TSX = resolve(here, '../../node_modules/tsx/dist/esm/index.mjs');

/**
 * The raw cost of one responder handshake in the primitives it uses (node:crypto's X25519 and
 * BLAKE2s, as keys.ts and noise.ts call them), on key objects made once: one ephemeral key pair, four
 * X25519 (es, ss, ee, se), six two-output HKDFs (es, ss, ee, se, the payload key and split) and ten
 * BLAKE2s hashes (mixHash, mac1). What the responder adds on top (parsing keys from raw bytes for
 * every DH, the message code, the event loop) is what the ratio shows.
 */
export function rawHandshakesPerSecond(seconds: number): number {
  const a = generateKeyPairSync('x25519');
  const b = generateKeyPairSync('x25519');
  const ck = hash(Buffer.from('ck'));
  const block = Buffer.alloc(64, 7);
  let n = 0;
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(Math.round(seconds * 1e9));
  let now: bigint;
  do {
    const e = generateKeyPairSync('x25519');
    for (let i = 0; i < 4; i++)
      diffieHellman({ privateKey: i % 2 ? a.privateKey : e.privateKey, publicKey: b.publicKey });
    for (let i = 0; i < 6; i++) hkdf(ck, block.subarray(0, 32), 2);
    for (let i = 0; i < 10; i++) hash(block);
    n++;
    now = process.hrtime.bigint();
  } while (now < until);
  return n / (Number(now - t0) / 1e9);
}

/** The same handshake's X25519 work as keys.ts does it (raw keys, each imported into OpenSSL once). */
export function keysTsHandshakesPerSecond(seconds: number): number {
  const a = generateKeyPair();
  const b = generateKeyPair();
  let n = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    const e = generateKeyPair();
    for (let i = 0; i < 4; i++) dh(i % 2 ? a.privateKey : e.privateKey, b.publicKey);
    n++;
  }
  return n / ((Date.now() - t0) / 1000);
}

/**
 * Bytes the gateway holds: this process's heap and external memory after full GCs (three, with a
 * pause for finalizers between, so garbage from the throughput runs is gone), and the data path's RSS.
 */
async function memory(gateway: RunningGateway): Promise<{ node: number; datapath: number }> {
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = gateway.datapath.pid;
  const line = pid
    ? readFileSync(`/proc/${pid}/status`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('VmRSS:'))
    : undefined;
  const m = process.memoryUsage();
  return { node: m.heapUsed + m.external, datapath: Number(line?.split(/\s+/)[1] ?? 0) * 1024 };
}

function idlePeer(i: number): GatewayPeerInput {
  return {
    name: `idle-${i}`,
    publicKey: pubkey(genkey()),
    addresses: [`198.19.${64 + Math.floor(i / 250)}.${(i % 250) + 1}/32`],
    apps: [],
  };
}

export async function benchGatewayScale(ctx: BenchContext): Promise<BenchRow[]> {
  setFlagsFromString('--expose-gc'); // for memory(): GC before reading the heap, so deltas are the peers'
  const rows: BenchRow[] = [];
  const rawSeconds = ctx.quick ? 1 : 3;
  const raw = rawHandshakesPerSecond(rawSeconds);
  const viaKeysTs = keysTsHandshakesPerSecond(rawSeconds);
  ctx.log(
    `raw X25519 + BLAKE2s: ${raw.toFixed(0)} handshakes/s; keys.ts's X25519 alone ${viaKeysTs.toFixed(0)}/s`,
  );

  const pair = await createNetnsPair(ctx, { label: 'gwsc', subnet24: SUBNET });
  const keys = { gateway: genkey(), client: genkey() };
  const clientPeer: GatewayPeerInput = {
    name: 'bench',
    publicKey: pubkey(keys.client),
    addresses: [`${CLIENT_TUN}/32`],
    apps: [{ tag: TAG, allow: [`${GATEWAY_TUN}/32`] }],
  };
  let gateway: RunningGateway | undefined;
  let tunnel: RunningTunnel | undefined;
  const undo = ctx.defer('gateway-scale tunnel and gateway', async () => {
    await tunnel?.stop();
    await gateway?.stop();
  });
  try {
    gateway = await runGateway({
      instance: `${ctx.prefix}s`,
      privateKey: keys.gateway,
      listenPort: 51821,
      tunName: ctx.uniqueName('gw'),
      address: `${GATEWAY_TUN}/24`,
      uplinks: [{ name: 'lan', interface: pair.vethB }],
      enableForwarding: false,
      netns: pair.b,
      peers: [clientPeer],
    });
    const tunName = ctx.uniqueName('tun');
    tunnel = await runTunnel({
      name: tunName,
      privateKey: keys.client,
      gateway: { host: pair.addrB, port: gateway.port },
      gatewayPublicKey: pubkey(keys.gateway),
      address: `${CLIENT_TUN}/32`,
      cipher: 'aes256gcm',
      apps: [{ tag: TAG, policyId: 78 }],
      netns: pair.a,
    });
    // As in tunnel.bench.ts: iperf3 cannot set SO_MARK, so an output route chain marks its packets.
    await run(inNs(pair.a, ['nft', '-f', '-']), {
      input: `table ip sybench {\n chain out {\n type route hook output priority mangle;\n ip daddr ${GATEWAY_TUN} meta mark set ${MARK}\n }\n}\n`,
    });
    await run(['ip', '-n', pair.a, '-batch', '-'], {
      input: `rule add fwmark ${MARK} lookup 161 pref 161\nroute add default dev ${tunName} table 161\nroute add ${GATEWAY_TUN}/32 dev ${tunName}\n`,
    });
    await run(
      inNs(pair.a, [
        'sysctl',
        '-q',
        '-w',
        'net.ipv4.conf.all.rp_filter=0',
        `net.ipv4.conf.${tunName}.rp_filter=0`,
      ]),
    );
    await tunnel.established(15_000);
    await startIperf3Server(ctx, pair.b);
    const throughput = (label: string) =>
      measureThroughput(ctx, { clientNs: pair.a, serverAddr: GATEWAY_TUN, streams: 1, label });

    const single = await throughput('gateway with 1 peer');
    const before = await memory(gateway);

    // 1,000 configured peers, or as many as the gateway accepts (the failure is a row of its own).
    const idle = Array.from({ length: CONFIGURED - 1 }, (_, i) => idlePeer(i));
    let configured = CONFIGURED;
    try {
      await gateway.updatePeers([clientPeer, ...idle]);
    } catch (err) {
      const message = (err as Error).message.replace(/\s+/g, ' ').slice(0, 300);
      const most = Number(/at most (\d+)/.exec(message)?.[1] ?? 250);
      configured = Math.min(most, 250);
      rows.push({
        group: GROUP,
        name: `${CONFIGURED} configured peers`,
        value: NaN,
        unit: '',
        note: `the gateway refused them (${message}); measured with ${configured} instead`,
        status: 'failed',
      });
      await gateway.updatePeers([clientPeer, ...idle.slice(0, configured - 1)]);
    }
    await new Promise((r) => setTimeout(r, 500));
    const after = await memory(gateway);
    const perPeer = (after.node + after.datapath - before.node - before.datapath) / (configured - 1);

    // 99 more peers hold sessions: each handshakes from its own address, as fast as answered.
    const activeKeys = Array.from({ length: ACTIVE - 1 }, () => genkey());
    await gateway.updatePeers([
      clientPeer,
      ...activeKeys.map((k, i) => ({ ...idle[i]!, publicKey: pubkey(k) })),
      ...idle.slice(ACTIVE - 1, configured - 1),
    ]);
    const sources = activeKeys.map((_, i) => `${SUBNET}.${10 + i}`);
    await run(['ip', '-n', pair.a, '-batch', '-'], {
      input: sources.map((s) => `addr add ${s}/24 dev ${pair.vethA}`).join('\n') + '\n',
    });
    const plan: InitiatorsPlan = {
      gateway: { host: pair.addrB, port: gateway.port, publicKey: pubkey(keys.gateway) },
      peers: activeKeys.map((privateKey, i) => ({ privateKey, source: sources[i]! })),
      seconds: ctx.quick ? 5 : 10,
    };
    const hs0 = (await gateway.stats()).handshakes;
    const res = await run(
      inNs(pair.a, [process.execPath, '--import', TSX, INITIATORS, JSON.stringify(plan)]),
      { timeoutMs: (plan.seconds + 30) * 1000 },
    );
    const hs = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as {
      completed: number;
      seconds: number;
      unanswered: number;
      cookieReplies: number;
      allUpMs: number | null;
    };
    const hs1 = (await gateway.stats()).handshakes;
    const rate = hs.completed / hs.seconds;
    ctx.log(`initiators: ${JSON.stringify(hs)}; gateway counters ${JSON.stringify(hs1)}`);

    const scaled = await throughput(`gateway with ${configured} peers, ${ACTIVE} active`);
    const rateLimited = hs1.rateLimited - hs0.rateLimited;
    rows.push(
      {
        group: GROUP,
        name: '1 peer, 1 stream',
        value: single.gbps,
        unit: 'Gbit/s',
        note: `AES-256-GCM; samples ${single.samples.map((s) => s.toFixed(2)).join(', ')}`,
      },
      {
        group: GROUP,
        name: `${configured} configured, ${ACTIVE} active, 1 stream`,
        value: scaled.gbps,
        unit: 'Gbit/s',
        ratio: { against: '1 peer', value: scaled.gbps / single.gbps },
        target: { min: 0.9, label: '≥ 90 % of 1 peer' },
        note: `samples ${scaled.samples.map((s) => s.toFixed(2)).join(', ')}; the other ${ACTIVE - 1} active peers hold sessions but send no data`,
      },
      {
        group: GROUP,
        name: 'raw X25519 + BLAKE2s',
        value: raw,
        unit: 'handshakes/s',
        note: 'one core, node:crypto on key objects made once: 1 key pair, 4 DH, 6 HKDF, 10 hashes per handshake',
      },
      {
        group: GROUP,
        name: 'X25519 as keys.ts does it (1 key pair + 4 DH)',
        value: viaKeysTs,
        unit: 'handshakes/s',
        ratio: { against: 'raw X25519 + BLAKE2s', value: viaKeysTs / raw },
        note: 'keys.ts imports each raw key once (as JWK, not DER) and keeps its key object; no HKDF or hashes here, so it may pass the raw handshake',
      },
      {
        group: GROUP,
        name: `handshakes completed, ${ACTIVE - 1} peers over UDP`,
        value: rate,
        unit: 'handshakes/s',
        ratio: { against: 'raw X25519 + BLAKE2s', value: rate / raw },
        target: { min: 0.5, label: '≥ 50 % of raw' },
        note: `${hs.completed} in ${hs.seconds.toFixed(1)} s; all up after ${hs.allUpMs ?? '—'} ms; ${hs.unanswered} unanswered, ${hs.cookieReplies} cookie replies, ${rateLimited} rate-limited at the gateway`,
      },
      {
        group: GROUP,
        name: 'memory per idle peer',
        value: perPeer / 1024,
        unit: 'KiB',
        target: { max: 4, label: '< 4 KiB' },
        note: `(${configured} − 1 peers) heap+external ${((after.node - before.node) / 1024).toFixed(0)} KiB, data path RSS ${((after.datapath - before.datapath) / 1024).toFixed(0)} KiB`,
      },
    );
    return rows;
  } finally {
    await tunnel?.stop();
    await gateway?.stop();
    undo();
    await pair.destroy();
  }
}
