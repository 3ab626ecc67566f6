// Write a file so that a crash, a kill or a full disk never leaves it half-written: write a temp file
// beside it, fsync, rename over the target, fsync the directory. Readers see the old or the new content.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

export function writeFileAtomicSync(path: string, content: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  const data = Buffer.from(content, 'utf8');
  const tmp = tempPath(path);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      // writeSync may write less than asked (a nearly full disk): go on until all of it is written,
      // and the next write reports the ENOSPC.
      for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    verify(tmp, readFileSync(tmp), data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Only content that reads back as written replaces the old file. */
function verify(tmp: string, back: Buffer, data: Buffer): void {
  if (!back.equals(data))
    throw Object.assign(
      new Error(`${tmp} read back ${back.length} of ${data.length} bytes differently from what was written`),
      { code: 'EIO' },
    );
}

export async function writeFileAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPath(path);
  try {
    const data = Buffer.from(content, 'utf8');
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    verify(tmp, await readFile(tmp), data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
