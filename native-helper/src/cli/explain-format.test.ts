import { describe, expect, it } from 'vitest';
import { UsageError, parseCommandLine } from './args.ts';
import { explainArgs, explanationText, unmanagedArgs, unmanagedText, withPort } from './explain-format.ts';

const OPTIONS = {
  app: { type: 'string' },
  dst: { type: 'string' },
  udp: { type: 'boolean' },
  unmanaged: { type: 'boolean' },
} as const;
const args = (argv: string[]) => explainArgs(parseCommandLine(argv, OPTIONS));
const unmanaged = (argv: string[]) => unmanagedArgs(parseCommandLine(argv, OPTIONS));

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

describe('explain --unmanaged', () => {
  it('takes one destination and no app', () => {
    expect(unmanaged(['--unmanaged', 'example.org:80'])).toBe('example.org:80');
    expect(unmanaged(['--unmanaged', '--dst', '192.0.2.1'])).toBe('192.0.2.1');
    expect(() => unmanaged(['--unmanaged'])).toThrow(/say where it connects/);
    expect(() => unmanaged(['--unmanaged', 'firefox', 'example.org'])).toThrow(
      /unexpected "example.org"; `explain --unmanaged HOST\[:PORT\]` takes no app/,
    );
    expect(() => unmanaged(['--unmanaged', '--app', 'firefox', 'example.org'])).toThrow(/leave out --app/);
  });

  it('says where a process in no app goes in exclude mode, and that it is held with the tunnel down', () => {
    const destination = { host: 'server.lab', address: '198.18.0.10', port: 80, protocol: 'tcp' as const };
    const through = unmanagedText({
      destination,
      verdict: 'egress',
      egress: 'sy-tun0',
      sourceAddress: '10.77.0.2',
      reason:
        'Exclude mode via sy-tun0: a process in no app goes through sy-tun0; with sy-tun0 down it is held by the global kill switch.',
      steps: ['A process in no app has no mark on its sockets.'],
    });
    expect(through.split('\n')).toEqual([
      'a process in no app → server.lab (198.18.0.10) tcp/80',
      'verdict: egress via sy-tun0 from 10.77.0.2',
      'why:     Exclude mode via sy-tun0: a process in no app goes through sy-tun0; with sy-tun0 down it is held by the global kill switch.',
      '  1. A process in no app has no mark on its sockets.',
    ]);
    const held = unmanagedText({
      destination: { ...destination, host: '198.18.0.10' },
      verdict: 'block',
      egress: null,
      sourceAddress: null,
      reason:
        'Exclude mode via sy-tun0: sy-tun0 is down, so the global kill switch holds every process in no app.',
      steps: [],
    });
    expect(held.split('\n').slice(0, 2)).toEqual([
      'a process in no app → 198.18.0.10 tcp/80',
      'verdict: block',
    ]);
  });

  it("names the app in an app's answer", () => {
    const text = explanationText({
      app: 'probe',
      destination: { host: '198.18.1.1', address: '198.18.1.1', port: 80, protocol: 'tcp' },
      verdict: 'egress',
      egress: 'wlan0',
      sourceAddress: '198.18.1.2',
      reason:
        "Probe has LAN access: 198.18.1.1 is on wlan0's subnet 198.18.1.0/24, so it goes out on the LAN directly by wlan0.",
      steps: [],
    });
    expect(text.split('\n')[0]).toBe('probe → 198.18.1.1 tcp/80');
    expect(text).toContain('why:     Probe has LAN access');
  });
});
