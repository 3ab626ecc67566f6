import { describe, expect, it } from 'vitest';
import { UsageError, parseCommandLine } from './args.ts';
import { explainArgs, withPort } from './explain-format.ts';

const OPTIONS = { app: { type: 'string' }, dst: { type: 'string' }, udp: { type: 'boolean' } } as const;
const args = (argv: string[]) => explainArgs(parseCommandLine(argv, OPTIONS));

describe('explain arguments', () => {
  it('takes APP HOST[:PORT], or the older --app and --dst', () => {
    expect(args(['firefox', 'example.org:80'])).toEqual(['firefox', 'example.org:80']);
    expect(args(['--app', 'firefox', '--dst', '192.0.2.1:443'])).toEqual(['firefox', '192.0.2.1:443']);
    expect(args(['--app', 'firefox', 'example.org'])).toEqual(['firefox', 'example.org']);
    expect(() => args(['firefox'])).toThrow(UsageError);
    expect(() => args(['firefox', 'a', 'b'])).toThrow(/unexpected "b"/);
  });

  it('gives a destination without a port 443', () => {
    expect(withPort('example.org')).toBe('example.org:443');
    expect(withPort('example.org:22')).toBe('example.org:22');
    expect(withPort('192.0.2.1')).toBe('192.0.2.1:443');
    expect(withPort('2001:db8::1')).toBe('[2001:db8::1]:443');
    expect(withPort('[2001:db8::1]')).toBe('[2001:db8::1]:443');
    expect(withPort('[2001:db8::1]:53')).toBe('[2001:db8::1]:53');
    expect(() => withPort('example.org:https')).toThrow(/the port after the colon is a number/);
  });
});
