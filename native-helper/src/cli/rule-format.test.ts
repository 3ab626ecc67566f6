import { describe, expect, it } from 'vitest';
import { NetworkList, RuleList } from '../api/rules-schema.ts';
import type { RuleView } from '../api/rules-model.ts';
import { count } from './format.ts';
import {
  ago,
  expiry,
  groupsTable,
  matchText,
  networksText,
  ruleSummary,
  rulesTable,
  span,
} from './rule-format.ts';

const NOW = new Date('2025-06-01T12:00:00Z');
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

const base = {
  createdAt: '2025-06-01T11:00:00Z',
  expiresAt: null,
  problem: null,
  stats: { flows: 0, packets: 0, bytes: 0 },
};

// Parsed by the API's own schema, so the fixture is a value the helper could send.
const LIST = RuleList.parse({
  rules: [
    {
      ...base,
      id: 'corp-dns',
      name: 'corporate DNS stays encrypted',
      origin: 'managed',
      layer: 'managed',
      position: 1,
      locked: true,
      match: {
        subject: { kind: 'group', group: 'Everyone' },
        destinations: ['198.18.200.10'],
        ports: [{ from: 53, to: 53 }],
        protocol: 'udp',
        network: 'any',
      },
      action: { type: 'encrypt', tunnel: 'sy-corp' },
      stats: { flows: 1234, packets: 5000, bytes: 3 * 1024 * 1024 },
    },
    {
      ...base,
      id: 'r-0a1b2c',
      name: 'captive portal seen: block chat',
      origin: 'event',
      layer: 'event',
      position: 2,
      locked: false,
      expiresAt: '2025-06-01T12:59:30Z',
      match: { subject: { kind: 'app', app: 'lab-chat' } },
      action: { type: 'block' },
      event: { source: 'portal', reason: 'captive portal' },
    },
    {
      ...base,
      id: 'r-3d4e5f',
      name: 'lab-browser tcp port 80,8000-8080 to 198.18.0.0/15, fd5a::/16 on untrusted networks',
      origin: 'user',
      layer: 'user',
      position: 3,
      locked: false,
      expiresAt: '2025-06-01T14:30:00Z',
      match: {
        subject: { kind: 'app', app: 'lab-browser' },
        destinations: ['198.18.0.0/15', 'fd5a::/16'],
        ports: [
          { from: 80, to: 80 },
          { from: 8000, to: 8080 },
        ],
        protocol: 'tcp',
        network: 'untrusted',
      },
      action: { type: 'encrypt', tunnel: 'sy-work', keyGroup: 'web' },
      problem: 'there is no tunnel sy-work: the flows this rule covers are blocked',
      stats: { flows: 7, packets: 20, bytes: 1536 },
    },
  ],
  defaults: { trusted: { type: 'clear' }, untrusted: { type: 'encrypt', tunnel: 'sy-corp' } },
});

describe('times and counts', () => {
  it('reads as people say them', () => {
    expect(span(45)).toBe('45s');
    expect(span(3599)).toBe('59m');
    expect(span(59.9)).toBe('59s');
    expect(span(90)).toBe('1m');
    expect(span(9000)).toBe('2h30m');
    expect(span(86400 + 4 * 3600 + 59)).toBe('1d4h');
    expect(span(0)).toBe('0s');
    expect(expiry(null, NOW)).toBe('never');
    expect(expiry('2025-06-01T12:59:30Z', NOW)).toBe('in 59m');
    expect(expiry(new Date(NOW.getTime() + 3600_000 - 1500).toISOString(), NOW)).toBe('in 59m');
    expect(expiry('2025-06-01T11:59:59Z', NOW)).toBe('expired');
    expect(ago('2025-06-01T11:59:30Z', NOW)).toBe('just now');
    expect(ago('2025-05-29T10:00:00Z', NOW)).toBe('3d2h ago');
    expect([0, 999, 1000, 1234, 2_500_000, 7e9].map(count)).toEqual([
      '0',
      '999',
      '1.0k',
      '1.2k',
      '2.5M',
      '7.0G',
    ]);
  });

  it('a match in one phrase', () => {
    expect(matchText(LIST.rules[0]!.match)).toBe('to 198.18.200.10 udp/53');
    expect(matchText(LIST.rules[1]!.match)).toBe('all traffic');
    expect(matchText({ ...LIST.rules[1]!.match, ports: [{ from: 443, to: 443 }] })).toBe('port 443');
    expect(matchText({ ...LIST.rules[1]!.match, protocol: 'udp', network: 'trusted' })).toBe(
      'udp on trusted',
    );
  });
});

describe('the rule table', () => {
  it('lists the layers in order, then the two defaults, with locks, expiry, stats and problems', () => {
    expect(plain(rulesTable(LIST, NOW)).split('\n')).toEqual([
      '#  ID           LAYER    NAME                              SUBJECT         MATCH                                                     ACTION               EXPIRES   FLOWS / BYTES  PROBLEM',
      '1  corp-dns 🔒  managed  corporate DNS stays encrypted     group Everyone  to 198.18.200.10 udp/53                                   encrypt:sy-corp      never     1.2k / 3.1 MB',
      '2  r-0a1b2c     event    captive portal seen: block chat   lab-chat        all traffic                                               block                in 59m    0 / 0 B',
      '3  r-3d4e5f     user     lab-browser tcp port 80,8000-80…  lab-browser     to 198.18.0.0/15,fd5a::/16 tcp/80,8000-8080 on untrusted  encrypt:sy-work/web  in 2h30m  7 / 1.5 kB     there is no tunnel sy-work: the flows this rule covers are blocked',
      '-  -            default  trusted networks                  any app         no rule matched                                           clear                never     -',
      '-  -            default  untrusted networks                any app         no rule matched                                           encrypt:sy-corp      never     -',
    ]);
  });

  it('leaves out the problem column when no rule has one, and says when there are no rules', () => {
    const calm = { ...LIST, rules: LIST.rules.map((r) => ({ ...r, problem: null })) };
    expect(plain(rulesTable(calm, NOW))).not.toMatch(/PROBLEM/);
    const empty = plain(rulesTable({ ...LIST, rules: [] }, NOW)).split('\n');
    expect(empty[0]).toMatch(/^No rules yet/);
    expect(empty.filter((l) => l.includes(' default '))).toHaveLength(2);
  });

  it('sums up a new rule in one line, with its problem after it', () => {
    const [, , user] = LIST.rules as [RuleView, RuleView, RuleView];
    expect(plain(ruleSummary(user, NOW)).split('\n')).toEqual([
      'added rule r-3d4e5f at #3 (user): lab-browser, to 198.18.0.0/15,fd5a::/16 tcp/80,8000-8080 on untrusted → encrypt:sy-work/web, expires in 2h30m',
      'warning: there is no tunnel sy-work: the flows this rule covers are blocked',
    ]);
    expect(plain(ruleSummary({ ...LIST.rules[1]!, expiresAt: null }, NOW))).toBe(
      'added rule r-0a1b2c at #2 (event): lab-chat, all traffic → block',
    );
  });
});

describe('groups and networks', () => {
  it('groups with their apps and locks', () => {
    expect(
      plain(
        groupsTable([
          { name: 'work', apps: ['lab-browser', 'lab-chat'], managed: false },
          { name: 'Everyone', apps: [], managed: true },
        ]),
      ).split('\n'),
    ).toEqual(['GROUP        APPS', 'work         lab-browser, lab-chat', 'Everyone 🔒  (none)']);
    expect(groupsTable([])).toMatch(/^No groups\. Make one with `switchyard group add NAME APP…`/);
  });

  const NETWORKS = NetworkList.parse({
    networks: [
      {
        id: 'n-0123456789ab',
        name: 'Network via 198.18.1.1 (02:00:00:00:01:01)',
        fingerprint: { gatewayMac: '02:00:00:00:01:01', ssid: null, subnet: '198.18.1.0/24' },
        trust: null,
        effectiveTrust: 'untrusted',
        firstSeen: '2025-05-29T10:00:00Z',
        lastSeen: '2025-05-29T10:00:00Z',
        interfaces: ['wlan0'],
        managed: false,
      },
      {
        id: 'n-ba9876543210',
        name: 'Office',
        fingerprint: { gatewayMac: '02:00:00:00:02:01', ssid: 'corp', subnet: '198.18.2.0/24' },
        trust: 'trusted',
        effectiveTrust: 'trusted',
        firstSeen: '2025-05-01T09:00:00Z',
        lastSeen: '2025-06-01T11:15:00Z',
        interfaces: [],
        managed: true,
      },
    ],
    unknownTrust: 'untrusted',
  });

  it('each network as a block, then the trust of unmarked ones', () => {
    expect(plain(networksText(NETWORKS, NOW))).toBe(
      [
        'n-0123456789ab  Network via 198.18.1.1 (02:00:00:00:01:01)',
        '  trust:    (default: untrusted)',
        '  uplinks:  wlan0',
        '  gateway:  02:00:00:00:01:01',
        '  subnet:   198.18.1.0/24',
        '  seen:     first 3d2h ago, last now',
        '',
        'n-ba9876543210  Office  🔒 managed',
        '  trust:    trusted',
        '  uplinks:  none now',
        '  gateway:  02:00:00:00:02:01',
        '  subnet:   198.18.2.0/24',
        '  ssid:     corp',
        '  seen:     first 31d3h ago, last 45m ago',
        '',
        'Networks nobody marked are untrusted.',
      ].join('\n'),
    );
    expect(plain(networksText({ networks: [], unknownTrust: 'trusted' }, NOW))).toBe(
      'No networks seen yet.\n\nNetworks nobody marked are trusted.',
    );
  });
});
