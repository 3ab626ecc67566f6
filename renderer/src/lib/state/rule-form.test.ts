import { describe, expect, it } from 'vitest';
import { checkDestination, networkOf, parseDestinations } from './cidr.ts';
import { emptyForm, toRuleInput } from './rule-form.ts';
import { actionText, countdown, matchText, parsePorts } from './rule-text.ts';

const known = {
  apps: new Set(['firefox', 'git']),
  groups: new Set(['chat']),
  tunnels: new Set(['sy-office']),
};

describe('destinations', () => {
  it('takes IPv4 and IPv6 networks and single addresses', () => {
    expect(parseDestinations('198.18.0.0/15, fd5a::/16\n10.0.0.1 ::1')).toEqual({
      values: ['198.18.0.0/15', 'fd5a::/16', '10.0.0.1', '::1'],
    });
    expect(parseDestinations('  ')).toEqual({ values: [] });
  });

  it('refuses what is not an address or network, and says which', () => {
    expect(parseDestinations('10.0.0.0/8, example.org')).toEqual({
      error: '"example.org" is not a destination such as 198.18.0.0/15 or fd5a::/16.',
    });
    expect(checkDestination('10.0.0.0/33').ok).toBe(false);
    expect(checkDestination('fd5a::/129').ok).toBe(false);
    expect(checkDestination('300.1.1.1').ok).toBe(false);
  });

  it('names the network when host bits are set', () => {
    expect(checkDestination('198.18.3.4/15')).toEqual({
      ok: false,
      error: '"198.18.3.4/15" has host bits set; the network is 198.18.0.0/15.',
    });
    expect(checkDestination('fd5a:1:2::9/32')).toEqual({
      ok: false,
      error: '"fd5a:1:2::9/32" has host bits set; the network is fd5a:1::/32.',
    });
    expect(checkDestination('::ffff:10.1.2.3/120')).toEqual({
      ok: false,
      error: '"::ffff:10.1.2.3/120" has host bits set; the network is ::ffff:a01:200/120.',
    });
    expect(checkDestination('0.0.0.0/0')).toEqual({ ok: true, value: '0.0.0.0/0' });
    expect(networkOf('198.18.0.0/15')).toBe('198.18.0.0/15');
    expect(networkOf('198.18.0.0')).toBeNull();
  });
});

describe('ports', () => {
  it('takes ports and ranges', () => {
    expect(parsePorts('22, 8000-8080 443')).toEqual({
      values: [
        { from: 22, to: 22 },
        { from: 8000, to: 8080 },
        { from: 443, to: 443 },
      ],
    });
  });
  it('refuses ports out of range and backward ranges', () => {
    expect(parsePorts('70000')).toEqual({
      error: '"70000" is not a port (1–65535) or a range such as 8000-8080.',
    });
    expect(parsePorts('0')).toHaveProperty('error');
    expect(parsePorts('https')).toHaveProperty('error');
    expect(parsePorts('90-80')).toEqual({ error: '"90-80" runs backwards; write it as 80-90.' });
  });
});

describe('the rule form', () => {
  it('reports every bad field at once', () => {
    const r = toRuleInput(emptyForm({ destinations: '10.0.0.5/8', ports: '0', tunnel: '' }), known);
    expect(r.input).toBeNull();
    expect(r.errors).toEqual({
      subject: 'Pick the app this rule is for.',
      destinations: '"10.0.0.5/8" has host bits set; the network is 10.0.0.0/8.',
      ports: '"0" is not a port (1–65535) or a range such as 8000-8080.',
      tunnel: 'Pick the tunnel that carries this traffic.',
    });
  });

  it('says how to get a tunnel when there is none, and needs an existing group', () => {
    const r = toRuleInput(emptyForm({ subjectKind: 'group', group: 'Work' }), {
      ...known,
      tunnels: new Set(),
    });
    expect(r.errors?.subject).toBe('There is no group “Work”.');
    expect(r.errors?.tunnel).toMatch(/no tunnel yet.*Clear or Block/);
  });

  it('makes the RuleInput the API takes', () => {
    const r = toRuleInput(
      emptyForm({
        app: 'git',
        destinations: '198.18.0.0/15 fd5a::/16',
        ports: '22',
        protocol: 'tcp',
        network: 'untrusted',
        tunnel: 'sy-office',
        name: '  Git over SSH ',
        expiresIn: 3600,
      }),
      known,
    );
    expect(r).toEqual({
      errors: null,
      input: {
        name: 'Git over SSH',
        match: {
          subject: { kind: 'app', app: 'git' },
          destinations: ['198.18.0.0/15', 'fd5a::/16'],
          ports: [{ from: 22, to: 22 }],
          protocol: 'tcp',
          network: 'untrusted',
        },
        action: { type: 'encrypt', tunnel: 'sy-office' },
        expiresIn: 3600,
      },
    });
    const block = toRuleInput(emptyForm({ subjectKind: 'group', group: 'Chat', action: 'block' }), known);
    expect(block.input).toEqual({
      match: {
        subject: { kind: 'group', group: 'Chat' },
        destinations: [],
        ports: [],
        protocol: 'any',
        network: 'any',
      },
      action: { type: 'block' },
    });
  });
});

describe('rules in words', () => {
  it('describes what a rule matches', () => {
    expect(
      matchText({
        subject: { kind: 'app', app: 'git' },
        destinations: ['10.0.0.0/8'],
        ports: [{ from: 22, to: 22 }],
        protocol: 'tcp',
        network: 'untrusted',
      }),
    ).toBe('TCP port 22 to 10.0.0.0/8 on untrusted networks');
    expect(
      matchText({
        subject: { kind: 'app', app: 'git' },
        destinations: [],
        ports: [],
        protocol: 'any',
        network: 'any',
      }),
    ).toBe('all traffic');
  });

  it('counts down to an expiry', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    expect(countdown('2025-01-01T12:00:30Z', now)).toBe('30 s left');
    expect(countdown('2025-01-01T12:14:01Z', now)).toBe('15 min left');
    expect(countdown('2025-01-01T14:05:00Z', now)).toBe('2 h 5 min left');
    expect(countdown('2025-01-03T13:00:00Z', now)).toBe('2 d 1 h left');
    expect(countdown('2025-01-01T11:00:00Z', now)).toBe('expiring');
  });
});

describe('key groups in the rule form', () => {
  const form = (keyGroup: string) =>
    emptyForm({ app: 'firefox', action: 'encrypt', tunnel: 'sy-office', keyGroup });

  it("sends the group with the encrypt action, and nothing for the tunnel's default session", () => {
    expect(toRuleInput(form(' work '), known).input?.action).toEqual({
      type: 'encrypt',
      tunnel: 'sy-office',
      keyGroup: 'work',
    });
    expect(toRuleInput(form(''), known).input?.action).toEqual({ type: 'encrypt', tunnel: 'sy-office' });
  });

  it('refuses a name the protocol cannot carry, and says what a name may be', () => {
    for (const bad of ['Work', 'a b', 'x'.repeat(25)])
      expect(toRuleInput(form(bad), known).errors?.keyGroup).toMatch(/up to 24 lowercase letters/);
    // A block rule has no key group to check.
    expect(toRuleInput({ ...form('Bad Name'), action: 'block' }, known).errors).toBeNull();
  });

  it('names the group in the action text', () => {
    expect(actionText({ type: 'encrypt', tunnel: 'sy-office', keyGroup: 'work' })).toBe(
      'Encrypt via sy-office (key group work)',
    );
    expect(actionText({ type: 'encrypt', tunnel: 'sy-office' })).toBe('Encrypt via sy-office');
  });
});
