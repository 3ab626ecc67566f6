import { describe, expect, it } from 'vitest';
import { RuleInput } from '../api/rules-model.ts';
import { UsageError, parseCommandLine } from './args.ts';
import { ruleCommands } from './rule-commands.ts';
import {
  parseAction,
  parseDestination,
  parseDuration,
  parsePort,
  parseTrust,
  ruleAddOptions,
  ruleAddRequest,
} from './rule-parse.ts';

/** The message of the UsageError fn throws (and fails when it throws nothing or something else). */
function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError, got none');
}

const addRequest = (argv: string[]) => ruleAddRequest(parseCommandLine(argv, ruleAddOptions));

describe('durations', () => {
  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['2h30m', 9000],
    ['1d', 86400],
    ['1d2h3m4s', 93784],
    ['366d', 366 * 86400],
  ])('%s is %i seconds', (text, seconds) => expect(parseDuration(text)).toBe(seconds));

  it.each(['', '5x', '1h30', '30', 'm', '1m1h', '1.5h', '-1h', ' 1h'])('%j is refused', (text) => {
    const message = usageError(() => parseDuration(text));
    expect(message).toContain('--expires');
    expect(message).toContain('2h30m');
  });

  it('refuses nothing and more than a year, with an example', () => {
    expect(usageError(() => parseDuration('0s'))).toMatch(/--expires "0s".*e\.g\. --expires 1h/);
    expect(usageError(() => parseDuration('367d'))).toMatch(/--expires "367d".*366d/);
  });
});

describe('ports', () => {
  it('takes one port or a range', () => {
    expect(parsePort('443')).toEqual({ from: 443, to: 443 });
    expect(parsePort('8000-8080')).toEqual({ from: 8000, to: 8080 });
    expect(parsePort('1-65535')).toEqual({ from: 1, to: 65535 });
  });

  it('says what is wrong and how to write it', () => {
    expect(usageError(() => parsePort('70000'))).toBe(
      '--port "70000": ports run from 1 to 65535, e.g. --port 443 or --port 8000-8080 (one port or range per --port)',
    );
    expect(usageError(() => parsePort('20-10'))).toBe(
      '--port "20-10": a range goes from the lower port to the higher, e.g. --port 10-20',
    );
    for (const bad of ['0', '65536', '1-65536', '443-70000', 'https', '80,443', '80-', '']) {
      const message = usageError(() => parsePort(bad));
      expect(message).toContain(`--port ${JSON.stringify(bad)}`);
      expect(message).toContain('e.g. --port');
    }
  });
});

describe('destinations', () => {
  it('takes networks and single addresses of both families', () => {
    for (const ok of ['198.18.0.0/15', 'fd5a::/16', '198.18.200.10', 'fd5a:200::10', '0.0.0.0/0'])
      expect(parseDestination(ok)).toBe(ok);
  });

  it.each(['300.1.1.1', '10.0.0.0/33', 'fd5a::/129', 'example.org', '10.0.0.0/', '198.18.0.0/x'])(
    '%j is refused with an example',
    (bad) => {
      const message = usageError(() => parseDestination(bad));
      expect(message).toContain(`--dst ${JSON.stringify(bad)} is not an address or network`);
      expect(message).toContain('e.g. --dst 198.18.0.0/15');
    },
  );
});

describe('networks are written by their first address', () => {
  it.each([
    ['198.18.200.10/24', '198.18.200.0/24'],
    ['198.19.0.0/15', '198.18.0.0/15'],
    ['1.2.3.4/0', '0.0.0.0/0'],
    ['fd5a:200::10/64', 'fd5a:200::/64'],
    ['fd5a:1:2:3:4:5:6:7/112', 'fd5a:1:2:3:4:5:6:0/112'],
    ['2001:db8:0:0:1:0:0:1/96', '2001:db8:0:0:1::/96'],
    ['::ffff:198.18.1.2/120', '::ffff:c612:100/120'],
  ])('%s names the network %s and the address', (text, network) => {
    expect(usageError(() => parseDestination(text))).toBe(
      `--dst "${text}" is an address inside a network; write --dst ${network} for the network or --dst ${text.split('/')[0]} for the one address`,
    );
  });

  it('networks and full-length prefixes pass as written', () => {
    for (const ok of [
      '198.18.0.0/16',
      '198.18.200.10/32',
      'fd5a:0::/16',
      'fd5a::1/128',
      '::/0',
      '10.0.0.0/8',
    ])
      expect(parseDestination(ok)).toBe(ok);
  });
});

describe('actions', () => {
  it('spells encrypt, clear and block as the API wants them', () => {
    expect(parseAction('clear')).toEqual({ type: 'clear' });
    expect(parseAction('block')).toEqual({ type: 'block' });
    expect(parseAction('encrypt:sy-tun0')).toEqual({ type: 'encrypt', tunnel: 'sy-tun0' });
    expect(parseAction('encrypt:sy-tun0/work')).toEqual({
      type: 'encrypt',
      tunnel: 'sy-tun0',
      keyGroup: 'work',
    });
  });

  it.each(['allow', 'encrypt', 'encrypt:', 'encrypt:a-very-long-tunnel0', 'encrypt:sy-tun0/Work', 'CLEAR'])(
    '%j is refused naming the flag and an example',
    (bad) => {
      const message = usageError(() => parseAction(bad));
      expect(message).toContain(`--action ${JSON.stringify(bad)}`);
      expect(message).toMatch(/encrypt:sy-tun0/);
    },
  );

  it('a missing action is named', () => {
    expect(usageError(() => parseAction(undefined))).toMatch(/^missing --action: give encrypt:TUNNEL/);
  });

  it('trust is trusted or untrusted', () => {
    expect(parseTrust('trusted', 'x', 'ex')).toBe('trusted');
    expect(usageError(() => parseTrust('home', 'rule default', 'switchyard rule default trusted'))).toBe(
      'rule default: say trusted or untrusted (not "home"), e.g. `switchyard rule default trusted`',
    );
  });
});

describe('rule add flags', () => {
  it('accumulate repeated --dst and --port and build a RuleInput the API accepts', () => {
    const request = addRequest([
      '--app',
      'firefox',
      '--dst',
      '198.18.0.0/15',
      '--port',
      '443',
      '--dst',
      'fd5a::/16',
      '--port',
      '8000-8080',
      '--proto',
      'tcp',
      '--network',
      'untrusted',
      '--action',
      'encrypt:sy-tun0/work',
      '--name',
      'web through the tunnel',
      '--expires',
      '2h30m',
      '--before',
      'r-1a2b3c',
    ]);
    expect(request).toEqual({
      rule: {
        name: 'web through the tunnel',
        match: {
          subject: { kind: 'app', app: 'firefox' },
          destinations: ['198.18.0.0/15', 'fd5a::/16'],
          ports: [
            { from: 443, to: 443 },
            { from: 8000, to: 8080 },
          ],
          protocol: 'tcp',
          network: 'untrusted',
        },
        action: { type: 'encrypt', tunnel: 'sy-tun0', keyGroup: 'work' },
        expiresIn: 9000,
      },
      before: 'r-1a2b3c',
    });
    expect(RuleInput.safeParse(request.rule).success).toBe(true);
  });

  it('leave out what was not given', () => {
    expect(addRequest(['--group', 'Work apps', '--action', 'block'])).toEqual({
      rule: {
        match: {
          subject: { kind: 'group', group: 'Work apps' },
          destinations: [],
          ports: [],
          protocol: 'any',
          network: 'any',
        },
        action: { type: 'block' },
      },
    });
  });

  it.each([
    [['--action', 'clear'], /exactly one of --app APP or --group GROUP, e\.g\./],
    [['--app', 'a', '--group', 'g', '--action', 'clear'], /exactly one of --app APP or --group GROUP/],
    [['--app', 'a'], /^missing --action: .*e\.g\. encrypt:sy-tun0/],
    [['--app', 'a', '--action', 'clear', '--port', '70000'], /^--port "70000".*e\.g\. --port 443/],
    [['--app', 'a', '--action', 'clear', '--port', '20-10'], /^--port "20-10".*e\.g\. --port 10-20/],
    [['--app', 'a', '--action', 'clear', '--dst', '10.0.0.0/33'], /^--dst "10\.0\.0\.0\/33".*e\.g\./],
    [['--app', 'a', '--action', 'clear', '--expires', 'soon'], /^--expires "soon".*like 90s/],
    [['--app', 'a', '--action', 'allow'], /^--action "allow".*e\.g\. encrypt:sy-tun0/],
    [['--app', 'a', '--action', 'clear', '--proto', 'icmp'], /^--proto "icmp": give tcp or udp/],
    [['--app', 'a', '--action', 'clear', '--network', 'home'], /^--network "home".*e\.g\. --network/],
    [['--app', 'Firefox', '--action', 'clear'], /^--app: "Firefox" is not an app id.*e\.g\. firefox/],
    [['--group', '-x', '--action', 'clear'], /--group/],
    [['--app', 'a', '--action', 'clear', '--before', 'R1'], /^--before: "R1" is not a rule id such as r-/],
    [['--app', 'a', '--action', 'clear', 'extra'], /^rule add takes only flags, not "extra"; e\.g\./],
  ])('%j is refused: %s', (argv, expected) => {
    expect(usageError(() => addRequest(argv))).toMatch(expected);
  });

  it('refuses an unknown flag', () => {
    expect(usageError(() => addRequest(['--app', 'a', '--action', 'clear', '--ports', '80']))).toMatch(
      /--ports/,
    );
  });
});

describe('the rule commands check their arguments before calling the helper', () => {
  const socket = '/nonexistent/switchyard-cli-test.sock';
  const run = (name: string, argv: string[]) => {
    const command = ruleCommands.find((c) => c.name === name)!;
    return command.run(parseCommandLine([...argv, '--socket', socket], command.options ?? {}));
  };

  it.each([
    ['rule add', ['--app', 'firefox', '--action', 'clear', '--port', '70000']],
    ['rule add', ['--app', 'firefox', '--action', 'encrypt']],
    ['rule rm', []],
    ['rule rm', ['r-1', 'r-2']],
    ['rule move', ['r-1a2b3c']],
    ['rule move', ['r-1a2b3c', '--end', '--before', 'r-4d5e6f']],
    ['rule move', ['r-1a2b3c', '--before', 'Nope']],
    ['rule default', ['--action', 'clear']],
    ['rule default', ['home', '--action', 'clear']],
    ['rule default', ['trusted', '--action', 'allow']],
    ['group add', ['work']],
    ['group add', []],
    ['group set', ['work', 'Firefox']],
    ['group rm', []],
    ['network trust', ['n-0123456789ab']],
    ['network trust', ['n-0123456789ab', 'maybe']],
    ['network trust', ['wlan0', 'trusted']],
    ['network unknown', ['any']],
    ['rules', ['extra']],
  ])('%s %j: a usage error, no connection', async (name, argv) => {
    await expect(run(name, argv)).rejects.toBeInstanceOf(UsageError);
  });

  it('with good arguments they go on to the helper (here: absent)', async () => {
    for (const [name, argv] of [
      ['rule move', ['r-1a2b3c', '--end']],
      ['network trust', ['n-0123456789ab', 'default']],
      ['group set', ['work']],
    ] as const) {
      const err = await run(name, [...argv]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).not.toBeInstanceOf(UsageError);
      expect(String(err)).toContain(socket);
    }
  });
});
