// Test support: real files in a temp dir, and real (tiny) PNG images. Used by the catalog's unit tests.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

export type TreeNode = string | Buffer | { symlink: string } | { executable: string };

export interface TempTree {
  root: string;
  at(relative: string): string;
  write(files: Record<string, TreeNode>): void;
  remove(): void;
}

export function makeTempTree(files: Record<string, TreeNode> = {}): TempTree {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sy-catalog-'));
  const tree: TempTree = {
    root,
    at: (relative) => path.join(root, relative),
    write(more) {
      for (const [relative, node] of Object.entries(more)) {
        const file = path.join(root, relative);
        mkdirSync(path.dirname(file), { recursive: true });
        if (typeof node === 'string' || Buffer.isBuffer(node)) writeFileSync(file, node);
        else if ('symlink' in node) symlinkSync(node.symlink, file);
        else {
          writeFileSync(file, node.executable);
          chmodSync(file, 0o755);
        }
      }
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  tree.write(files);
  return tree;
}

/** A valid grey PNG of the given size. */
export function pngImage(size: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc(size * (size + 1), 0x80);
  for (let y = 0; y < size; y++) rows[y * (size + 1)] = 0; // filter byte per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The bytes inside a base64 data: URL, with its media type. */
export function decodeDataUrl(url: string): { type: string; data: Buffer } {
  const m = /^data:([^;]+);base64,(.*)$/.exec(url);
  if (!m) throw new Error(`not a base64 data URL: ${url.slice(0, 40)}`);
  return { type: m[1]!, data: Buffer.from(m[2]!, 'base64') };
}
