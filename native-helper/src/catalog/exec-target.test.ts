import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execTarget, findProgram, flatpakRunId, parseShebang, shellExecTargets } from './exec-target.ts';
import { makeTempTree, type TempTree } from '../catalog-testing/test-tree.ts';

const ELF = '\x7fELF\x02\x01\x01 pretend binary';

describe('execTarget', () => {
  let tree: TempTree;
  let path: string[];
  beforeAll(() => {
    tree = makeTempTree({
      'opt/app/realapp': { executable: ELF },
      'bin/app': { symlink: '../opt/app/realapp' },
      'bin/notexec': ELF,
      'bin/snap': { executable: ELF },
      'bin/snapapp': { symlink: 'snap' },
      'bin/pyapp': { executable: '#!/usr/bin/env python3\nprint("hi")\n' },
      'opt/tool/main.py': 'print(1)\n',
    });
    tree.write({
      'bin/browser': {
        executable: `#!/bin/sh\nAPP=realapp\nLIBDIR=${tree.at('opt/app')}\nif [ -n "$X" ]; then\n  exec $LIBDIR/$APP --flag "$@"\nfi\nfind . -exec rm {} \\;\n`,
      },
    });
    path = [tree.at('missing'), tree.at('bin')];
  });
  afterAll(() => tree.remove());

  it('resolves a program through PATH and its symlinks', async () => {
    expect(await execTarget(['app', '--x'], path)).toEqual({
      exe: [tree.at('bin/app'), tree.at('opt/app/realapp')],
      cmdline: [],
    });
    expect(await findProgram('notexec', path)).toBeNull();
    expect(await findProgram(tree.at('opt/app/realapp'), [])).toBe(tree.at('opt/app/realapp'));
    expect(await findProgram('relative/app', path)).toBeNull();
  });

  it('sees through env, nice and variable assignments', async () => {
    const target = await execTarget(['env', 'GDK_BACKEND=x11', '-u', 'FOO', 'nice', '-n', '5', 'app'], path);
    expect(target.exe).toEqual([tree.at('bin/app'), tree.at('opt/app/realapp')]);
  });

  it('takes the Flatpak id of `flatpak run` and no exe', async () => {
    expect(
      await execTarget(
        ['/usr/bin/flatpak', 'run', '--branch=stable', '--command', 'chat', 'org.example.Chat', '@@u', '@@'],
        path,
      ),
    ).toEqual({
      exe: [],
      cmdline: [],
      flatpakId: 'org.example.Chat',
    });
  });

  it('matches an interpreted app by its script, never by the interpreter', async () => {
    const target = await execTarget(['python3', '-u', tree.at('opt/tool/main.py')], path);
    expect(target.exe).toEqual([]);
    expect(target.cmdline).toHaveLength(1);
    const re = new RegExp(target.cmdline[0]!);
    expect(re.test(`/usr/bin/python3.11 -u ${tree.at('opt/tool/main.py')}`)).toBe(true);
    expect(re.test('/usr/bin/python3.11 /opt/other.py')).toBe(false);
    expect(await execTarget(['python3'], path)).toEqual({ exe: [], cmdline: [] });
  });

  it('matches a shebang script by the command line the kernel builds', async () => {
    const target = await execTarget(['pyapp'], path);
    expect(target.exe).toEqual([]);
    const re = new RegExp(target.cmdline[0]!);
    expect(re.test(`python3 ${tree.at('bin/pyapp')}`)).toBe(true);
    expect(re.test(`/bin/cat ${tree.at('bin/pyapp')}`)).toBe(false);
  });

  it('follows a shell wrapper to the program it execs', async () => {
    const target = await execTarget(['browser', '%U'], path);
    expect(target.exe).toEqual([tree.at('opt/app/realapp')]);
    expect(new RegExp(target.cmdline[0]!).test(`/bin/sh ${tree.at('bin/browser')} --new-window`)).toBe(true);
  });

  it('analyses the command inside sh -c', async () => {
    expect((await execTarget(['sh', '-c', 'FOO=1 exec app --x'], path)).exe).toEqual([
      tree.at('bin/app'),
      tree.at('opt/app/realapp'),
    ]);
  });

  it('gives nothing for opaque launchers and missing programs', async () => {
    expect(await execTarget(['snapapp'], path)).toEqual({ exe: [], cmdline: [] });
    expect(await execTarget(['not-installed'], path)).toEqual({ exe: [], cmdline: [] });
  });
});

describe('helpers', () => {
  it('parses shebangs', () => {
    expect(parseShebang('#!/usr/bin/env python3 -u\nrest')).toEqual(['/usr/bin/env', 'python3', '-u']);
    expect(parseShebang('#! /bin/sh\n')).toEqual(['/bin/sh']);
    expect(parseShebang('\x7fELF')).toBeNull();
  });

  it('finds exec targets with simple variables, dropping runtime arguments and shell syntax', () => {
    const script = [
      'A=/opt',
      'B="$A/b"',
      'exec "$B/run" --flag $FLAGS "$@"',
      'exec -a name ${A}/other 2>/dev/null',
      '  exec electron /usr/lib/app/app.asar "$@"; echo never',
      'exec $UNKNOWN/x',
      'exec "$@"',
    ].join('\n');
    expect(shellExecTargets(script)).toEqual([
      ['/opt/b/run', '--flag'],
      ['/opt/other'],
      ['electron', '/usr/lib/app/app.asar'],
    ]);
  });

  it('reads the app id of flatpak run', () => {
    expect(flatpakRunId(['run', '--arch', 'x86_64', 'org.a.B'])).toBe('org.a.B');
    expect(flatpakRunId(['list'])).toBeNull();
  });
});
