import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../build/bundle-electron.ts';
import { electronBinary, findBrowser } from './start.ts';

describe('npm start', () => {
  it('finds the Electron binary only when the package has one', () => {
    const installed = existsSync(join(repoRoot, 'node_modules', 'electron', 'path.txt'));
    const bin = electronBinary();
    if (installed) expect(bin && existsSync(bin)).toBe(true);
    else expect(bin).toBeNull();
  });

  it('prefers /usr/bin/chromium, then a Chromium or Chrome on PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-path-'));
    try {
      writeFileSync(join(dir, 'google-chrome'), '#!/bin/sh\n');
      chmodSync(join(dir, 'google-chrome'), 0o755);
      const found = findBrowser({ PATH: dir });
      expect(found).toBe(existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : join(dir, 'google-chrome'));
      if (!existsSync('/usr/bin/chromium')) expect(findBrowser({ PATH: '' })).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
