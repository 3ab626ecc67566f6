// A client tunnel: the data path process, its TUN device and address, and the initiator.
// Routing apps into the TUN (fwmark rules) belongs to the policy engine: the TUN is one more egress.
import { availableParallelism } from 'node:os';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { LINKS_ONLY } from '../layout/kernel-layout.ts';
import { Reconciler } from '../reconcile/reconciler.ts';
import { TunnelConfig, type TunnelConfigInput } from './config.ts';
import { Datapath, type DatapathStats } from './datapath.ts';
import { CIPHER_AESGCM, CIPHER_CHACHA } from './handshake.ts';
import { Initiator } from './initiator.ts';
import { decodeKey, publicKeyOf } from './keys.ts';
import { DEFAULT_TIMERS, type TunnelTimers } from './timers.ts';

export interface RunningTunnel {
  readonly name: string;
  readonly datapath: Datapath;
  readonly initiator: Initiator;
  /** Resolves once the first handshake completed. */
  established(timeoutMs?: number): Promise<void>;
  stats(): Promise<DatapathStats>;
  stop(): Promise<void>;
}

export async function runTunnel(
  input: TunnelConfigInput,
  timers: Partial<TunnelTimers> = {},
): Promise<RunningTunnel> {
  const cfg = TunnelConfig.parse(input);
  const priv = decodeKey(cfg.privateKey, 'the tunnel private key');
  const ourStatic = { privateKey: priv, publicKey: publicKeyOf(priv) };
  const gatewayAddress = (await lookup(cfg.gateway.host)).address;
  const mtu = cfg.mtu ?? (isIPv4(gatewayAddress) ? 1419 : 1399);
  const dp = await Datapath.start({
    mode: 'client',
    tun: cfg.name,
    workers: cfg.workers ?? Math.min(availableParallelism(), 16),
    offload: cfg.offload,
    flowmark: true,
    netns: cfg.netns,
  });
  try {
    // The TUN lives as long as the data path: its settings need applying, never removing.
    const reconciler = new Reconciler({ layout: LINKS_ONLY, ...(cfg.netns ? { netns: cfg.netns } : {}) });
    await reconciler.apply({
      rules: [],
      routes: [],
      nft: null,
      sysctls: {},
      links: [{ name: cfg.name, mtu, up: true, addresses: cfg.address }],
    });
  } catch (e) {
    await dp.stop();
    throw e;
  }
  const endpoint = { address: gatewayAddress, port: cfg.gateway.port };
  dp.setStatic(ourStatic.publicKey); // responses' mac1 is checked in the data path, before us
  dp.setPeer({
    id: 1,
    endpoint,
    addresses: [
      { address: '0.0.0.0', prefixLength: 0 },
      { address: '::', prefixLength: 0 },
    ],
    rules: [],
  });
  dp.setTags(cfg.apps.map((a) => ({ tag: a.tag, policy: a.policyId, trafficClass: a.trafficClass })));
  const offer =
    cfg.cipher === 'chacha20poly1305'
      ? 1 << CIPHER_CHACHA
      : cfg.cipher === 'aes256gcm'
        ? 1 << CIPHER_AESGCM
        : (1 << CIPHER_CHACHA) | (dp.ready.aesAvailable ? 1 << CIPHER_AESGCM : 0);
  if (cfg.cipher === 'aes256gcm' && !dp.ready.aesAvailable) {
    await dp.stop();
    throw new Error(
      'this CPU has no AES-NI, so AES-256-GCM is unavailable; use cipher "auto" or "chacha20poly1305"',
    );
  }
  const initiator = new Initiator(dp, {
    ourStatic,
    peerStatic: decodeKey(cfg.gatewayPublicKey, 'the gateway public key'),
    endpoint,
    peerId: 1,
    cipherOffer: offer,
    timers: { ...DEFAULT_TIMERS, ...timers },
  });
  // A data path that dies takes the TUN with it; stop handshaking into the void.
  dp.on('exit', () => initiator.stop());
  initiator.handshake();
  return {
    name: cfg.name,
    datapath: dp,
    initiator,
    established(timeoutMs = 10_000) {
      if (initiator.session) return Promise.resolve();
      return new Promise((res, rej) => {
        const t = setTimeout(
          () => rej(new Error(`tunnel ${cfg.name}: no handshake with the gateway within ${timeoutMs} ms`)),
          timeoutMs,
        );
        initiator.once('established', () => {
          clearTimeout(t);
          res();
        });
      });
    },
    stats: () => dp.stats(),
    async stop() {
      initiator.stop();
      await dp.stop();
    },
  };
}
