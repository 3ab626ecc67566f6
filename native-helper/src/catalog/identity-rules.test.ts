import { describe, expect, it } from 'vitest';
import { AppId } from '../api/schema.ts';
import {
  appIdFromDesktopId,
  assignAppIds,
  cmdlinePatternFor,
  interpreterFamily,
  isInterpreter,
  isSystemProcess,
  scriptArgument,
  slugify,
} from './identity-rules.ts';

describe('app ids', () => {
  it('slugs desktop ids into valid app ids', () => {
    expect(appIdFromDesktopId('org.mozilla.firefox.desktop')).toBe('org.mozilla.firefox');
    expect(appIdFromDesktopId('kde4-KCalc.desktop')).toBe('kde4-kcalc');
    expect(appIdFromDesktopId('Visual Studio Code (Insiders).desktop')).toBe('visual-studio-code-insiders');
    expect(slugify('__Ünïcode__')).toBe('n-code');
    expect(slugify('***')).toBe('app');
    const long = slugify('a'.repeat(100));
    expect(long).toHaveLength(64);
    for (const id of [long, slugify('-.x.-'), appIdFromDesktopId('.hidden.desktop')])
      expect(AppId.safeParse(id).success).toBe(true);
  });

  it('resolves collisions deterministically: the exact spelling keeps the plain slug, others get a stable hashed suffix', () => {
    const requests = [
      { key: 'Foo.desktop', slug: 'foo', exact: false },
      { key: 'foo.desktop', slug: 'foo', exact: true },
      { key: 'bar.desktop', slug: 'bar', exact: true },
    ];
    const ids = assignAppIds(requests);
    expect(ids.get('foo.desktop')).toBe('foo');
    expect(ids.get('bar.desktop')).toBe('bar');
    expect(ids.get('Foo.desktop')).toMatch(/^foo-[0-9a-f]{6}$/);
    expect(assignAppIds([...requests].reverse())).toEqual(ids);
    // The hashed id does not depend on which other apps exist.
    expect(assignAppIds(requests.slice(0, 2)).get('Foo.desktop')).toBe(ids.get('Foo.desktop'));
  });

  it('never hands out a taken id', () => {
    const ids = assignAppIds([{ key: 'exe:/usr/bin/foo', slug: 'foo', exact: true }], new Set(['foo']));
    expect(ids.get('exe:/usr/bin/foo')).toMatch(/^foo-[0-9a-f]{6}$/);
  });
});

describe('interpreters', () => {
  it('recognises interpreters by basename, not ordinary programs', () => {
    for (const p of [
      '/usr/bin/python3',
      '/usr/bin/python3.11',
      'pypy3',
      'node',
      '/usr/bin/bash',
      'java',
      'electron25',
      'perl',
      'wine64',
    ]) {
      expect(isInterpreter(p), p).toBe(true);
    }
    for (const p of ['/usr/bin/firefox', '/usr/lib/chromium/chromium', 'pythonista', 'nodejs-tool'])
      expect(isInterpreter(p), p).toBe(false);
  });

  it('finds what the interpreter runs, skipping options and their values', () => {
    const python = interpreterFamily('python3')!;
    expect(scriptArgument(python, ['-u', '-W', 'ignore', '/opt/app/main.py', '--port', '1'])).toEqual({
      kind: 'script',
      value: '/opt/app/main.py',
    });
    expect(scriptArgument(python, ['-m', 'http.server'])).toEqual({
      kind: 'module',
      option: '-m',
      value: 'http.server',
    });
    expect(scriptArgument(python, ['-c', 'print(1)'])).toEqual({ kind: 'code', value: 'print(1)' });
    expect(scriptArgument(python, [])).toEqual({ kind: 'none' });
    const java = interpreterFamily('java')!;
    expect(scriptArgument(java, ['-Xmx1g', '-cp', 'lib/*', '-jar', '/opt/app.jar'])).toEqual({
      kind: 'script',
      value: '/opt/app.jar',
    });
    const node = interpreterFamily('node')!;
    expect(scriptArgument(node, ['--import', 'tsx', 'src/main.ts'])).toEqual({
      kind: 'script',
      value: 'src/main.ts',
    });
  });

  it('builds a cmdline regex that needs the interpreter in argv[0] and the script as a whole word', () => {
    const python = interpreterFamily('python3')!;
    const re = new RegExp(
      cmdlinePatternFor(python, { kind: 'script', value: '/opt/a.py' }, ['/opt/a.py', '/srv/a.py'])!,
    );
    expect(re.test('/usr/bin/python3 /opt/a.py --x')).toBe(true);
    expect(re.test('python3.11 -u /srv/a.py')).toBe(true);
    expect(re.test('/usr/bin/python3 /opt/a.pyc')).toBe(false);
    expect(re.test('vim /opt/a.py')).toBe(false);
    // An empty script would make an alternative that matches every python process.
    expect(cmdlinePatternFor(python, { kind: 'script', value: '' }, [''])).toBeNull();
  });
});

describe('isSystemProcess', () => {
  it('leaves out kernel threads, system users, sbin/libexec programs and session plumbing', () => {
    expect(isSystemProcess({ exe: null })).toBe(true);
    expect(isSystemProcess({ exe: '/usr/bin/curl', uid: 0 })).toBe(true);
    expect(isSystemProcess({ exe: '/usr/bin/curl', uid: 65534 })).toBe(true);
    expect(isSystemProcess({ exe: '/usr/sbin/NetworkManager' })).toBe(true);
    expect(isSystemProcess({ exe: '/usr/libexec/gvfsd', uid: 1000 })).toBe(true);
    expect(isSystemProcess({ exe: '/usr/bin/pipewire', uid: 1000 })).toBe(true);
    expect(isSystemProcess({ exe: '/usr/bin/curl', uid: 1000 })).toBe(false);
    expect(isSystemProcess({ exe: '/opt/Signal/signal-desktop', uid: 1001 })).toBe(false);
  });
});
