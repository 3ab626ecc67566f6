import { afterEach, describe, expect, it } from 'vitest';
import { dataDirs, findDesktopFiles, SYSTEM_FLATPAK_EXPORTS } from './dirs.ts';
import { makeTempTree, type TempTree } from '../catalog-testing/test-tree.ts';

describe('dataDirs', () => {
  it('uses the XDG defaults: data home, Flatpak exports, then /usr/local/share and /usr/share', () => {
    expect(dataDirs({ env: { HOME: '/home/ann' } })).toEqual([
      { path: '/home/ann/.local/share', flatpak: false },
      { path: '/home/ann/.local/share/flatpak/exports/share', flatpak: true },
      { path: SYSTEM_FLATPAK_EXPORTS, flatpak: true },
      { path: '/usr/local/share', flatpak: false },
      { path: '/usr/share', flatpak: false },
    ]);
  });

  it('puts the desktop users first, then the helper, extra dirs, Flatpak and $XDG_DATA_DIRS; drops duplicates and relative dirs', () => {
    const dirs = dataDirs({
      env: {
        HOME: '/root',
        XDG_DATA_HOME: '/root/data',
        XDG_DATA_DIRS: '/opt/share:relative/share:/usr/share:/opt/share',
      },
      userHomes: ['/home/ann'],
      extraDataDirs: ['/srv/apps'],
      flatpakSystemExports: '/fp/exports/share',
    });
    expect(dirs.map((d) => d.path)).toEqual([
      '/home/ann/.local/share',
      '/root/data',
      '/srv/apps',
      '/home/ann/.local/share/flatpak/exports/share',
      '/root/.local/share/flatpak/exports/share',
      '/fp/exports/share',
      '/opt/share',
      '/usr/share',
    ]);
    expect(dirs.filter((d) => d.flatpak).map((d) => d.path)).toEqual([
      '/home/ann/.local/share/flatpak/exports/share',
      '/root/.local/share/flatpak/exports/share',
      '/fp/exports/share',
    ]);
  });

  it('can leave out the helper’s own data home', () => {
    const dirs = dataDirs({
      env: { HOME: '/root', XDG_DATA_DIRS: '/usr/share' },
      includeOwnDataHome: false,
      userHomes: ['/home/ann'],
    });
    expect(dirs.map((d) => d.path)).not.toContain('/root/.local/share');
  });
});

describe('findDesktopFiles', () => {
  let tree: TempTree;
  afterEach(() => tree.remove());

  it('finds desktop files in subfolders, follows Flatpak symlinks, and lets earlier dirs shadow later ones by id', async () => {
    tree = makeTempTree({
      'user/applications/app.desktop': 'user copy',
      'sys/applications/app.desktop': 'system copy',
      'sys/applications/kde4/konsole.desktop': 'konsole',
      'sys/applications/readme.txt': 'not a desktop file',
      'deploy/org.example.Chat.desktop': 'chat',
      'flatpak/applications/org.example.Chat.desktop': { symlink: '../../deploy/org.example.Chat.desktop' },
      'flatpak/applications/dangling.desktop': { symlink: '../../nowhere.desktop' },
    });
    const dirs = [
      { path: tree.at('user'), flatpak: false },
      { path: tree.at('flatpak'), flatpak: true },
      { path: tree.at('sys'), flatpak: false },
      { path: tree.at('missing'), flatpak: false },
    ];
    const found = await findDesktopFiles(dirs);
    expect(found.map((f) => [f.id, f.path, f.dataDir.flatpak])).toEqual([
      ['app.desktop', tree.at('user/applications/app.desktop'), false],
      ['kde4-konsole.desktop', tree.at('sys/applications/kde4/konsole.desktop'), false],
      ['org.example.Chat.desktop', tree.at('flatpak/applications/org.example.Chat.desktop'), true],
    ]);
  });
});
