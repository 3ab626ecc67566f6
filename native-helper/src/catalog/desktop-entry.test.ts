import { describe, expect, it } from 'vitest';
import { desktopIdFromHintPath, desktopIdFromPath, parseDesktopEntry } from './desktop-entry.ts';

const opts = {
  id: 'org.example.Browser.desktop',
  path: '/usr/share/applications/org.example.Browser.desktop',
};

describe('parseDesktopEntry', () => {
  it('reads an application from the [Desktop Entry] group only', () => {
    const text = [
      '[Desktop Entry]',
      'Type=Application',
      'Name=Example Browser',
      'Name[de]=Beispiel-Browser',
      'Icon=org.example.Browser',
      'Exec=/usr/bin/example-browser --profile "My\\sProfile" %U',
      'TryExec=example-browser',
      'StartupWMClass=ExampleBrowser',
      'Terminal=false',
      '',
      '[Desktop Action private]',
      'Name=New Private Window',
      'Exec=/usr/bin/example-browser --private',
    ].join('\n');
    const result = parseDesktopEntry(text, { ...opts, locales: ['de_DE.UTF-8'] });
    expect(result).toEqual({
      kind: 'application',
      entry: {
        id: 'org.example.Browser.desktop',
        path: opts.path,
        name: 'Beispiel-Browser',
        icon: 'org.example.Browser',
        execLine: '/usr/bin/example-browser --profile "My Profile" %U',
        exec: ['/usr/bin/example-browser', '--profile', 'My Profile'],
        tryExec: 'example-browser',
        noDisplay: false,
        terminal: false,
        dbusActivatable: false,
        renamedFrom: [],
        startupWmClass: 'ExampleBrowser',
      },
    });
  });

  it('applies the string escape before the Exec quoting: four backslashes are one literal backslash', () => {
    const r = parseDesktopEntry(
      '[Desktop Entry]\nType=Application\nName=X\nExec=prog "a\\\\\\\\b" c\\sd\n',
      opts,
    );
    expect(r.kind === 'application' && r.entry.exec).toEqual(['prog', 'a\\b', 'c', 'd']);
  });

  it('treats Hidden=true as deleted, whatever the type', () => {
    expect(
      parseDesktopEntry('[Desktop Entry]\nType=Application\nName=X\nExec=x\nHidden=true\n', opts),
    ).toEqual({
      kind: 'hidden',
      id: opts.id,
    });
  });

  it('keeps NoDisplay entries but flags them', () => {
    const r = parseDesktopEntry('[Desktop Entry]\nType=Application\nName=X\nExec=x\nNoDisplay=true\n', opts);
    expect(r.kind === 'application' && r.entry.noDisplay).toBe(true);
  });

  it('skips non-applications, nameless entries, broken Exec lines and files without the main group', () => {
    const skipped = (text: string) => {
      const r = parseDesktopEntry(text, opts);
      return r.kind === 'skipped' ? r.reason : `not skipped: ${r.kind}`;
    };
    expect(skipped('[Desktop Entry]\nType=Link\nName=X\nURL=https://example.org\n')).toMatch(/Type is Link/);
    expect(skipped('[Desktop Entry]\nType=Application\nExec=x\n')).toMatch(/no Name/);
    expect(skipped('[Desktop Entry]\nType=Application\nName=X\nExec=x "unterminated\n')).toMatch(
      /unterminated double quote/,
    );
    expect(skipped('[Desktop Entry]\nType=Application\nName=X\n')).toMatch(/no Exec line/);
    expect(skipped('[Desktop Action x]\nType=Application\nName=X\nExec=x\n')).toMatch(/no \[Desktop Entry\]/);
  });

  it('accepts a D-Bus activatable entry without Exec', () => {
    const r = parseDesktopEntry('[Desktop Entry]\nType=Application\nName=X\nDBusActivatable=true\n', opts);
    expect(r.kind === 'application' && [r.entry.dbusActivatable, r.entry.exec]).toEqual([true, undefined]);
  });

  it('reads the Flatpak keys', () => {
    const text = [
      '[Desktop Entry]',
      'Type=Application',
      'Name=Chat',
      'Exec=/usr/bin/flatpak run --branch=stable --arch=x86_64 --command=chat org.example.Chat @@u %U @@',
      'X-Flatpak=org.example.Chat',
      'X-Flatpak-RenamedFrom=chat.desktop;old-chat.desktop;',
    ].join('\n');
    const r = parseDesktopEntry(text, opts);
    expect(r.kind === 'application' && r.entry.flatpakId).toBe('org.example.Chat');
    expect(r.kind === 'application' && r.entry.renamedFrom).toEqual(['chat.desktop', 'old-chat.desktop']);
    expect(r.kind === 'application' && r.entry.exec).toEqual([
      '/usr/bin/flatpak',
      'run',
      '--branch=stable',
      '--arch=x86_64',
      '--command=chat',
      'org.example.Chat',
      '@@u',
      '@@',
    ]);
  });
});

describe('desktop ids', () => {
  it('turns the path below applications/ into an id with "-" for "/"', () => {
    expect(desktopIdFromPath('/usr/share/applications', '/usr/share/applications/kde4/konsole.desktop')).toBe(
      'kde4-konsole.desktop',
    );
    expect(desktopIdFromPath('/usr/share/applications', '/usr/share/applications/firefox.desktop')).toBe(
      'firefox.desktop',
    );
  });

  it('reads a launch hint path the same way, or by basename outside an applications dir', () => {
    expect(desktopIdFromHintPath('/usr/share/applications/kde4/konsole.desktop')).toBe(
      'kde4-konsole.desktop',
    );
    expect(desktopIdFromHintPath('/tmp/x/org.example.App.desktop')).toBe('org.example.App.desktop');
  });
});
