import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { autostartPath, isAutostartEnabled, quoteExecArg, setAutostart } from './autostart.ts';

const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});
function tempHome() {
  const h = mkdtempSync(join(tmpdir(), 'sy-home-'));
  homes.push(h);
  return h;
}

describe('autostart', () => {
  it('writes ~/.config/autostart/switchyard.desktop and removes it', async () => {
    const home = tempHome();
    const path = autostartPath({}, home);
    expect(path).toBe(join(home, '.config', 'autostart', 'switchyard.desktop'));
    expect(await isAutostartEnabled(path)).toBe(false);
    await setAutostart(path, true, ['/opt/Switch yard/switchyard']);
    expect(await isAutostartEnabled(path)).toBe(true);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('[Desktop Entry]\n')).toBe(true);
    expect(text).toContain('Type=Application\n');
    expect(text).toContain('Exec="/opt/Switch yard/switchyard" --hidden\n');
    // Atomic: no temp file left behind.
    expect(readdirSync(join(home, '.config', 'autostart'))).toEqual(['switchyard.desktop']);
    await setAutostart(path, true, ['/usr/bin/switchyard-desktop']);
    expect(readFileSync(path, 'utf8')).toContain('Exec=/usr/bin/switchyard-desktop --hidden\n');
    await setAutostart(path, false, []);
    expect(existsSync(path)).toBe(false);
    await setAutostart(path, false, []); // removing twice is fine
    expect(await isAutostartEnabled(path)).toBe(false);
  });

  it('honours an absolute XDG_CONFIG_HOME only', () => {
    expect(autostartPath({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/u')).toBe(
      '/x/cfg/autostart/switchyard.desktop',
    );
    expect(autostartPath({ XDG_CONFIG_HOME: 'rel' }, '/home/u')).toBe(
      '/home/u/.config/autostart/switchyard.desktop',
    );
  });

  it('quotes Exec arguments per the desktop entry spec', () => {
    expect(quoteExecArg('/usr/bin/app')).toBe('/usr/bin/app');
    expect(quoteExecArg('a b')).toBe('"a b"');
    expect(quoteExecArg('50%$x"`\\')).toBe('"50%%\\$x\\"\\`\\\\"');
  });
});
