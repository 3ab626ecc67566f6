// The anchors every Switchyard number is compared against, measured in the same run on one namespace
// pair: plain veth, Debian's wireguard-go (userspace), Debian's OpenVPN (AES-256-GCM, userspace, no DCO).
// Each tunnel is brought up only for its own measurement so idle daemons never share the CPU.
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { run, output } from '../../native-helper/src/mechanism/exec.ts';
import {
  type AnchorName,
  type AnchorResult,
  type BackgroundProcess,
  type BenchContext,
  type BenchRow,
  type ThroughputResult,
  anchorRowName,
  cpuRatio,
  cpuTimeOf,
  exists,
  machineCpu,
  measureThroughput,
  startBackground,
  startIperf3Server,
  tail,
  throughputRatio,
  throughputRows,
  waitFor,
} from './harness.ts';
import { type NetnsPair, createNetnsPair, inNs } from './netns-pair.ts';

export const ANCHOR_STREAMS = [1, 4] as const;
const WG_SUBNET = '198.18.1';
const OVPN_SUBNET = '198.18.2';
const WG_PORT = 51820;
const OVPN_PORT = 1194;
const WG_SOCKET_DIR = '/var/run/wireguard';

export interface AnchorOutcome {
  results: AnchorResult[];
  rows: BenchRow[];
  /** Anchors that could not be measured (their rows carry the error). */
  failed: AnchorName[];
}

/** A tunnel brought up across the pair: the address to reach B through it, and its daemons. */
interface Tunnel {
  serverAddr: string;
  daemons: BackgroundProcess[];
  stop(): Promise<void>;
}

export async function measureAnchors(ctx: BenchContext): Promise<AnchorOutcome> {
  const pair = await createNetnsPair(ctx, { label: 'anchor' });
  await startIperf3Server(ctx, pair.b);
  const outcome: AnchorOutcome = { results: [], rows: [], failed: [] };

  const anchors: { name: AnchorName; up: () => Promise<Tunnel> }[] = [
    { name: 'veth', up: async () => ({ serverAddr: pair.addrB, daemons: [], stop: async () => {} }) },
    { name: 'wireguard-go', up: () => wireguardGo(ctx, pair) },
    { name: 'openvpn', up: () => openvpn(ctx, pair) },
  ];
  for (const anchor of anchors) {
    if (ctx.signal.aborted) break;
    let tunnel: Tunnel | undefined;
    try {
      tunnel = await anchor.up();
      for (const streams of ANCHOR_STREAMS) {
        const { result, daemonShare } = await measureWithDaemons(ctx, pair, tunnel, anchor.name, streams);
        outcome.results.push({
          anchor: anchor.name,
          streams,
          gbps: result.gbps,
          cpuSecondsPerGbit: result.cpuSecondsPerGbit,
          samples: result.samples,
        });
        const rows = throughputRows(
          'anchors',
          anchorRowName(anchor.name, streams),
          result,
          anchor.name === 'veth'
            ? {}
            : {
                gbps: throughputRatio(outcome.results, 'veth', streams, result.gbps),
                cpu: cpuRatio(outcome.results, 'veth', streams, result.cpuSecondsPerGbit),
              },
        );
        if (daemonShare !== undefined)
          rows[1]!.note += `; ${anchor.name} daemons ${(daemonShare * 100).toFixed(0)}% of it`;
        outcome.rows.push(...rows);
      }
    } catch (err) {
      const message = (err as Error).message;
      ctx.log(`anchor ${anchor.name} failed: ${message}`);
      outcome.failed.push(anchor.name);
      outcome.rows.push({
        group: 'anchors',
        name: anchor.name,
        value: NaN,
        unit: '',
        note: message,
        status: 'failed',
      });
    } finally {
      await tunnel?.stop();
    }
  }
  return outcome;
}

/** measureThroughput plus the share of machine CPU spent in the tunnel daemons (cpuTimeOf). */
async function measureWithDaemons(
  ctx: BenchContext,
  pair: NetnsPair,
  tunnel: Tunnel,
  name: AnchorName,
  streams: number,
): Promise<{ result: ThroughputResult; daemonShare: number | undefined }> {
  const daemonCpu = async () =>
    (await Promise.all(tunnel.daemons.map((d) => cpuTimeOf(d.pid)))).reduce((s, x) => s + x, 0);
  const [d0, m0] = [await daemonCpu(), await machineCpu()];
  const result = await measureThroughput(ctx, {
    clientNs: pair.a,
    serverAddr: tunnel.serverAddr,
    streams,
    label: name,
  });
  const [d1, m1] = [await daemonCpu(), await machineCpu()];
  for (const d of tunnel.daemons) {
    if (!(await d.alive()))
      throw new Error(`${d.argv.join(' ')} died during the measurement: ${await tail(d.logFile)}`);
  }
  const machine = m1.busySeconds - m0.busySeconds;
  return { result, daemonShare: tunnel.daemons.length && machine > 0 ? (d1 - d0) / machine : undefined };
}

async function stopAll(daemons: readonly BackgroundProcess[]): Promise<void> {
  await Promise.all(daemons.map((d) => d.stop()));
}

// ---------- wireguard-go ----------

async function wireguardGo(ctx: BenchContext, pair: NetnsPair): Promise<Tunnel> {
  const dir = `${ctx.tmpdir}/wireguard-go`;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The UAPI socket lives in the host's /var/run/wireguard whatever the namespace, so interface names
  // must be unique to the run (two "wg0" in two namespaces would collide there).
  const sides = [
    { ns: pair.a, ifname: ctx.uniqueName('wg'), addr: `${WG_SUBNET}.1`, endpoint: pair.addrA },
    { ns: pair.b, ifname: ctx.uniqueName('wg'), addr: `${WG_SUBNET}.2`, endpoint: pair.addrB },
  ];
  const keys = await Promise.all(
    sides.map(async (s) => {
      const privateKey = (await output(['wg', 'genkey'])).trim();
      const publicKey = (await output(['wg', 'pubkey'], { input: `${privateKey}\n` })).trim();
      const keyFile = `${dir}/${s.ifname}.key`;
      await writeFile(keyFile, `${privateKey}\n`, { mode: 0o600 });
      return { keyFile, publicKey };
    }),
  );
  const daemons: BackgroundProcess[] = [];
  const socketDirExisted = await exists(WG_SOCKET_DIR);
  const stop = async () => {
    await stopAll(daemons);
    // wireguard-go removes its socket on SIGTERM; after a SIGKILL it would linger.
    for (const s of sides) await rm(`${WG_SOCKET_DIR}/${s.ifname}.sock`, { force: true });
    // Leave no trace: drop the directory wireguard-go made, unless someone else's sockets are in it.
    if (!socketDirExisted) await rmdir(WG_SOCKET_DIR).catch(() => {});
  };
  try {
    for (const [i, s] of sides.entries()) {
      const peer = sides[1 - i]!;
      const d = await startBackground(
        ctx,
        inNs(s.ns, ['wireguard-go', '-f', s.ifname]),
        `${dir}/${s.ifname}.log`,
      );
      daemons.push(d);
      await waitFor(`wireguard-go to create ${s.ifname} in ${s.ns} (log: ${d.logFile})`, async () => {
        if (!(await d.alive())) throw new Error(`wireguard-go exited: ${await tail(d.logFile)}`);
        return exists(`${WG_SOCKET_DIR}/${s.ifname}.sock`);
      });
      await run(inNs(s.ns, [
        'wg', 'set', s.ifname, 'private-key', keys[i]!.keyFile, 'listen-port', String(WG_PORT),
        'peer', keys[1 - i]!.publicKey, 'endpoint', `${peer.endpoint}:${WG_PORT}`, 'allowed-ips', `${peer.addr}/32`,
      ])); // prettier-ignore
      await run(['ip', '-n', s.ns, 'addr', 'add', `${s.addr}/24`, 'dev', s.ifname]);
      await run(['ip', '-n', s.ns, 'link', 'set', s.ifname, 'up']);
    }
    // First packets trigger the handshake; do it before timing starts.
    await run(inNs(pair.a, ['ping', '-c', '3', '-i', '0.2', '-W', '2', sides[1]!.addr]));
    const mtu = (await output(['ip', '-n', pair.a, '-o', 'link', 'show', sides[0]!.ifname])).match(
      /mtu (\d+)/,
    )?.[1];
    ctx.log(`wireguard-go up: ${sides[0]!.ifname} ↔ ${sides[1]!.ifname}, mtu ${mtu ?? '?'}`);
    return { serverAddr: sides[1]!.addr, daemons, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------- OpenVPN ----------

/** A throwaway CA with one server and one client certificate (EC P-256), valid 2 days. */
async function makeCertificates(dir: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await run(['openssl', 'version']);
  } catch {
    throw new Error(
      'openssl is not installed; install the Debian package "openssl" to run the OpenVPN anchor.',
    );
  }
  await run([
    'openssl', 'req', '-x509', ...ec, '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.crt`, '-days', '2',
    '-subj', '/CN=switchyard-bench-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]); // prettier-ignore
  for (const [who, usage] of [
    ['server', 'serverAuth'],
    ['client', 'clientAuth'],
  ] as const) {
    await writeFile(
      `${dir}/${who}.ext`,
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${usage}\n`,
    );
    await run([
      'openssl',
      'req',
      ...ec,
      '-keyout',
      `${dir}/${who}.key`,
      '-out',
      `${dir}/${who}.csr`,
      '-subj',
      `/CN=${who}`,
    ]);
    await run([
      'openssl', 'x509', '-req', '-in', `${dir}/${who}.csr`, '-CA', `${dir}/ca.crt`, '-CAkey', `${dir}/ca.key`,
      '-CAcreateserial', '-out', `${dir}/${who}.crt`, '-days', '2', '-extfile', `${dir}/${who}.ext`,
    ]); // prettier-ignore
  }
}

async function openvpn(ctx: BenchContext, pair: NetnsPair): Promise<Tunnel> {
  const dir = `${ctx.tmpdir}/openvpn`;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await makeCertificates(dir);
  // Point-to-point over UDP in TLS mode (2.6 needs TLS for GCM); B is the TLS server.
  const sides = [
    { ns: pair.a, ifname: ctx.uniqueName('ov'), role: 'client', local: pair.addrA, remote: pair.addrB, addr: `${OVPN_SUBNET}.1`, peer: `${OVPN_SUBNET}.2` },
    { ns: pair.b, ifname: ctx.uniqueName('ov'), role: 'server', local: pair.addrB, remote: pair.addrA, addr: `${OVPN_SUBNET}.2`, peer: `${OVPN_SUBNET}.1` },
  ] as const; // prettier-ignore
  const daemons: BackgroundProcess[] = [];
  const stop = () => stopAll(daemons);
  try {
    for (const s of sides) {
      const argv = inNs(s.ns, [
        'openvpn', '--proto', 'udp', '--local', s.local, '--lport', String(OVPN_PORT),
        '--remote', s.remote, String(OVPN_PORT),
        '--dev', s.ifname, '--dev-type', 'tun', '--ifconfig', s.addr, s.peer,
        `--tls-${s.role}`, '--ca', `${dir}/ca.crt`, '--cert', `${dir}/${s.role}.crt`, '--key', `${dir}/${s.role}.key`,
        '--remote-cert-tls', s.role === 'server' ? 'client' : 'server',
        ...(s.role === 'server' ? ['--dh', 'none'] : []),
        '--data-ciphers', 'AES-256-GCM', '--data-ciphers-fallback', 'AES-256-GCM',
        // Userspace data path on purpose: the anchor is "Debian's OpenVPN", not a kernel offload.
        '--disable-dco', '--verb', '3',
      ]); // prettier-ignore
      daemons.push(await startBackground(ctx, argv, `${dir}/${s.role}.log`));
    }
    for (const d of daemons) {
      await waitFor(
        `OpenVPN to finish its handshake (log: ${d.logFile})`,
        async () => {
          if (!(await d.alive())) throw new Error(`openvpn exited: ${await tail(d.logFile)}`);
          return (await tail(d.logFile, 1000)).includes('Initialization Sequence Completed');
        },
        30_000,
      );
      const log = await tail(d.logFile, 1000);
      const cipher = log.match(/Data Channel: [Cc]ipher '([^']+)'/)?.[1];
      if (cipher !== 'AES-256-GCM') {
        throw new Error(
          `OpenVPN negotiated data cipher ${cipher ?? '(none found)'}, not AES-256-GCM (log: ${d.logFile}).`,
        );
      }
    }
    await run(inNs(pair.a, ['ping', '-c', '3', '-i', '0.2', '-W', '2', sides[1].addr]));
    ctx.log(`OpenVPN up: ${sides[0].ifname} ↔ ${sides[1].ifname}, data cipher AES-256-GCM`);
    return { serverAddr: sides[1].addr, daemons, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
