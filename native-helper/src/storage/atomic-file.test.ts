import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-file.ts';

describe('atomic file writes', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sy-atomic-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('replaces the content whole, with the given mode, leaving no temp file', async () => {
    const d = dir();
    const p = join(d, 'policy.json');
    writeFileSync(p, 'old');
    writeFileAtomicSync(p, 'new sync', 0o600);
    expect(readFileSync(p, 'utf8')).toBe('new sync');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    await writeFileAtomic(p, 'new async', 0o644);
    expect(readFileSync(p, 'utf8')).toBe('new async');
    expect(readdirSync(d)).toEqual(['policy.json']);
  });

  it('leaves the old file and no temp file behind when the write fails', async () => {
    const d = dir();
    const p = join(d, 'x');
    writeFileSync(p, 'keep');
    // A directory where the file should be makes the final rename fail.
    const target = join(d, 'sub');
    writeFileSync(target, 'a file, not a directory');
    expect(() => writeFileAtomicSync(join(target, 'y'), 'z')).toThrow();
    await expect(writeFileAtomic(join(target, 'y'), 'z')).rejects.toThrow();
    expect(readFileSync(p, 'utf8')).toBe('keep');
    expect(readdirSync(d).sort()).toEqual(['sub', 'x']);
  });
});
