import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LIB, describePackage, electronDist } from './layout.ts';

const staged = '/staged';
const work = mkdtempSync(join(tmpdir(), 'sy-layout-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('what the packages hold', () => {
  it('the helper, its runtime, its built parts, the unit, the group, the settings and the web UI', () => {
    const pkg = describePackage('1.2.3', staged, null);
    const paths = pkg.files.map((f) => f.path);
    for (const p of [
      '/usr/bin/switchyard',
      `${LIB}/node`,
      `${LIB}/switchyard_native.node`,
      `${LIB}/switchyard-datapath`,
      `${LIB}/bpf/sock_tag.bpf.o`,
      '/usr/lib/systemd/system/switchyard-helper.service',
      '/usr/lib/sysusers.d/switchyard.conf',
      '/etc/switchyard/helper.env',
      '/usr/share/switchyard/ui/index.html',
      '/usr/share/applications/switchyard-web.desktop',
    ])
      expect(paths).toContain(p);
    expect(new Set(paths).size).toBe(paths.length);
    // Only the settings file is configuration; nothing of the desktop app without an Electron build.
    expect(pkg.files.filter((f) => f.config).map((f) => f.path)).toEqual(['/etc/switchyard/helper.env']);
    expect(paths.some((p) => p.startsWith(`${LIB}/desktop/`))).toBe(false);
    // Every folder a file of the package's own tree sits in is the package's.
    for (const p of paths.filter((x) => x.startsWith(`${LIB}/`)))
      expect(pkg.dirs).toContain(p.slice(0, p.lastIndexOf('/')));
  });

  it('carries the bundle and every chunk it loads', () => {
    const stagedHere = join(work, 'staged');
    mkdirSync(join(stagedHere, 'lib/chunks'), { recursive: true });
    writeFileSync(join(stagedHere, 'lib/switchyard.mjs'), '');
    writeFileSync(join(stagedHere, 'lib/chunks/run-helper-X.mjs'), '');
    const pkg = describePackage('1.2.3', stagedHere, null);
    const paths = pkg.files.map((f) => f.path);
    expect(paths).toContain(`${LIB}/switchyard.mjs`);
    expect(paths).toContain(`${LIB}/chunks/run-helper-X.mjs`);
    expect(pkg.dirs).toContain(`${LIB}/chunks`);
  });

  it('adds the desktop app when an Electron build is present, with a setuid sandbox', () => {
    const dist = join(work, 'electron-dist');
    mkdirSync(join(dist, 'resources/default_app'), { recursive: true });
    for (const f of ['electron', 'chrome-sandbox', 'libffmpeg.so', 'resources/default_app/main.js'])
      writeFileSync(join(dist, f), '');
    expect(electronDist(dist)).toBe(dist);
    expect(electronDist(join(work, 'none'))).toBeNull();
    const files = describePackage('1.2.3', staged, dist).files;
    const mode = (p: string) => files.find((f) => f.path === p)?.mode;
    expect(mode(`${LIB}/desktop/electron`)).toBe(0o755);
    expect(mode(`${LIB}/desktop/chrome-sandbox`)).toBe(0o4755);
    expect(mode(`${LIB}/desktop/libffmpeg.so`)).toBe(0o644);
    expect(mode(`${LIB}/desktop/resources/app/package.json`)).toBe(0o644);
    expect(mode(`${LIB}/desktop/resources/app/renderer/dist/index.html`)).toBe(0o644);
    expect(mode('/usr/bin/switchyard-desktop')).toBe(0o755);
    expect(files.some((f) => f.path.includes('default_app'))).toBe(false); // the app replaces it
  });
});
