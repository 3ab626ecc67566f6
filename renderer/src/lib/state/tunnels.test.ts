import { describe, expect, it } from 'vitest';
import type { App, RuleView, Tunnel } from '#switchyard/api/schema.ts';
import { checkApp, draftFrom, idFor } from './app-form.ts';
import { checkTunnel, gatewayProblem } from './tunnel-form.ts';
import { tunnelApps } from './tunnels.ts';

const KEY = 'q6lZ5D3Yp7Y0s6b2n9VdC8c5hJ0uQk1mXWbq2vY9dEo=';
const tunnel: Tunnel = {
  name: 'sy-lab',
  gateway: 'gw.lab:51900',
  gatewayPublicKey: KEY,
  publicKey: KEY,
  addresses: ['10.77.0.2/24'],
  cipher: 'auto',
  state: 'down',
  problem: 'no handshake',
};

function app(id: string, extra: Partial<App> = {}): App {
  return {
    id,
    name: id,
    icon: null,
    source: 'desktop',
    matchers: { desktopId: `${id}.desktop` },
    tag: 1,
    choice: { mode: 'default' },
    managed: false,
    pids: [],
    egress: { state: 'default', active: null },
    counters: { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 },
    held: [],
    ...extra,
  };
}

function rule(id: string, subject: RuleView['match']['subject'], problem: string | null): RuleView {
  return {
    id,
    name: id,
    origin: 'user',
    createdAt: '2026-01-01T00:00:00Z',
    expiresAt: null,
    match: { subject, destinations: [], ports: [], protocol: 'any', network: 'any' },
    action: { type: 'encrypt', tunnel: 'sy-lab', keyGroup: 'work' },
    layer: 'user',
    position: 1,
    locked: false,
    stats: { flows: 0, packets: 0, bytes: 0 },
    problem,
  } as RuleView;
}

describe("a tunnel's apps", () => {
  it('carried by egress, held by a kill switch or a rule with a problem, encrypted by a rule', () => {
    const apps = [
      app('carried', { egress: { state: 'routed', active: 'sy-lab' } }),
      app('killed', {
        choice: { mode: 'ordered', egresses: ['wlan0', 'sy-lab'], killSwitch: true },
        egress: { state: 'killed', active: null },
      }),
      app('chat1'),
      app('git'),
      app('other'),
    ];
    const rules = [
      rule('r1', { kind: 'group', group: 'chat' }, null),
      rule('r2', { kind: 'app', app: 'git' }, 'tunnel sy-lab is down'),
    ];
    const got = tunnelApps(tunnel, rules, apps, [{ name: 'Chat', apps: ['chat1'], managed: false }]);
    expect(got.map((x) => [x.app.id, x.role])).toEqual([
      ['carried', 'carried'],
      ['killed', 'held'],
      ['chat1', 'encrypted'],
      ['git', 'held'],
    ]);
  });
});

describe('the Add tunnel form', () => {
  it('checks HOST:PORT, with IPv6 hosts in brackets', () => {
    expect(gatewayProblem('gw.example.net:51900')).toBeNull();
    expect(gatewayProblem('[2001:db8::1]:51900')).toBeNull();
    expect(gatewayProblem('gw.example.net')).toMatch(/HOST:PORT/);
    expect(gatewayProblem('gw:70000')).toBe('the port is a number from 1 to 65535');
  });

  it('gives tunnels.add its params, addresses split on commas or spaces', () => {
    expect(
      checkTunnel(
        {
          name: ' sy-x ',
          gateway: 'gw:1',
          gatewayPublicKey: KEY,
          addresses: '10.0.0.2/24,  fd00::2/64',
          cipher: 'auto',
        },
        [],
      ),
    ).toEqual({
      params: {
        name: 'sy-x',
        gateway: 'gw:1',
        gatewayPublicKey: KEY,
        addresses: ['10.0.0.2/24', 'fd00::2/64'],
        cipher: 'auto',
      },
    });
    const bad = checkTunnel(
      {
        name: 'a-name-far-too-long',
        gateway: 'x',
        gatewayPublicKey: KEY,
        addresses: '10.0.0.300',
        cipher: 'auto',
      },
      [],
    );
    expect(bad).toEqual({
      errors: {
        name: 'at most 15 letters, digits, dots, dashes or underscores',
        gateway: expect.stringMatching(/HOST:PORT/),
        addresses: 'an address such as 10.77.0.2/24 or fd77::2/64',
      },
    });
  });
});

describe('the Add app form', () => {
  it('reads a search as a path, a desktop file or a name', () => {
    expect(draftFrom('/opt/x/bin/tool')).toEqual({ kind: 'exe', name: 'tool', what: '/opt/x/bin/tool' });
    expect(draftFrom('org.gnome.Maps.desktop')).toEqual({
      kind: 'desktop',
      name: 'org.gnome.Maps',
      what: 'org.gnome.Maps.desktop',
    });
    expect(draftFrom('Backup')).toEqual({ kind: 'exe', name: 'Backup', what: '' });
    expect(idFor('My Tool 2!')).toBe('my-tool-2');
  });

  it('makes one matcher of the kind chosen', () => {
    expect(checkApp({ kind: 'cmdline', name: 'Backup', what: 'backup\\.py' }, [])).toEqual({
      params: { id: 'backup', name: 'Backup', matchers: { cmdline: 'backup\\.py' } },
    });
    expect(
      checkApp({ kind: 'desktop', name: 'Maps', what: '/usr/share/applications/a.b.desktop' }, []),
    ).toEqual({ params: { id: 'maps', name: 'Maps', matchers: { desktopId: 'a.b.desktop' } } });
    expect(checkApp({ kind: 'desktop', name: 'Maps', what: 'maps' }, [])).toEqual({
      errors: { what: 'a desktop file name ends in .desktop' },
    });
  });
});
