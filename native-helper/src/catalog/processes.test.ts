import { spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bestMatch,
  compileCmdline,
  desktopHintFromEnviron,
  InvalidCmdlineRegexError,
  matchProcess,
  readAllProcessIdentities,
  readProcessIdentity,
  type ProcessIdentity,
} from './processes.ts';
import { makeTempTree, type TempTree } from '../catalog-testing/test-tree.ts';

const proc = (p: Partial<ProcessIdentity>): ProcessIdentity => ({ pid: 100, exe: null, cmdline: [], ...p });

describe('matchProcess', () => {
  it('matches the executable, also after the binary was replaced on disk', () => {
    const m = { exe: ['/usr/lib/chromium/chromium'] };
    expect(matchProcess(m, proc({ exe: '/usr/lib/chromium/chromium', cmdline: ['chromium'] }))).toBe('exe');
    expect(
      matchProcess(m, proc({ exe: '/usr/lib/chromium/chromium (deleted)', cmdline: ['chromium'] })),
    ).toBe('exe');
    expect(matchProcess(m, proc({ exe: '/usr/bin/firefox', cmdline: ['firefox'] }))).toBeNull();
  });

  it('judges an interpreter process by its script, not by the interpreter exe', () => {
    const m = {
      exe: ['/usr/bin/python3.11'],
      cmdline: '^(?:\\S*/)?python[0-9.]*\\s(?:.*\\s)?/opt/tool/main\\.py(?:\\s|$)',
    };
    expect(
      matchProcess(
        m,
        proc({ exe: '/usr/bin/python3.11', cmdline: ['/usr/bin/python3', '/opt/tool/main.py', '-v'] }),
      ),
    ).toBe('cmdline');
    expect(
      matchProcess(m, proc({ exe: '/usr/bin/python3.11', cmdline: ['/usr/bin/python3', '/opt/other.py'] })),
    ).toBeNull();
    // An exe-only matcher that names an interpreter is taken literally.
    expect(
      matchProcess(
        { exe: ['/usr/bin/python3.11'] },
        proc({ exe: '/usr/bin/python3.11', cmdline: ['python3'] }),
      ),
    ).toBe('exe');
  });

  it('tests the cmdline regex against argv joined by spaces', () => {
    expect(
      matchProcess(
        { cmdline: 'java .*-jar /opt/game/launcher\\.jar' },
        proc({ exe: '/usr/lib/jvm/bin/java', cmdline: ['java', '-Xmx2g', '-jar', '/opt/game/launcher.jar'] }),
      ),
    ).toBe('cmdline');
    expect(matchProcess({ cmdline: 'anything' }, proc({ exe: null, cmdline: [] }))).toBeNull();
  });

  it('matches the Flatpak id and the desktop launch hint', () => {
    const m = { flatpakId: 'org.example.Chat', desktopId: 'org.example.Chat.desktop' };
    expect(matchProcess(m, proc({ exe: '/app/bin/chat', flatpakId: 'org.example.Chat' }))).toBe('flatpakId');
    expect(matchProcess(m, proc({ exe: '/app/bin/chat', flatpakId: 'org.example.Other' }))).toBeNull();
    expect(
      matchProcess(
        { desktopId: 'steam.desktop' },
        proc({ exe: '/home/u/.steam/game', desktopHint: 'steam.desktop' }),
      ),
    ).toBe('desktopId');
    expect(
      matchProcess(
        { desktopId: 'steam.desktop' },
        proc({ exe: '/home/u/.steam/game', desktopHint: 'other.desktop' }),
      ),
    ).toBeNull();
  });

  it('refuses an invalid regex with a clear error, and compiles a valid one once', () => {
    expect(() => matchProcess({ cmdline: 'foo(' }, proc({ exe: '/x', cmdline: ['foo('] }))).toThrow(
      InvalidCmdlineRegexError,
    );
    expect(() => compileCmdline('[a-')).toThrow(
      /The cmdline matcher "\[a-" is not a valid regular expression .*; fix or remove it\./,
    );
    expect(compileCmdline('^a+$')).toBe(compileCmdline('^a+$'));
  });
});

describe('bestMatch', () => {
  it('lets an exe claim beat a desktop hint inherited from the launching app', () => {
    const apps = [
      { id: 'terminal', matchers: { desktopId: 'xterm.desktop', exe: ['/usr/bin/xterm'] } },
      { id: 'curl', matchers: { exe: ['/usr/bin/curl'] } },
    ];
    const curlInTerminal = proc({ exe: '/usr/bin/curl', cmdline: ['curl'], desktopHint: 'xterm.desktop' });
    expect(bestMatch(apps, curlInTerminal)).toEqual({ app: apps[1], reason: 'exe' });
    const shellInTerminal = proc({ exe: '/usr/bin/bash', cmdline: ['bash'], desktopHint: 'xterm.desktop' });
    expect(bestMatch(apps, shellInTerminal)).toEqual({ app: apps[0], reason: 'desktopId' });
    expect(bestMatch(apps, proc({ exe: '/usr/bin/wget', cmdline: ['wget'] }))).toBeNull();
  });
});

describe('desktopHintFromEnviron', () => {
  it('prefers GIO_LAUNCHED_DESKTOP_FILE and falls back to BAMF_DESKTOP_FILE_HINT', () => {
    expect(
      desktopHintFromEnviron([
        'A=1',
        'GIO_LAUNCHED_DESKTOP_FILE=/usr/share/applications/kde4/konsole.desktop',
        'GIO_LAUNCHED_DESKTOP_FILE_PID=77',
      ]),
    ).toEqual({
      desktopHint: 'kde4-konsole.desktop',
      desktopHintPid: 77,
    });
    expect(
      desktopHintFromEnviron([
        'BAMF_DESKTOP_FILE_HINT=/var/lib/snapd/desktop/applications/firefox_firefox.desktop',
      ]),
    ).toEqual({
      desktopHint: 'firefox_firefox.desktop',
    });
    expect(desktopHintFromEnviron(['PATH=/bin'])).toEqual({});
  });
});

describe('readProcessIdentity', () => {
  let tree: TempTree | undefined;
  let child: ChildProcess | undefined;
  afterEach(() => {
    tree?.remove();
    tree = undefined;
    if (child?.pid && child.exitCode === null && child.signalCode === null)
      process.kill(child.pid, 'SIGKILL');
    child = undefined;
  });

  it('collects exe, argv, uid, Flatpak id and desktop hint from a proc tree', async () => {
    tree = makeTempTree({
      '4242/status': 'Name:\tchat\nUid:\t1000\t1000\t1000\t1000\n',
      '4242/cmdline': '/app/bin/chat\0--new\0\0',
      '4242/exe': { symlink: '/app/bin/chat (deleted)' },
      '4242/environ':
        'HOME=/home/u\0GIO_LAUNCHED_DESKTOP_FILE=/var/lib/flatpak/exports/share/applications/org.example.Chat.desktop\0GIO_LAUNCHED_DESKTOP_FILE_PID=4242\0',
      '4242/root/.flatpak-info':
        '[Application]\nname=org.example.Chat\nruntime=runtime/org.gnome.Platform/x86_64/46\n',
      '4243/status': 'Name:\tkthreadd\nUid:\t0\t0\t0\t0\n',
      '4243/cmdline': '',
      '4243/environ/not-a-file': '',
      'self/status': 'not a pid',
    });
    expect(await readProcessIdentity(4242, { procRoot: tree.root })).toEqual({
      pid: 4242,
      exe: '/app/bin/chat (deleted)',
      cmdline: ['/app/bin/chat', '--new', ''],
      uid: 1000,
      flatpakId: 'org.example.Chat',
      desktopHint: 'org.example.Chat.desktop',
      desktopHintPid: 4242,
    });
    // Unreadable fields (no exe link, environ not a file) are left out, not fatal.
    expect(await readProcessIdentity(4243, { procRoot: tree.root })).toEqual({
      pid: 4243,
      exe: null,
      cmdline: [],
      uid: 0,
    });
    expect(await readProcessIdentity(4244, { procRoot: tree.root })).toBeNull();
    expect((await readAllProcessIdentities({ procRoot: tree.root })).map((p) => p.pid)).toEqual([4242, 4243]);
  });

  it('reads a real process, and returns null once it is gone', async () => {
    const marker = `sy-catalog-${process.pid}-${Date.now()}`;
    child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', marker], {
      env: { ...process.env, GIO_LAUNCHED_DESKTOP_FILE: '/usr/share/applications/sy-test.desktop' },
      stdio: 'ignore',
    });
    const pid = child.pid!;
    const identity = await readProcessIdentity(pid);
    expect(identity?.exe).toBe(realpathSync(process.execPath));
    expect(identity?.cmdline).toEqual([process.execPath, '-e', 'setInterval(() => {}, 1000)', marker]);
    expect(identity?.desktopHint).toBe('sy-test.desktop');
    expect(identity?.uid).toBe(process.getuid!());
    expect(matchProcess({ exe: [realpathSync(process.execPath)] }, identity!)).toBe('exe');

    await new Promise<void>((resolve) => {
      child!.once('exit', () => resolve());
      process.kill(pid, 'SIGKILL');
    });
    expect(await readProcessIdentity(pid)).toBeNull();
  });
});

describe('hostile cmdline patterns', () => {
  it('matches in linear time: (a+)+b against a long run of a (backtracking would never return)', () => {
    const long = proc({ exe: '/usr/bin/python3', cmdline: ['python3', 'a'.repeat(5000)] });
    expect(matchProcess({ cmdline: '(a+)+b' }, long)).toBeNull();
    expect(matchProcess({ cmdline: '(a+)+b' }, proc({ exe: '/x', cmdline: ['aaab'] }))).toBe('cmdline');
  });

  it('refuses look-around and backreferences, which have no linear-time match', () => {
    expect(() => compileCmdline('(?=x)a')).toThrow(InvalidCmdlineRegexError);
    expect(() => compileCmdline('(a)\\1')).toThrow(InvalidCmdlineRegexError);
  });
});
