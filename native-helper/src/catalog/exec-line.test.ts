import { describe, expect, it } from 'vitest';
import { ExecLineError, expandFieldCodes, parseExecLine, splitExecLine } from './exec-line.ts';

describe('splitExecLine', () => {
  it('splits on spaces and honours double quotes with their four escapes', () => {
    expect(splitExecLine('foo  --a "b c" "d\\"e" "f\\\\g" "h\\$i" "j\\`k" "l\\m"')).toEqual([
      'foo',
      '--a',
      'b c',
      'd"e',
      'f\\g',
      'h$i',
      'j`k',
      'l\\m',
    ]);
  });

  it('joins adjacent quoted and plain parts into one argument and keeps empty quoted arguments', () => {
    expect(splitExecLine('prog --opt="a b"c ""')).toEqual(['prog', '--opt=a bc', '']);
  });

  it('accepts single quotes and backslashes outside quotes as GLib does', () => {
    expect(splitExecLine('sh -c \'echo "$HOME"\' a\\ b')).toEqual(['sh', '-c', 'echo "$HOME"', 'a b']);
  });

  it('throws a clear error for an unterminated quote', () => {
    expect(() => splitExecLine('foo "bar')).toThrow(ExecLineError);
    expect(() => splitExecLine("foo 'bar")).toThrow(/unterminated single quote/);
  });
});

describe('field codes', () => {
  const ctx = {
    icon: 'web-browser',
    name: 'Web Browser',
    desktopFilePath: '/usr/share/applications/web.desktop',
  };

  it('drops file and URL codes and deprecated codes', () => {
    expect(
      expandFieldCodes(['app', '%f', '%F', '%u', '%U', '%d', '%D', '%n', '%N', '%v', '%m'], ctx),
    ).toEqual(['app']);
  });

  it('expands %i to two arguments, %c to the name and %k to the file, %% to %', () => {
    expect(expandFieldCodes(['app', '%i', '--title=%c', '%k', '100%%', '%%U'], ctx)).toEqual([
      'app',
      '--icon',
      'web-browser',
      '--title=Web Browser',
      '/usr/share/applications/web.desktop',
      '100%',
      '%U',
    ]);
  });

  it('omits %i without an icon and removes codes inside longer arguments', () => {
    expect(expandFieldCodes(['app', '%i', '--file=%f', 'x%zy'], {})).toEqual(['app', '--file=', 'xy']);
  });

  it('undoes quoting before expanding codes', () => {
    expect(parseExecLine('"/opt/My App/run" --name "%c" %U', ctx)).toEqual([
      '/opt/My App/run',
      '--name',
      'Web Browser',
    ]);
  });
});
