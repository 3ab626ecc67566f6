import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../api/schema.ts';
import { buildCatalog, catalogFromProcesses, type CatalogEntry } from './catalog.ts';
import { decodeDataUrl, makeTempTree, pngImage, type TempTree } from '../catalog-testing/test-tree.ts';

const ELF = '\x7fELF\x02\x01\x01 pretend binary';
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>';
const HICOLOR_INDEX =
  '[Icon Theme]\nName=Hicolor\nDirectories=32x32/apps,48x48/apps,scalable/apps\n\n' +
  '[32x32/apps]\nSize=32\nType=Threshold\n\n[48x48/apps]\nSize=48\nType=Threshold\n\n' +
  '[scalable/apps]\nSize=128\nMinSize=8\nMaxSize=512\nType=Scalable\n';

const app = (lines: string[]) => ['[Desktop Entry]', 'Type=Application', ...lines].join('\n') + '\n';

describe('buildCatalog', () => {
  let tree: TempTree;
  let catalog: CatalogEntry[];
  const skipped: [string, string][] = [];

  beforeAll(async () => {
    tree = makeTempTree({
      'bin/browser': { executable: ELF },
      'bin/editor': { executable: ELF },
      'bin/python3': { executable: ELF },
      'opt/My Tools/settings': { executable: ELF },
      'opt/tool/main.py': 'print(1)\n',
      'art/tool.svg': SVG,
      // the desktop user's own entries shadow the system's
      'home/ann/.local/share/applications/shadowed.desktop': app(['Name=My Editor', 'Exec=editor --mine']),
      'home/ann/.local/share/applications/removed.desktop': app([
        'Name=Removed',
        'Exec=editor',
        'Hidden=true',
      ]),
      'sys/applications/shadowed.desktop': app(['Name=System Editor', 'Exec=editor']),
      'sys/applications/removed.desktop': app(['Name=Removed', 'Exec=editor']),
      'sys/applications/org.example.Browser.desktop': app([
        'Name=Browser',
        'Name[de]=Netz-Browser',
        'Icon=org.example.Browser',
        'Exec=browser --new-window %U',
        'StartupWMClass=ExampleBrowser',
      ]),
      'sys/applications/settings.desktop': app([
        'Name=Settings',
        'NoDisplay=true',
        'Exec="/opt/My Tools/settings" --page %f',
      ]),
      'sys/applications/tool.desktop': app([
        'Name=Tool',
        'Terminal=true',
        'Exec=python3 -u /opt/tool/main.py %F',
      ]),
      'sys/applications/gone.desktop': app(['Name=Gone', 'TryExec=not-installed', 'Exec=not-installed']),
      'sys/applications/link.desktop': '[Desktop Entry]\nType=Link\nName=Site\nURL=https://example.org\n',
      'sys/applications/Foo.desktop': app(['Name=Foo upper', 'Exec=editor --upper', 'Icon=foo']),
      'sys/applications/foo.desktop': app(['Name=Foo lower', 'Exec=editor --lower']),
      'sys/applications/kde4/konsole.desktop': app(['Name=Konsole', 'Exec=editor --konsole']),
      'sys/icons/hicolor/index.theme': HICOLOR_INDEX,
      'sys/icons/hicolor/32x32/apps/org.example.Browser.png': pngImage(32),
      'sys/icons/hicolor/48x48/apps/org.example.Browser.png': pngImage(48),
      'sys/icons/hicolor/scalable/apps/foo.svg': SVG,
      'deploy/org.example.Chat.desktop': app([
        'Name=Chat',
        'Icon=org.example.Chat',
        'Exec=/usr/bin/flatpak run --branch=stable --arch=x86_64 --command=chat --file-forwarding org.example.Chat @@u %U @@',
        'X-Flatpak=org.example.Chat',
        'X-Flatpak-RenamedFrom=chat.desktop;',
      ]),
      'flatpak/applications/org.example.Chat.desktop': { symlink: '../../deploy/org.example.Chat.desktop' },
      'flatpak/icons/hicolor/64x64/apps/org.example.Chat.png': pngImage(64),
    });
    tree.write({
      'sys/applications/tool.desktop': app([
        'Name=Tool',
        'Terminal=true',
        `Exec=python3 -u ${tree.at('opt/tool/main.py')} %F`,
        `Icon=${tree.at('art/tool.svg')}`,
      ]),
    });
    tree.write({
      'sys/applications/settings.desktop': app([
        'Name=Settings',
        'NoDisplay=true',
        `Exec="${tree.at('opt/My Tools/settings')}" --page %f`,
      ]),
    });
    catalog = await buildCatalog({
      env: { HOME: tree.at('root-home'), XDG_DATA_DIRS: tree.at('sys') },
      userHomes: [tree.at('home/ann')],
      flatpakSystemExports: tree.at('flatpak'),
      locales: ['de_DE.UTF-8'],
      searchPath: [tree.at('bin')],
      onSkip: (file, reason) => skipped.push([file, reason]),
    });
  });
  afterAll(() => tree.remove());

  const byId = (id: string) => {
    const entry = catalog.find((e) => e.id === id);
    if (!entry) throw new Error(`no entry ${id} in ${catalog.map((e) => e.id).join(', ')}`);
    return entry;
  };

  it('lists every visible application once, sorted by id, with valid app ids', () => {
    expect(catalog.map((e) => e.id)).toEqual([
      'foo',
      expect.stringMatching(/^foo-[0-9a-f]{6}$/),
      'kde4-konsole',
      'org.example.browser',
      'org.example.chat',
      'settings',
      'shadowed',
      'tool',
    ]);
    // foo.desktop is spelled like its slug, so it keeps "foo"; Foo.desktop gets the hashed suffix.
    expect(catalog[0]!.name).toBe('Foo lower');
    expect(catalog[1]!.name).toBe('Foo upper');
    for (const entry of catalog) expect(App.shape.id.safeParse(entry.id).success, entry.id).toBe(true);
  });

  it('reads a desktop app: localized name, PATH-resolved exe, launch argv without field codes, themed icon', () => {
    const browser = byId('org.example.browser');
    expect(browser).toMatchObject({
      name: 'Netz-Browser',
      source: 'desktop',
      matchers: { desktopId: 'org.example.Browser.desktop', exe: [tree.at('bin/browser')] },
      exec: ['browser', '--new-window'],
      noDisplay: false,
      terminal: false,
      startupWmClass: 'ExampleBrowser',
      desktopFile: tree.at('sys/applications/org.example.Browser.desktop'),
    });
    const icon = decodeDataUrl(browser.icon!);
    expect(icon.type).toBe('image/png');
    expect(icon.data.readUInt32BE(16)).toBe(48);
    expect(decodeDataUrl(catalog[1]!.icon!).type).toBe('image/svg+xml'); // Foo upper: Icon=foo, scalable
  });

  it('lets the user’s entries shadow the system’s, and a Hidden entry delete its id', () => {
    expect(byId('shadowed')).toMatchObject({ name: 'My Editor', exec: ['editor', '--mine'] });
    expect(catalog.some((e) => e.matchers.desktopId === 'removed.desktop')).toBe(false);
    expect(skipped).toContainEqual([
      tree.at('home/ann/.local/share/applications/removed.desktop'),
      'Hidden=true',
    ]);
  });

  it('keeps NoDisplay apps, flagged, with quoted Exec paths intact', () => {
    expect(byId('settings')).toMatchObject({
      noDisplay: true,
      exec: [tree.at('opt/My Tools/settings'), '--page'],
      matchers: { exe: [tree.at('opt/My Tools/settings')] },
    });
  });

  it('matches an interpreted app by its script, and inlines an absolute SVG icon', () => {
    const tool = byId('tool');
    expect(tool.matchers.exe).toBeUndefined();
    expect(tool.terminal).toBe(true);
    expect(
      new RegExp(tool.matchers.cmdline!).test(`/usr/bin/python3 -u ${tree.at('opt/tool/main.py')}`),
    ).toBe(true);
    expect(decodeDataUrl(tool.icon!).data.toString()).toBe(SVG);
  });

  it('reads Flatpak exports: Flatpak id, renamed ids, exported icon, no host exe', () => {
    expect(byId('org.example.chat')).toMatchObject({
      name: 'Chat',
      source: 'flatpak',
      matchers: { desktopId: 'org.example.Chat.desktop', flatpakId: 'org.example.Chat' },
      renamedFrom: ['chat.desktop'],
    });
    expect(byId('org.example.chat').matchers.exe).toBeUndefined();
    expect(decodeDataUrl(byId('org.example.chat').icon!).data.readUInt32BE(16)).toBe(64);
  });

  it('skips links and apps whose TryExec is missing, and says why', () => {
    expect(skipped).toContainEqual([
      tree.at('sys/applications/gone.desktop'),
      'TryExec program not-installed is not installed',
    ]);
    expect(skipped).toContainEqual([
      tree.at('sys/applications/link.desktop'),
      'Type is Link, not Application',
    ]);
    expect(byId('kde4-konsole').matchers.desktopId).toBe('kde4-konsole.desktop');
  });

  it('proposes apps for uncovered user processes only, one per executable or script', () => {
    const known = catalog;
    const proposals = catalogFromProcesses(
      [
        { pid: 10, exe: tree.at('bin/browser'), cmdline: ['browser'], uid: 1000 },
        { pid: 11, exe: '/app/bin/chat', cmdline: ['chat'], flatpakId: 'org.example.Chat', uid: 1000 },
        { pid: 12, exe: null, cmdline: [] },
        { pid: 13, exe: '/usr/sbin/sshd', cmdline: ['sshd: ann'], uid: 0 },
        { pid: 14, exe: '/usr/bin/curl', cmdline: ['curl', 'https://example.org'], uid: 1000 },
        { pid: 15, exe: '/usr/bin/curl (deleted)', cmdline: ['curl', '-O', 'x'], uid: 1000 },
        { pid: 16, exe: '/usr/bin/python3.11', cmdline: ['python3', '/home/ann/bin/sync.py'], uid: 1000 },
        { pid: 17, exe: '/usr/bin/bash', cmdline: ['-bash'], uid: 1000 },
        { pid: 18, exe: '/app/bin/game', cmdline: ['game'], flatpakId: 'org.other.Game', uid: 1000 },
        { pid: 19, exe: '/opt/foo/foo', cmdline: ['foo'], uid: 1000 },
        { pid: 20, exe: '/usr/bin/pipewire', cmdline: ['pipewire'], uid: 1000 },
        { pid: 21, exe: '/usr/bin/python3.11', cmdline: ['python3'], uid: 1000 },
        { pid: 22, exe: '/usr/bin/node', cmdline: ['npm exec something', ''], uid: 1000 }, // a rewritten title
        { pid: 23, exe: '/usr/bin/grep', cmdline: ['grep', 'x'], uid: 1000, inetSockets: false },
        { pid: 24, exe: '/memfd:runc (deleted)', cmdline: ['runc', 'init'], uid: 1000 },
      ],
      known,
    );
    expect(proposals.map((p) => [p.id, p.name, p.source, p.matchers, p.exec])).toEqual([
      ['curl', 'curl', 'process', { exe: ['/usr/bin/curl'] }, ['/usr/bin/curl']],
      [
        expect.stringMatching(/^foo-[0-9a-f]{6}$/),
        'foo',
        'process',
        { exe: ['/opt/foo/foo'] },
        ['/opt/foo/foo'],
      ],
      [
        'org.other.game',
        'Game',
        'process',
        { flatpakId: 'org.other.Game' },
        ['flatpak', 'run', 'org.other.Game'],
      ],
      [
        'sync.py',
        'sync.py',
        'process',
        { cmdline: expect.stringContaining('/home/ann/bin/sync\\.py') },
        ['python3', '/home/ann/bin/sync.py'],
      ],
    ]);
    const ids = new Set([...known, ...proposals].map((e) => e.id));
    expect(ids.size).toBe(known.length + proposals.length);
  });
});
