import { describe, expect, it } from 'vitest';
import { UsageError, leadingGlobals, parseCommandLine } from './args.ts';

describe('global options before the command', () => {
  it('splits them from the command and its own arguments', () => {
    expect(leadingGlobals(['--socket', '/s', 'app', 'show', 'x'])).toEqual({
      globals: ['--socket', '/s'],
      rest: ['app', 'show', 'x'],
    });
    expect(leadingGlobals(['--json', '--instance=lab', 'status'])).toEqual({
      globals: ['--json', '--instance=lab'],
      rest: ['status'],
    });
    // Options after the command are the command's own business.
    expect(leadingGlobals(['egress', 'set', 'x', '--socket', '/s'])).toEqual({
      globals: [],
      rest: ['egress', 'set', 'x', '--socket', '/s'],
    });
  });

  it('wants a value for --socket and --instance', () => {
    expect(() => leadingGlobals(['--socket'])).toThrow(UsageError);
    expect(() => leadingGlobals(['--socket', '--json', 'status'])).toThrow(/--socket needs a value/);
  });

  it('knows whether the user chose the socket', () => {
    const saved = process.env.SWITCHYARD_SOCKET;
    delete process.env.SWITCHYARD_SOCKET;
    try {
      expect(parseCommandLine([], {}).socketChosen).toBe(false);
      expect(parseCommandLine(['--socket', '/s'], {})).toMatchObject({ socket: '/s', socketChosen: true });
      expect(parseCommandLine(['--instance', 'lab'], {})).toMatchObject({
        socket: '/run/switchyard/lab.sock',
        socketChosen: true,
      });
    } finally {
      if (saved !== undefined) process.env.SWITCHYARD_SOCKET = saved;
    }
  });
});
