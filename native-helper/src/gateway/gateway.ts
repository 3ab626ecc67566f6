// `switchyard gateway`: terminate client tunnels, check each packet's app metadata against the
// peer's allowed apps, account per peer + app tag + policy id, forward with NAT.
import { availableParallelism } from 'node:os';
import { run } from '../mechanism/exec.ts';
import { Datapath, parseCidr, type DatapathStats } from '../tunnel/datapath.ts';
import { decodeKey, publicKeyOf } from '../tunnel/keys.ts';
import { DEFAULT_TIMERS, type TunnelTimers } from '../tunnel/timers.ts';
import { parseGatewayConfig, type GatewayConfig, type GatewayConfigInput } from './config.ts';
import { installNat, removeNat } from './nat.ts';
import { Responder, type ResponderCounters } from './responder.ts';

export interface AccountingRow {
  peer: string;
  tag: number;
  policyId: number;
  packets: number;
  bytes: number;
}

export interface GatewayStats {
  counters: Record<string, number>;
  handshakes: ResponderCounters;
  accounting: AccountingRow[];
}

export interface RunningGateway {
  readonly config: GatewayConfig;
  readonly datapath: Datapath;
  readonly port: number;
  stats(): Promise<GatewayStats>;
  stop(): Promise<void>;
}

export async function runGateway(input: GatewayConfigInput | GatewayConfig, timers: Partial<TunnelTimers> = {}): Promise<RunningGateway> {
  const cfg = parseGatewayConfig(input);
  const priv = decodeKey(cfg.privateKey, 'the gateway private key');
  const ourStatic = { privateKey: priv, publicKey: publicKeyOf(priv) };
  const ip = (argv: string[]) => (cfg.netns ? ['ip', '-n', cfg.netns, ...argv.slice(1)] : argv);
  const dp = await Datapath.start({
    mode: 'gateway',
    tun: cfg.tunName,
    port: cfg.listenPort,
    workers: cfg.workers ?? Math.min(availableParallelism(), 16),
    offload: cfg.offload,
    netns: cfg.netns,
  });
  try {
    await run(ip(['ip', 'link', 'set', 'dev', cfg.tunName, 'mtu', String(cfg.mtu), 'up']));
    await run(ip(['ip', 'addr', 'add', cfg.address, 'dev', cfg.tunName]));
    await installNat({
      instance: cfg.instance,
      tun: cfg.tunName,
      uplinks: cfg.uplinks.map((u) => u.interface),
      netns: cfg.netns,
      enableForwarding: cfg.enableForwarding,
    });
  } catch (e) {
    await dp.stop();
    await removeNat(cfg.instance, cfg.netns);
    throw e;
  }
  const peers = cfg.peers.map((p, i) => ({ id: i + 1, name: p.name, publicKey: decodeKey(p.publicKey, `peer ${p.name}'s key`) }));
  cfg.peers.forEach((p, i) =>
    dp.setPeer({
      id: i + 1,
      endpoint: null,
      addresses: p.addresses.map(parseCidr),
      rules: p.apps.map((a) => ({ tag: a.tag, allow: a.allow.map(parseCidr) })),
    }),
  );
  const responder = new Responder(dp, ourStatic, peers, { ...DEFAULT_TIMERS, ...timers }, cfg.preferAes);
  const nameOf = (id: number) => peers[id - 1]?.name ?? `#${id}`;
  return {
    config: cfg,
    datapath: dp,
    port: dp.ready.port,
    async stats() {
      const s: DatapathStats = await dp.stats();
      return {
        counters: s.counters,
        handshakes: { ...responder.counters },
        accounting: s.accounting.map((a) => ({ peer: nameOf(a.peer), tag: a.tag, policyId: a.policy, packets: a.packets, bytes: a.bytes })),
      };
    },
    async stop() {
      responder.stop();
      await dp.stop();
      await removeNat(cfg.instance, cfg.netns);
    },
  };
}
