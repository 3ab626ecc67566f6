// The crypto floor of a tunnel, measured in this run: floors/aead-floor.c times one seal plus one open
// of a 1,408-byte packet on one core (libsodium and OpenSSL libcrypto, AES-256-GCM and
// ChaCha20-Poly1305), and the tunnel floor adds veth's own CPU per Gbit (the veth anchor) to it.
// tunnel.bench.ts compares against tunnelFloor(); the numbers are measured once per run and shared.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { type AnchorResult, type BenchContext, type BenchRow, anchorOf, CPU_PER_GBIT } from './harness.ts';

export type FloorLibrary = 'libsodium' | 'libcrypto';
export type FloorCipher = 'aes256gcm' | 'chacha20poly1305';

export interface AeadFloor {
  lib: FloorLibrary;
  cipher: FloorCipher;
  /** CPU seconds to seal and open one Gbit of 1,408-byte packets on one core. */
  sealOpenCpuSecondsPerGbit: number;
  /** Seal+open throughput of one core (half what one core encrypts alone). */
  sealOpenGbps: number;
}

export interface AeadFloors {
  versions: { libsodium: string; libcrypto: string };
  floors: AeadFloor[];
  /** Cases the program could not measure (e.g. no AES-NI for libsodium's AES-GCM), with why. */
  errors: string[];
}

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'floors', 'aead-floor.c');
export const FLOOR_PACKET_BYTES = 1408;

/** Parses the program's JSON lines: one versions line, then one line per library and cipher. */
export function parseAeadFloorOutput(text: string): AeadFloors {
  const out: AeadFloors = { versions: { libsodium: '?', libcrypto: '?' }, floors: [], errors: [] };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.libsodium === 'string' && typeof o.libcrypto === 'string')
      out.versions = { libsodium: o.libsodium, libcrypto: o.libcrypto };
    else if (typeof o.error === 'string') out.errors.push(`${String(o.lib)} ${String(o.cipher)}: ${o.error}`);
    else if (typeof o.sealOpenCpuSecondsPerGbit === 'number' && typeof o.sealOpenGbps === 'number')
      out.floors.push({
        lib: o.lib as FloorLibrary,
        cipher: o.cipher as FloorCipher,
        sealOpenCpuSecondsPerGbit: o.sealOpenCpuSecondsPerGbit,
        sealOpenGbps: o.sealOpenGbps,
      });
  }
  if (!out.floors.length) throw new Error(`aead-floor measured nothing: ${text.trim().slice(0, 300)}`);
  return out;
}

const measured = new Map<string, Promise<AeadFloors>>();

/** Builds and runs aead-floor once per run (keyed by the run's prefix); later calls get the same numbers. */
export function measureAeadFloors(ctx: Pick<BenchContext, 'prefix' | 'quick' | 'tmpdir' | 'log'>) {
  let p = measured.get(ctx.prefix);
  if (!p) {
    p = (async () => {
      const bin = join(ctx.tmpdir, 'aead-floor');
      const cc = await run(['cc', '-O2', '-o', bin, SOURCE, '-lsodium', '-lcrypto'], { allowFailure: true });
      if (cc.code !== 0)
        throw new Error(
          `could not build floors/aead-floor.c (needs cc, libsodium-dev, libssl-dev): ${cc.stderr.trim().slice(0, 300)}`,
        );
      const seconds = ctx.quick ? 0.5 : 2;
      const res = await run([bin, String(seconds)], { timeoutMs: 60_000 });
      const floors = parseAeadFloorOutput(res.stdout);
      ctx.log(
        floors.floors
          .map((f) => `${f.lib} ${f.cipher}: ${f.sealOpenCpuSecondsPerGbit.toFixed(3)} CPU-s/Gbit seal+open`)
          .join('; '),
      );
      return floors;
    })();
    measured.set(ctx.prefix, p);
  }
  return p;
}

/**
 * The tunnel floor in CPU-s/Gbit: veth's CPU per Gbit at this stream count (this run's veth anchor)
 * plus one seal and one open per packet with this library and cipher. Undefined when either part
 * was not measured.
 */
export function tunnelFloorOf(
  anchors: readonly AnchorResult[],
  aead: AeadFloors,
  lib: FloorLibrary,
  cipher: FloorCipher,
  streams: number,
): number | undefined {
  const veth = anchorOf(anchors, 'veth', streams);
  const f = aead.floors.find((x) => x.lib === lib && x.cipher === cipher);
  if (!veth || !f || !(veth.cpuSecondsPerGbit > 0)) return undefined;
  return veth.cpuSecondsPerGbit + f.sealOpenCpuSecondsPerGbit;
}

/** For tunnel.bench.ts: this run's tunnel floor (measuring the AEAD part now if nothing has yet). */
export async function tunnelFloor(
  ctx: BenchContext,
  lib: FloorLibrary,
  cipher: FloorCipher,
  streams: number,
): Promise<number | undefined> {
  return tunnelFloorOf(ctx.anchors, await measureAeadFloors(ctx), lib, cipher, streams);
}

export function floorRowName(lib: FloorLibrary, cipher: FloorCipher, streams: number): string {
  return `tunnel floor, ${lib} ${cipher}, ${streams} stream${streams === 1 ? '' : 's'}`;
}

/** Rows: the AEAD cost per library and cipher, then the tunnel floor per stream count. */
export function floorRows(anchors: readonly AnchorResult[], aead: AeadFloors): BenchRow[] {
  const group = 'floors';
  const rows: BenchRow[] = [];
  for (const f of aead.floors)
    rows.push({
      group,
      name: `${f.lib} ${f.cipher}, seal+open`,
      value: f.sealOpenCpuSecondsPerGbit,
      unit: CPU_PER_GBIT,
      note: `one core, ${FLOOR_PACKET_BYTES}-byte packets: ${f.sealOpenGbps.toFixed(2)} Gbit/s sealed and opened; ${aead.versions[f.lib]}`,
      status: 'ok',
    });
  for (const e of aead.errors)
    rows.push({ group, name: e.split(':')[0]!, value: NaN, unit: '', note: e, status: 'not available' });
  for (const streams of [1, 4])
    for (const f of aead.floors) {
      const floor = tunnelFloorOf(anchors, aead, f.lib, f.cipher, streams);
      const veth = anchorOf(anchors, 'veth', streams);
      rows.push({
        group,
        name: floorRowName(f.lib, f.cipher, streams),
        value: floor ?? NaN,
        unit: CPU_PER_GBIT,
        note:
          floor === undefined
            ? 'no veth anchor in this run'
            : `veth ${veth!.cpuSecondsPerGbit.toFixed(3)} + seal+open ${f.sealOpenCpuSecondsPerGbit.toFixed(3)}`,
        status: floor === undefined ? 'not available' : 'ok',
      });
    }
  return rows;
}

/** The `floors` bench module. */
export async function benchFloors(ctx: BenchContext): Promise<BenchRow[]> {
  return floorRows(ctx.anchors, await measureAeadFloors(ctx));
}
