// The FakeHelper's world: plausible apps, two uplinks and loopback, and three hours of history, all
// generated from a seeded PRNG so screenshots and tests are reproducible.
import { describeEgressSet } from '#switchyard/api/describe.ts';
import type { App, EgressChoice, EventName, Interface } from '#switchyard/api/schema.ts';

const BASE_NAMES = [
  'Lab Browser',
  'Firefox',
  'Chromium',
  'Thunderbird',
  'Signal',
  'Slack',
  'Discord',
  'Spotify',
  'Steam',
  'Telegram',
  'Transmission',
  'VLC',
  'Zoom',
  'Visual Studio Code',
  'GNOME Software',
  'Evolution',
  'Element',
  'Nextcloud',
  'Syncthing',
  'KeePassXC',
  'Obsidian',
  'LibreOffice',
  'GIMP',
  'Inkscape',
  'Blender',
  'OBS Studio',
  'qBittorrent',
  'Remmina',
  'Wireshark',
  'Terminal',
  'curl',
  'Podman',
  'Git',
  'Dropbox',
  'Brave',
  'Lutris',
  'Fractal',
  'Geary',
  'Calibre',
  'Audacity',
  'Krita',
  'Shotwell',
  'Rhythmbox',
  'Tor Browser',
];
const SUFFIXES = ['', ' Beta', ' Nightly', ' Dev', ' Flatpak', ' Portable', ' Preview', ' Canary'];
const ICON_COLOURS = ['#2f6fde', '#d9480f', '#2b8a3e', '#862e9c', '#c2255c', '#0b7285', '#e67700'];

/** The person the demo's own changes are made by. */
export const USER = { uid: 1000, user: 'alice', via: 'api' as const };

/** Small deterministic PRNG (mulberry32) so screenshots and tests are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function svgIcon(letter: string, colour: string): string {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="${colour}"/>` +
    `<circle cx="16" cy="16" r="9" fill="none" stroke="#fff" stroke-width="2.5"/>` +
    `<text x="16" y="20.5" font-family="sans-serif" font-size="11" font-weight="700" fill="#fff" text-anchor="middle">${letter}</text></svg>`;
  return `data:image/svg+xml;base64,${btoa(svg)}`;
}

function iface(
  name: string,
  index: number,
  kind: Interface['kind'],
  addresses: Interface['addresses'],
  gateways: Interface['gateways'],
  mac: string | null,
): Interface {
  return {
    name,
    index,
    kind,
    up: true,
    usable: kind !== 'loopback',
    mac,
    mtu: kind === 'loopback' ? 65536 : 1500,
    addresses,
    gateways,
    apps: [],
    counters: { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 },
  };
}

/** Loopback, a Wi-Fi uplink and an ethernet uplink (the system's default route). */
export function demoInterfaces(): Interface[] {
  return [
    iface('lo', 1, 'loopback', [{ family: 4, address: '127.0.0.1', prefixLength: 8 }], [], null),
    iface(
      'wlan0',
      3,
      'wifi',
      [
        { family: 4, address: '192.168.1.23', prefixLength: 24 },
        { family: 6, address: 'fd5a:1::23', prefixLength: 64 },
      ],
      [
        { family: 4, address: '192.168.1.1' },
        { family: 6, address: 'fd5a:1::1' },
      ],
      '3c:22:fb:18:4a:01',
    ),
    iface(
      'enp3s0',
      2,
      'ethernet',
      [{ family: 4, address: '10.0.0.42', prefixLength: 24 }],
      [{ family: 4, address: '10.0.0.1' }],
      '00:1b:21:aa:07:3e',
    ),
  ];
}

/**
 * `count` apps with unique ids and a mix of choices, sources and running processes. Their egress is
 * left at 'default' for the caller to compute; nextPid hands out process ids.
 */
export function demoApps(count: number, r: () => number, nextPid: () => number): App[] {
  const apps: App[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const base = BASE_NAMES[i % BASE_NAMES.length] ?? 'App';
    const round = Math.floor(i / BASE_NAMES.length);
    const name =
      round === 0
        ? base
        : `${base}${SUFFIXES[round % SUFFIXES.length]}${round >= SUFFIXES.length ? ` ${round}` : ''}`;
    let id = slug(name).slice(0, 60) || `app-${i}`;
    while (seen.has(id)) id = `${id}-${i}`;
    seen.add(id);
    const roll = r();
    const choice: EgressChoice =
      name === 'Lab Browser' || roll < 0.4
        ? { mode: 'default' }
        : roll < 0.5
          ? { mode: 'block' }
          : {
              mode: 'ordered',
              egresses: r() < 0.6 ? ['wlan0', 'enp3s0'] : r() < 0.5 ? ['enp3s0', 'wlan0'] : ['enp3s0'],
              killSwitch: r() < 0.4,
            };
    const running = name === 'Lab Browser' ? false : r() < 0.45;
    const pids = running ? Array.from({ length: 1 + Math.floor(r() * 9) }, () => nextPid()) : [];
    const source = name.includes('Flatpak')
      ? 'flatpak'
      : name === 'curl' || name === 'Git'
        ? 'process'
        : 'desktop';
    const exe = `/usr/bin/${slug(base)}`;
    apps.push({
      id,
      name,
      icon: r() < 0.3 ? svgIcon(name[0] ?? '?', ICON_COLOURS[i % ICON_COLOURS.length] ?? '#555') : null,
      source,
      matchers:
        source === 'flatpak'
          ? { flatpakId: `org.example.${slug(base).replace(/-/g, '')}` }
          : { exe: [exe], desktopId: `${slug(base)}.desktop` },
      tag: i + 1,
      choice,
      managed: i % 13 === 5,
      pids,
      egress: { state: 'default', active: null },
      counters: { txBytes: Math.floor(r() * 5e8), rxBytes: Math.floor(r() * 5e9), txRate: 0, rxRate: 0 },
      held: [],
    });
  }
  return apps;
}

export interface PastEvent {
  event: EventName;
  data: unknown;
  time: string;
}

/** Sixty events over the three hours before `now`: adoptions, policy changes, failovers, a problem. */
export function demoHistory(apps: readonly App[], r: () => number, now: number): PastEvent[] {
  const past: PastEvent[] = [];
  const start = now - 3 * 3600_000;
  const running = apps.filter((a) => a.pids.length);
  for (let k = 0; k < 60; k++) {
    const time = new Date(start + k * 170_000).toISOString();
    const app = apps[Math.floor(r() * apps.length)] as App;
    const roll = r();
    if (roll < 0.45 && running.length) {
      const ra = running[Math.floor(r() * running.length)] as App;
      past.push({
        event: 'adoption',
        data: {
          app: ra.id,
          pid: ra.pids[0] ?? 1,
          exe: ra.matchers.exe?.[0] ?? '/usr/bin/app',
          latencyUs: Math.round(150 + r() * 900),
          via: r() < 0.8 ? 'exec' : 'scan',
        },
        time,
      });
    } else if (roll < 0.65) {
      past.push({
        event: 'policy.changed',
        data: {
          app: app.id,
          summary: describeEgressSet(app.name, app.choice),
          actor: app.managed ? { uid: 0, user: 'root', via: 'managed' } : USER,
        },
        time,
      });
    } else if (roll < 0.78) {
      past.push({ event: 'egress.failover', data: { app: app.id, from: 'wlan0', to: 'enp3s0' }, time });
    } else if (roll < 0.86) {
      past.push({ event: 'egress.killed', data: { app: app.id, egresses: ['wlan0'] }, time });
    } else if (roll < 0.95) {
      past.push({ event: 'egress.restored', data: { app: app.id, egress: 'wlan0' }, time });
    } else {
      past.push({
        event: 'helper.problem',
        data: { message: 'wlan0 lost its default route; apps on it failed over.', severity: 'warning' },
        time,
      });
    }
  }
  return past;
}
