import { describe, expect, it } from 'vitest';
import type { AnchorResult } from './harness.ts';
import { floorRows, parseAeadFloorOutput, tunnelFloorOf } from './floors.ts';

const OUTPUT = [
  '{"libsodium":"1.0.18","libcrypto":"OpenSSL 3.0.22 25 Aug 2026"}',
  '{"lib":"libsodium","cipher":"aes256gcm","packets":209000,"cpuSeconds":0.5,"sealOpenCpuSecondsPerGbit":0.2126,"sealOpenGbps":4.7}',
  '{"lib":"libsodium","cipher":"chacha20poly1305","error":"open failed"}',
  '{"lib":"libcrypto","cipher":"aes256gcm","packets":206000,"cpuSeconds":0.5,"sealOpenCpuSecondsPerGbit":0.16,"sealOpenGbps":6.2}',
  '',
].join('\n');

const veth = (streams: number, cpu: number): AnchorResult => ({
  anchor: 'veth',
  streams,
  gbps: 40,
  cpuSecondsPerGbit: cpu,
  samples: [40],
});

describe('the AEAD floor', () => {
  const aead = parseAeadFloorOutput(OUTPUT);
  it('reads versions, measured cases and errors from the program', () => {
    expect(aead.versions.libsodium).toBe('1.0.18');
    expect(aead.floors.map((f) => `${f.lib} ${f.cipher}`)).toEqual([
      'libsodium aes256gcm',
      'libcrypto aes256gcm',
    ]);
    expect(aead.errors).toEqual(['libsodium chacha20poly1305: open failed']);
  });
  it('refuses output that measured nothing', () => {
    expect(() => parseAeadFloorOutput('{"libsodium":"1","libcrypto":"3"}\n')).toThrow(/measured nothing/);
  });
  it('adds veth CPU per Gbit at the same stream count to one seal and one open', () => {
    const anchors = [veth(1, 0.04), veth(4, 0.05)];
    expect(tunnelFloorOf(anchors, aead, 'libcrypto', 'aes256gcm', 1)).toBeCloseTo(0.2);
    expect(tunnelFloorOf(anchors, aead, 'libsodium', 'aes256gcm', 4)).toBeCloseTo(0.2626);
    expect(tunnelFloorOf([], aead, 'libcrypto', 'aes256gcm', 1)).toBeUndefined();
    expect(tunnelFloorOf(anchors, aead, 'libsodium', 'chacha20poly1305', 1)).toBeUndefined();
  });
  it('rows: each AEAD cost, each error, and the floor per stream count (not available without veth)', () => {
    const rows = floorRows([veth(1, 0.04)], aead);
    expect(rows.map((r) => `${r.name}: ${r.status}`)).toEqual([
      'libsodium aes256gcm, seal+open: ok',
      'libcrypto aes256gcm, seal+open: ok',
      'libsodium chacha20poly1305: not available',
      'tunnel floor, libsodium aes256gcm, 1 stream: ok',
      'tunnel floor, libcrypto aes256gcm, 1 stream: ok',
      'tunnel floor, libsodium aes256gcm, 4 streams: not available',
      'tunnel floor, libcrypto aes256gcm, 4 streams: not available',
    ]);
    expect(rows[3]!.value).toBeCloseTo(0.2526);
    expect(rows[3]!.note).toBe('veth 0.040 + seal+open 0.213');
  });
});
