// The FakeHelper's encryption-rule world: two tunnels (one down; the other with key groups "work", up,
// and "personal", still handshaking), app groups, a managed rule in "work", an event rule about to
// expire, user rules (one holding traffic), the trust defaults, and the networks the uplinks are on now
// and some seen before. Only apps that exist in the demo are named.
import type { Group, Network, Rule, Tunnel, TrustDefaults } from '#switchyard/api/schema.ts';

const MIN = 60_000;
const DAY = 86_400_000;

export function demoKey(r: () => number): string {
  return btoa(String.fromCharCode(...Array.from({ length: 32 }, () => Math.floor(r() * 256))));
}

export function demoTunnels(r: () => number, now: number): Tunnel[] {
  return [
    {
      name: 'sy-office',
      gateway: 'gw.example.net:51900',
      gatewayPublicKey: demoKey(r),
      publicKey: demoKey(r),
      addresses: ['198.19.40.12/32', 'fd5a:40::12/128'],
      cipher: 'auto',
      state: 'up',
      problem: null,
      gatewayDns: ['198.19.40.1'],
      txBytes: 48_300_000,
      rxBytes: 391_000_000,
      groups: [
        {
          name: 'work',
          established: true,
          epoch: 3,
          since: new Date(now - 14 * MIN).toISOString(),
          txBytes: 12_800_000,
          rxBytes: 96_400_000,
        },
        { name: 'personal', established: false, epoch: null, since: null },
      ],
    },
    {
      name: 'sy-travel',
      gateway: '203.0.113.40:51900',
      gatewayPublicKey: demoKey(r),
      publicKey: demoKey(r),
      addresses: ['198.19.77.2/32'],
      cipher: 'chacha20poly1305',
      state: 'down',
      problem: 'the gateway 203.0.113.40:51900 has not answered for 2 minutes',
    },
  ];
}

export function demoGroups(apps: ReadonlySet<string>): Group[] {
  const g = (name: string, ids: string[], managed = false): Group => ({
    name,
    apps: ids.filter((id) => apps.has(id)),
    managed,
  });
  return [
    g('Browsers', ['firefox', 'chromium', 'brave']),
    g('Chat', ['signal', 'slack', 'discord', 'telegram', 'element']),
    g('Work', ['thunderbird', 'evolution', 'remmina', 'nextcloud'], true),
  ];
}

/** The rules in their layers' order; rules naming an app the demo does not have are left out. */
export function demoRules(now: number, apps: ReadonlySet<string>): Rule[] {
  const at = (ms: number) => new Date(now + ms).toISOString();
  const rule = (
    id: string,
    name: string,
    origin: Rule['origin'],
    match: Partial<Rule['match']> & Pick<Rule['match'], 'subject'>,
    action: Rule['action'],
    extra: Partial<Rule> = {},
  ): Rule => ({
    id,
    name,
    origin,
    createdAt: at(-3 * DAY),
    expiresAt: null,
    match: { destinations: [], ports: [], protocol: 'any', network: 'any', ...match },
    action,
    ...extra,
  });
  const rules = [
    rule(
      'r-0ff1ce',
      'Work servers only through the office tunnel',
      'managed',
      { subject: { kind: 'group', group: 'Work' }, destinations: ['10.20.0.0/16', 'fd5a:20::/48'] },
      { type: 'encrypt', tunnel: 'sy-office', keyGroup: 'work' },
    ),
    rule(
      'r-e5c201',
      'Hotel sign-in page in clear',
      'event',
      { subject: { kind: 'app', app: 'firefox' }, ports: [{ from: 80, to: 80 }], protocol: 'tcp' },
      { type: 'clear' },
      {
        createdAt: at(-3 * MIN),
        expiresAt: at(12 * MIN),
        event: { source: 'captive-portal', reason: 'wlan0 is behind a sign-in page' },
      },
    ),
    rule(
      'r-7f3a10',
      'Chat on untrusted networks',
      'user',
      { subject: { kind: 'group', group: 'Chat' }, network: 'untrusted' },
      { type: 'encrypt', tunnel: 'sy-office' },
    ),
    rule(
      'r-b10c53',
      'No QUIC for browsers',
      'user',
      { subject: { kind: 'group', group: 'Browsers' }, ports: [{ from: 443, to: 443 }], protocol: 'udp' },
      { type: 'block' },
    ),
    rule(
      'r-2b9c44',
      'Git over SSH to the lab',
      'user',
      {
        subject: { kind: 'app', app: 'git' },
        destinations: ['198.18.0.0/15', 'fd5a::/16'],
        ports: [{ from: 22, to: 22 }],
        protocol: 'tcp',
      },
      { type: 'encrypt', tunnel: 'sy-travel' },
    ),
    rule(
      'r-c81d07',
      'No torrents on untrusted networks',
      'user',
      { subject: { kind: 'app', app: 'transmission' }, network: 'untrusted' },
      { type: 'block' },
    ),
    rule(
      'r-41e0b2',
      'Steam downloads in clear',
      'user',
      { subject: { kind: 'app', app: 'steam' }, ports: [{ from: 27015, to: 27050 }] },
      { type: 'clear' },
      { expiresAt: at(DAY - 40 * MIN) },
    ),
  ];
  return rules.filter((r) => r.match.subject.kind === 'group' || apps.has(r.match.subject.app));
}

export const DEMO_DEFAULTS: TrustDefaults = {
  trusted: { type: 'clear' },
  untrusted: { type: 'encrypt', tunnel: 'sy-office' },
};

/** Networks as the policy remembers them (no effective trust or interfaces yet). */
export type NetworkRecord = Omit<Network, 'effectiveTrust' | 'interfaces'>;

export function demoNetworks(now: number): { networks: NetworkRecord[]; attached: Record<string, string> } {
  const seen = (firstDays: number, lastDays: number) => ({
    firstSeen: new Date(now - firstDays * DAY).toISOString(),
    lastSeen: new Date(now - lastDays * DAY).toISOString(),
  });
  const networks: NetworkRecord[] = [
    {
      id: 'n-5f0c9a2e71d4',
      name: 'CoffeeHouse Guest',
      fingerprint: { gatewayMac: 'a4:2b:b0:11:7c:52', ssid: 'CoffeeHouse Guest', subnet: '192.168.1.0/24' },
      trust: null,
      managed: false,
      ...seen(0.2, 0),
    },
    {
      id: 'n-1e58a23f10b7',
      name: 'Network via 10.0.0.1 (00:1e:58:a2:3f:10)',
      fingerprint: { gatewayMac: '00:1e:58:a2:3f:10', ssid: null, subnet: '10.0.0.0/24' },
      trust: 'trusted',
      managed: false,
      ...seen(41, 0),
    },
    {
      id: 'n-9ac4f07b3e21',
      name: 'Office LAN',
      fingerprint: { gatewayMac: '3c:ec:ef:02:19:a0', ssid: null, subnet: '10.20.8.0/22' },
      trust: 'trusted',
      managed: true,
      ...seen(120, 2),
    },
    {
      id: 'n-c27e6d90a1f3',
      name: 'Lumière-Guests',
      fingerprint: { gatewayMac: 'f0:9f:c2:6a:11:e4', ssid: 'Lumière-Guests', subnet: '172.20.16.0/20' },
      trust: 'untrusted',
      managed: false,
      ...seen(19, 16),
    },
    {
      id: 'n-44b1e8c0d95a',
      name: 'Airport_Free_WiFi',
      fingerprint: { gatewayMac: '00:0b:86:9e:4d:21', ssid: 'Airport_Free_WiFi', subnet: '10.150.0.0/16' },
      trust: null,
      managed: false,
      ...seen(30, 30),
    },
  ];
  return { networks, attached: { wlan0: 'n-5f0c9a2e71d4', enp3s0: 'n-1e58a23f10b7' } };
}
