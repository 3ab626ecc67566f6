import { describe, expect, it } from 'vitest';
import type { App, Interface } from '#switchyard/api/schema.ts';
import type { HelperConnection } from '#switchyard/api/shell-schema.ts';
import { standInStatus } from '../native-helper/src/daemon-testing/helper-standin.ts';
import { timeLeft } from './time-left.ts';
import { TRAY_QUARANTINE_SECONDS, type TrayItem, type TrayState, buildTrayModel } from './tray-model.ts';

const connected: HelperConnection = {
  state: 'connected',
  message: 'Connected.',
  socket: '/s',
  retryInMs: null,
};

function app(id: string, over: Partial<App> = {}): App {
  return {
    id,
    name: id[0]!.toUpperCase() + id.slice(1),
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
    ...over,
  };
}

function iface(name: string, over: Partial<Interface> = {}): Interface {
  return {
    name,
    index: 2,
    kind: 'ethernet',
    up: true,
    usable: true,
    mac: null,
    mtu: 1500,
    addresses: [],
    gateways: [],
    apps: [],
    counters: { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 },
    ...over,
  };
}

function state(over: Partial<TrayState> = {}): TrayState {
  return {
    connection: connected,
    status: standInStatus(),
    apps: [app('firefox'), app('spotify', { pids: [42] }), app('zoom')],
    interfaces: [
      iface('wlan0', { kind: 'wifi' }),
      iface('lo', { kind: 'loopback' }),
      iface('eth0', { usable: false }),
    ],
    pins: [],
    now: NOW,
    ...over,
  };
}

const NOW = Date.parse('2025-05-01T12:00:00Z');
const inMinutes = (m: number) => new Date(NOW + m * 60_000).toISOString();
type Held = App['held'][number];
const quarantined = (until: string | null, reason = 'quarantined by hand for 1 h'): Held => ({
  event: 'e-q00001',
  kind: 'quarantined',
  source: 'quarantine',
  reason,
  severity: 'high',
  since: inMinutes(-8),
  until,
});
const flagged = (source: string, reason: string): Held => ({
  event: 'e-f00001',
  kind: 'flagged',
  source,
  reason,
  severity: 'high',
  since: inMinutes(-1),
  until: null,
});

const find = (items: TrayItem[], label: string) =>
  items.find((i) => 'label' in i && i.label.startsWith(label));
const labels = (items: TrayItem[]) => items.map((i) => ('label' in i ? i.label : '---'));

describe('buildTrayModel', () => {
  it('shows the helper as down with only Open and Quit when not connected', () => {
    const m = buildTrayModel(
      state({
        connection: {
          state: 'absent',
          message: 'The Switchyard helper is not running.',
          socket: '/s',
          retryInMs: 500,
        },
        status: null,
      }),
    );
    expect(m.icon).toBe('down');
    expect(m.tooltip).toContain('not running');
    expect(labels(m.items)).toEqual(['Open Switchyard', '---', 'Helper not running', '---', 'Quit']);
    expect(
      m.items.filter((i) => 'action' in i && i.action).map((i) => ('action' in i ? i.action?.kind : '')),
    ).toEqual(['open', 'quit']);
  });

  it('is ok with the pause checkbox, override submenu and quit when all is well', () => {
    const m = buildTrayModel(state());
    expect(m.icon).toBe('ok');
    expect(m.tooltip).toBe('Switchyard — every app on its chosen path');
    const pause = find(m.items, 'Pause all policies');
    expect(pause).toMatchObject({
      type: 'checkbox',
      checked: false,
      action: { kind: 'pause', paused: true },
    });
    const override = find(m.items, 'Send everything through');
    if (override?.type !== 'submenu') throw new Error('no override submenu');
    // Loopback is not an egress; interfaces sorted; a down one is marked.
    expect(labels(override.items)).toEqual(['Off', 'eth0 (down)', 'wlan0']);
    expect(override.items[0]).toMatchObject({ checked: true, action: { kind: 'override', egress: null } });
    expect(override.items[2]).toMatchObject({
      checked: false,
      action: { kind: 'override', egress: 'wlan0' },
    });
    expect(labels(m.items).at(-1)).toBe('Quit');
  });

  it('turns red and names the apps whose kill switch blocks them', () => {
    const m = buildTrayModel(state({ status: standInStatus({ killed: ['firefox', 'gone'] }) }));
    expect(m.icon).toBe('killed');
    expect(m.tooltip).toBe('Switchyard — blocked by kill switch: Firefox, gone');
    expect(find(m.items, 'Blocked by kill switch')).toMatchObject({
      enabled: false,
      label: 'Blocked by kill switch: Firefox, gone',
    });
  });

  it('reflects pause and an active override', () => {
    const paused = buildTrayModel(state({ status: standInStatus({ paused: true }) }));
    expect(find(paused.items, 'Pause all policies')).toMatchObject({
      checked: true,
      action: { paused: false },
    });
    expect(find(paused.items, 'Send everything through')).toMatchObject({ enabled: false });
    expect(paused.tooltip).toContain('paused');
    const over = buildTrayModel(state({ status: standInStatus({ override: 'wlan0' }) }));
    const sub = find(over.items, 'Send everything through… (wlan0)');
    if (sub?.type !== 'submenu') throw new Error('no override submenu');
    expect(sub.items.find((i) => 'checked' in i && i.checked)).toMatchObject({ label: 'wlan0' });
  });

  it('gives each pinned app a quick egress switch that keeps its kill switch', () => {
    const firefox = app('firefox', {
      choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: true },
      egress: { state: 'routed', active: 'wlan0' },
    });
    const m = buildTrayModel(
      state({ apps: [firefox, app('zoom', { managed: true })], pins: ['firefox', 'zoom', 'unknown'] }),
    );
    const ff = find(m.items, 'Firefox');
    if (ff?.type !== 'submenu') throw new Error('no firefox submenu');
    expect(ff.label).toBe('Firefox — wlan0');
    expect(labels(ff.items)).toEqual(['System default', 'Only eth0 (down)', 'Only wlan0', 'Block']);
    expect(ff.items[2]).toMatchObject({
      checked: true,
      action: {
        kind: 'egress',
        app: 'firefox',
        choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: true },
      },
    });
    expect(ff.items[1]).toMatchObject({
      checked: false,
      action: { choice: { egresses: ['eth0'], killSwitch: true } },
    });
    expect(ff.items[3]).toMatchObject({ action: { choice: { mode: 'block' } } });
    // A managed app cannot be switched; an unknown pin is skipped.
    const zoom = find(m.items, 'Zoom');
    if (zoom?.type !== 'submenu') throw new Error('no zoom submenu');
    expect(zoom.label).toBe('Zoom (managed)');
    expect(zoom.items.every((i) => 'enabled' in i && !i.enabled)).toBe(true);
    expect(find(m.items, 'unknown')).toBeUndefined();
  });

  it('shows a multi-egress choice it cannot express as checked and read-only', () => {
    const ff = app('firefox', {
      choice: { mode: 'ordered', egresses: ['wlan0', 'eth0'], killSwitch: false },
    });
    const m = buildTrayModel(state({ apps: [ff], pins: ['firefox'] }));
    const sub = find(m.items, 'Firefox');
    if (sub?.type !== 'submenu') throw new Error('no submenu');
    expect(sub.items[0]).toMatchObject({
      label: 'wlan0 → eth0 (set in window)',
      checked: true,
      enabled: false,
    });
    expect(sub.items.filter((i) => 'checked' in i && i.checked)).toHaveLength(1);
  });

  it('lists apps to pin: pinned first, then running, with the toggle as action', () => {
    const m = buildTrayModel(state({ pins: ['zoom'] }));
    const pins = find(m.items, 'Pinned apps');
    if (pins?.type !== 'submenu') throw new Error('no pins submenu');
    expect(labels(pins.items)).toEqual(['Zoom', 'Spotify', 'Firefox']);
    expect(pins.items[0]).toMatchObject({
      checked: true,
      action: { kind: 'pin', app: 'zoom', pinned: false },
    });
    expect(pins.items[1]).toMatchObject({
      checked: false,
      action: { kind: 'pin', app: 'spotify', pinned: true },
    });
  });

  it('lists held apps with how long is left and the way to clear them, before the switches', () => {
    const m = buildTrayModel(
      state({
        status: standInStatus({ held: ['firefox', 'zoom', 'spotify', 'gone'] }),
        apps: [
          app('firefox', { held: [quarantined(inMinutes(51.5))] }),
          app('zoom', { held: [flagged('clamav', 'Eicar-Test-Signature in ~/Downloads/x.exe')] }),
          app('spotify', { held: [flagged('rkhunter', 'odd binary'), quarantined(inMinutes(125))] }),
        ],
      }),
    );
    expect(m.tooltip).toBe('Switchyard — held: Firefox, Zoom, Spotify, gone');
    expect(labels(m.items).slice(0, 7)).toEqual([
      'Open Switchyard',
      '---',
      'Firefox — quarantined, 52 min left',
      'Zoom — flagged',
      'Spotify — flagged, quarantined, 2 h 5 min left',
      'gone — held',
      '---',
    ]);
    expect(labels(m.items)[7]).toBe('Pause all policies');
    const ff = find(m.items, 'Firefox —');
    if (ff?.type !== 'submenu') throw new Error('no held firefox submenu');
    expect(labels(ff.items)).toEqual(['Quarantined: quarantined by hand for 1 h', '---', 'Clear quarantine']);
    expect(ff.items[0]).toMatchObject({ enabled: false });
    expect(ff.items[2]).toMatchObject({ enabled: true, action: { kind: 'clear', app: 'firefox' } });
    const zoom = find(m.items, 'Zoom —');
    if (zoom?.type !== 'submenu') throw new Error('no held zoom submenu');
    expect(labels(zoom.items)).toEqual([
      'Flagged by clamav: Eicar-Test-Signature in ~/Downloads/x.exe',
      '---',
      'Clear flag',
    ]);
    expect(zoom.items[2]).toMatchObject({ action: { kind: 'clear', app: 'zoom' } });
    const spotify = find(m.items, 'Spotify —');
    if (spotify?.type !== 'submenu') throw new Error('no held spotify submenu');
    expect(labels(spotify.items).at(-1)).toBe('Clear flag and quarantine');
    // The app list has not caught up with the status yet: still clearable by id.
    const gone = find(m.items, 'gone —');
    if (gone?.type !== 'submenu') throw new Error('no held submenu for an unknown app');
    expect(gone.items).toEqual([
      { type: 'normal', label: 'Clear flag', enabled: true, action: { kind: 'clear', app: 'gone' } },
    ]);
  });

  it('shows no held section when nothing is held', () => {
    const m = buildTrayModel(state({ apps: [app('firefox', { held: [] })] }));
    expect(m.items.some((i) => 'label' in i && / — (flagged|quarantined|held)/.test(i.label))).toBe(false);
    expect(labels(m.items).slice(0, 3)).toEqual(['Open Switchyard', '---', 'Pause all policies']);
  });

  it('offers a pinned app that runs a quarantine for an hour, unless one is in force', () => {
    const m = buildTrayModel(
      state({
        status: standInStatus({ held: ['zoom'] }),
        apps: [
          app('firefox', { pids: [10] }),
          app('spotify'),
          app('zoom', { pids: [11], held: [quarantined(inMinutes(30))] }),
          app('slack', { pids: [12], held: [flagged('clamav', 'x')] }),
        ],
        pins: ['firefox', 'spotify', 'zoom', 'slack'],
      }),
    );
    const menu = (label: string) => {
      const sub = m.items.find(
        (i) => i.type === 'submenu' && i.label.startsWith(label) && !i.label.includes(' — '),
      );
      if (sub?.type !== 'submenu') throw new Error(`no egress submenu for ${label}`);
      return sub.items;
    };
    const firefox = menu('Firefox');
    expect(labels(firefox).slice(-2)).toEqual(['---', 'Quarantine for 1 hour']);
    expect(firefox.at(-1)).toMatchObject({
      enabled: true,
      action: { kind: 'quarantine', app: 'firefox', seconds: TRAY_QUARANTINE_SECONDS },
    });
    expect(TRAY_QUARANTINE_SECONDS).toBe(3600);
    // Not running: nothing to quarantine. Quarantined: starting again would reset it. Flagged: may be.
    expect(labels(menu('Spotify'))).not.toContain('Quarantine for 1 hour');
    expect(labels(menu('Zoom'))).not.toContain('Quarantine for 1 hour');
    expect(labels(menu('Slack'))).toContain('Quarantine for 1 hour');
    // Apps that are only listed to pin get no quarantine item.
    const pins = find(m.items, 'Pinned apps');
    if (pins?.type !== 'submenu') throw new Error('no pins submenu');
    expect(pins.items.every((i) => i.type === 'checkbox')).toBe(true);
  });
});

describe('timeLeft', () => {
  it('rounds minutes up and says hours past the hour', () => {
    expect(timeLeft(inMinutes(52), NOW)).toBe('52 min left');
    expect(timeLeft(inMinutes(0.5), NOW)).toBe('1 min left');
    expect(timeLeft(inMinutes(59.5), NOW)).toBe('1 h left');
    expect(timeLeft(inMinutes(60), NOW)).toBe('1 h left');
    expect(timeLeft(inMinutes(65), NOW)).toBe('1 h 5 min left');
    expect(timeLeft(inMinutes(0), NOW)).toBe('ending now');
    expect(timeLeft(inMinutes(-3), NOW)).toBe('ending now');
  });
});
