// Draw the tray and app icons as PNGs (no image tools needed). The outputs are committed;
// run again after changing a colour: node --import tsx build/make-icons.ts
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

type Rgba = [number, number, number, number];
type Shader = (x: number, y: number, size: number) => Rgba | null;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** Render with 4x4 supersampling so edges are smooth at 22 px. */
export function renderPng(size: number, shade: Shader): Buffer {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  const S = 4;
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const c = shade(x + (sx + 0.5) / S, y + (sy + 0.5) / S, size);
          if (!c) continue;
          r += c[0] * c[3];
          g += c[1] * c[3];
          b += c[2] * c[3];
          a += c[3];
        }
      }
      const o = y * (size * 4 + 1) + 1 + x * 4;
      if (a > 0) {
        raw[o] = Math.round(r / a);
        raw[o + 1] = Math.round(g / a);
        raw[o + 2] = Math.round(b / a);
      }
      raw[o + 3] = Math.round(a / (S * S));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const GREEN: Rgba = [46, 160, 67, 255];
const RED: Rgba = [218, 54, 51, 255];
const GREY: Rgba = [139, 148, 158, 255];
const WHITE: Rgba = [255, 255, 255, 255];

/** A disc with a mark: a forked path (ok), a bar (killed) or a ring (helper down). */
function trayShader(fill: Rgba, mark: 'fork' | 'bar' | 'ring'): Shader {
  return (x, y, size) => {
    const c = size / 2;
    const d = Math.hypot(x - c, y - c) / c; // 0 centre … 1 edge
    if (mark === 'ring') {
      if (d <= 0.92 && d >= 0.62) return fill;
      if (d < 0.22) return fill;
      return null;
    }
    if (d > 0.92) return null;
    const u = x / size;
    const v = y / size;
    if (mark === 'bar' && Math.abs(v - 0.5) < 0.1 && Math.abs(u - 0.5) < 0.28) return WHITE;
    if (mark === 'fork') {
      // A stem that splits in two: traffic taking different paths.
      const stem = Math.abs(u - 0.5) < 0.07 && v > 0.5 && v < 0.8;
      const left = Math.abs(u - 0.5 + (0.5 - v) * 0.8) < 0.08 && v > 0.22 && v <= 0.52;
      const right = Math.abs(u - 0.5 - (0.5 - v) * 0.8) < 0.08 && v > 0.22 && v <= 0.52;
      if (stem || left || right) return WHITE;
    }
    return fill;
  };
}

export const ICONS: Record<string, [number, Shader]> = {
  'tray-ok.png': [22, trayShader(GREEN, 'fork')],
  'tray-killed.png': [22, trayShader(RED, 'bar')],
  'tray-down.png': [22, trayShader(GREY, 'ring')],
  'switchyard.png': [256, trayShader(GREEN, 'fork')],
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'icons');
  for (const [name, [size, shader]] of Object.entries(ICONS)) {
    writeFileSync(join(dir, name), renderPng(size, shader));
    console.log(`wrote ${join(dir, name)}`);
  }
}
