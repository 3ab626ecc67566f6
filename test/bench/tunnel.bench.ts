// The Switchyard tunnel on the anchors' kind of namespace pair: TCP throughput (1 and 4 iperf3
// streams) and machine CPU per Gbit/s, per cipher, with the ratio to this run's wireguard-go; how
// many packets carried a kernel-mark tag; and a longer fuzz run of the packet parsers.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { runGateway, type RunningGateway } from '../../native-helper/src/gateway/gateway.ts';
import { runTunnel, type RunningTunnel } from '../../native-helper/src/tunnel/tunnel.ts';
import { genkey, pubkey } from '../../native-helper/src/tunnel/keys.ts';
import {
  type BenchContext,
  type BenchRow,
  type ThroughputResult,
  measureThroughput,
  median,
  startIperf3Server,
  throughputPlan,
} from './harness.ts';
import { tunnelFloor } from './floors.ts';
import { createNetnsPair, inNs } from './netns-pair.ts';

const TAG = 0x0b0b;
const POLICY = 77;
const MARK = ((0x5a << 24) | (1 << 16) | TAG) >>> 0;
const CLIENT_TUN = '198.19.60.2';
const GATEWAY_TUN = '198.19.60.1';
const FUZZ = resolve(dirname(fileURLToPath(import.meta.url)), '../../native-helper/fuzz/run.sh');

type Cipher = 'aes256gcm' | 'chacha20poly1305';
/** The library whose AEAD the data path runs (native/datapath/crypto.c): the floor uses the same. */
const DATA_AEAD_LIB = 'libcrypto';

export async function benchTunnel(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const ciphers: Cipher[] = ctx.quick ? ['aes256gcm'] : ['aes256gcm', 'chacha20poly1305'];
  for (const cipher of ciphers) rows.push(...(await benchCipher(ctx, cipher)));
  rows.push(await benchFuzz(ctx));
  return rows;
}

async function benchCipher(ctx: BenchContext, cipher: Cipher): Promise<BenchRow[]> {
  const pair = await createNetnsPair(ctx, { label: 'tunnel', subnet24: '198.18.60' });
  const keys = { gateway: genkey(), client: genkey() };
  let gateway: RunningGateway | undefined;
  let tunnel: RunningTunnel | undefined;
  const undo = ctx.defer('switchyard tunnel and gateway', async () => {
    await tunnel?.stop();
    await gateway?.stop();
  });
  try {
    gateway = await runGateway({
      instance: `${ctx.prefix}b`,
      privateKey: keys.gateway,
      listenPort: 51820,
      tunName: ctx.uniqueName('gw'),
      address: `${GATEWAY_TUN}/24`,
      uplinks: [{ name: 'lan', interface: pair.vethB }],
      enableForwarding: false,
      netns: pair.b,
      peers: [
        {
          name: 'bench',
          publicKey: pubkey(keys.client),
          addresses: [`${CLIENT_TUN}/32`],
          apps: [{ tag: TAG, allow: [`${GATEWAY_TUN}/32`] }],
        },
      ],
    });
    const tunName = ctx.uniqueName('tun');
    tunnel = await runTunnel({
      name: tunName,
      privateKey: keys.client,
      gateway: { host: pair.addrB, port: gateway.port },
      gatewayPublicKey: pubkey(keys.gateway),
      address: `${CLIENT_TUN}/32`,
      cipher,
      apps: [{ tag: TAG, policyId: POLICY }],
      netns: pair.a,
    });
    // iperf3 cannot set SO_MARK, so an output route chain marks its packets as the tagger would mark
    // its socket; the kernel reroutes on the mark and the tc program reads skb->mark as usual.
    await run(inNs(pair.a, ['nft', '-f', '-']), {
      input: `table ip sybench {\n chain out {\n type route hook output priority mangle;\n ip daddr ${GATEWAY_TUN} meta mark set ${MARK}\n }\n}\n`,
    });
    await run(['ip', '-n', pair.a, '-batch', '-'], {
      // The main-table route only lets connect() pick a route before any packet carries the mark.
      input: `rule add fwmark ${MARK} lookup 160 pref 160\nroute add default dev ${tunName} table 160\nroute add ${GATEWAY_TUN}/32 dev ${tunName}\n`,
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
    const server = await startIperf3Server(ctx, pair.b);
    const rows: BenchRow[] = [];
    for (const streams of [1, 4]) {
      const r = await measureThroughput(ctx, {
        clientNs: pair.a,
        serverAddr: GATEWAY_TUN,
        streams,
        label: `switchyard ${cipher}`,
      });
      const wg = ctx.anchors.find((a) => a.anchor === 'wireguard-go' && a.streams === streams);
      const name = `switchyard ${cipher}, ${streams} stream${streams > 1 ? 's' : ''}`;
      rows.push({
        group: 'tunnel',
        name,
        value: r.gbps,
        unit: 'Gbit/s',
        ...(wg && wg.gbps > 0 ? { ratio: { against: 'wireguard-go', value: r.gbps / wg.gbps } } : {}),
        // Issue 16's goal for the default cipher.
        ...(cipher === 'aes256gcm' ? { target: { min: 8, label: '≥ 8× wireguard-go' } } : {}),
        note: `samples ${r.samples.map((s) => s.toFixed(2)).join(', ')}`,
      });
      // The floor: veth's own CPU per Gbit plus one seal and one open per packet with the library the
      // data path uses (libcrypto, crypto.c), measured in this run (floors.ts).
      const floor = await tunnelFloor(ctx, DATA_AEAD_LIB, cipher, streams);
      rows.push({
        group: 'tunnel',
        name: `${name}, CPU`,
        value: r.cpuSecondsPerGbit,
        unit: 'CPU s/Gbit',
        ...(floor
          ? {
              ratio: {
                against: `the tunnel floor (veth + ${DATA_AEAD_LIB} seal/open)`,
                value: r.cpuSecondsPerGbit / floor,
              },
            }
          : {}),
        target: { max: 1.3, label: '≤ 1.3× the floor' },
        ...(floor ? { note: `floor ${floor.toFixed(3)} CPU s/Gbit` } : {}),
      });
    }
    if (cipher === 'aes256gcm') rows.push(...(await benchGroups(ctx, pair.a, gateway, tunnel, keys.client)));
    await server.stop();
    const dp = await tunnel.stats();
    const gw = await gateway.stats();
    const tagged = dp.counters.txPackets! - dp.counters.txUntagged!;
    rows.push({
      group: 'tunnel',
      name: `switchyard ${cipher}, packets tagged from the kernel mark`,
      value: dp.counters.txPackets ? (100 * tagged) / dp.counters.txPackets : NaN,
      unit: '%',
      note: `${tagged} of ${dp.counters.txPackets}; gateway accounted ${gw.accounting.find((a) => a.tag === TAG)?.packets ?? 0} packets for tag ${TAG}`,
    });
    return rows;
  } finally {
    await tunnel?.stop();
    await gateway?.stop();
    undo();
    await pair.destroy();
  }
}

/**
 * Key groups: 4 iperf3 streams, their packets marked by a hash of the source port into 4 tags (what
 * 4 apps' flow classes would be), first all in one group's session, then each tag in a group of its
 * own (4 sessions, 4 receiver indexes, the gateway checking each group's tags).
 */
async function benchGroups(
  ctx: BenchContext,
  clientNs: string,
  gateway: RunningGateway,
  tunnel: RunningTunnel,
  clientKey: string,
): Promise<BenchRow[]> {
  const tags = [0, 1, 2, 3].map((i) => TAG + 1 + i);
  const markOf = (tag: number) => ((0x5a << 24) | (1 << 16) | tag) >>> 0;
  const app = (tag: number) => ({ tag, allow: [`${GATEWAY_TUN}/32`] });
  await gateway.setPeer({
    name: 'bench',
    publicKey: pubkey(clientKey),
    addresses: [`${CLIENT_TUN}/32`],
    apps: [app(TAG)],
    groups: [
      { name: 'g0', apps: tags.map(app) },
      ...tags.slice(1).map((t, i) => ({ name: `g${i + 1}`, apps: [app(t)] })),
    ],
  });
  tunnel.setGroups(['g0', 'g1', 'g2', 'g3']);
  for (let i = 0; i < 150 && !tunnel.groups().every((g) => g.established); i++)
    await new Promise((r) => setTimeout(r, 100));
  await run(inNs(clientNs, ['nft', '-f', '-']), {
    input: `flush table ip sybench\ntable ip sybench {\n chain out {\n type route hook output priority mangle;\n ip daddr ${GATEWAY_TUN} meta mark set jhash tcp sport mod 4 map { ${tags.map((t, i) => `${i} : ${markOf(t)}`).join(', ')} }\n }\n}\n`,
  });
  await run(['ip', '-n', clientNs, '-batch', '-'], {
    input: tags.map((t, i) => `rule add fwmark ${markOf(t)} lookup 160 pref ${161 + i}`).join('\n') + '\n',
  });
  const policy = (group: (i: number) => string) =>
    tunnel.setTags([
      { tag: TAG, policy: POLICY, trafficClass: 0 },
      ...tags.map((tag, i) => ({ tag, policy: POLICY, trafficClass: 0, group: group(i) })),
    ]);
  // Alternated, one run of each per round, and compared round by round: a machine whose speed drifts
  // (other work, turbo) moves both sides of each pair alike.
  const plan = { ...throughputPlan(ctx.quick), runs: 1 };
  const rounds = ctx.quick ? 1 : 5;
  const runs = { one: [] as ThroughputResult[], four: [] as ThroughputResult[] };
  for (let i = 0; i < rounds; i++)
    for (const [key, group] of [
      ['one', () => 'g0'],
      ['four', (n: number) => `g${n}`],
    ] as const) {
      policy(group);
      const label = `${key === 'one' ? '1 key group' : '4 key groups'}, round ${i + 1}/${rounds}`;
      runs[key].push(
        await measureThroughput(ctx, { clientNs, serverAddr: GATEWAY_TUN, streams: 4, label, plan }),
      );
    }
  const gbps = (rs: ThroughputResult[]) => median(rs.map((r) => r.gbps));
  const cpu = (rs: ThroughputResult[]) => median(rs.map((r) => r.cpuSecondsPerGbit));
  const paired = median(runs.four.map((r, i) => r.gbps / runs.one[i]!.gbps));
  const wg = ctx.anchors.find((a) => a.anchor === 'wireguard-go' && a.streams === 4);
  const samples = (rs: ThroughputResult[]) => rs.map((r) => r.gbps.toFixed(2)).join(', ');
  const rows: BenchRow[] = [
    {
      group: 'tunnel',
      name: 'switchyard aes256gcm, 4 streams in 1 key group',
      value: gbps(runs.one),
      unit: 'Gbit/s',
      ratio: { against: 'wireguard-go', value: wg && wg.gbps > 0 ? gbps(runs.one) / wg.gbps : NaN },
      note: `samples ${samples(runs.one)}; ${cpu(runs.one).toFixed(2)} CPU s/Gbit`,
    },
    {
      group: 'tunnel',
      name: 'switchyard aes256gcm, 4 streams in 4 key groups',
      value: gbps(runs.four),
      unit: 'Gbit/s',
      ratio: { against: 'the same 4 streams in 1 key group, median of paired rounds', value: paired },
      target: { min: 0.9, label: 'groups cost ≤ 10 %' },
      note: `samples ${samples(runs.four)}; ${cpu(runs.four).toFixed(2)} CPU s/Gbit (1 group: ${cpu(runs.one).toFixed(2)})`,
    },
  ];
  const s = await gateway.stats();
  const perGroup = tags.map((t) => s.accounting.find((a) => a.tag === t)?.packets ?? 0);
  rows.push({
    group: 'tunnel',
    name: 'switchyard key groups: packets per group at the gateway',
    value: perGroup.filter((n) => n > 0).length,
    unit: 'groups used',
    note: perGroup.join(' / '),
  });
  return rows;
}

async function benchFuzz(ctx: BenchContext): Promise<BenchRow> {
  const seconds = ctx.quick ? 30 : 300;
  const r = await run([FUZZ, String(seconds)], {
    allowFailure: true,
    timeoutMs: (seconds + 120) * 1000,
    env: { ...process.env, FUZZ_OUT: `${ctx.tmpdir}/fuzz` },
  });
  const runs = /Done (\d+) runs/.exec(r.stderr)?.[1];
  return {
    group: 'tunnel',
    name: `fuzz packet parsers (${seconds} s, libFuzzer + ASan/UBSan)`,
    value: runs ? Number(runs) : NaN,
    unit: 'executions',
    status: r.code === 0 && runs ? 'ok' : 'failed',
    note:
      r.code === 0
        ? 'no crash'
        : `crash or build failure: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`,
  };
}
