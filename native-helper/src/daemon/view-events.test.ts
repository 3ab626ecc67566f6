import { describe, expect, it } from 'vitest';
import type { App, Interface } from '../api/schema.ts';
import { EventBus } from './event-bus.ts';
import { ViewEvents } from './view-events.ts';

const counters = { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 };
const app = (over: Partial<App> = {}): App => ({
  id: 'chat',
  name: 'Chat',
  icon: null,
  source: 'desktop',
  matchers: { exe: ['/usr/bin/chat'] },
  tag: 3,
  choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: false },
  managed: false,
  pids: [],
  egress: { state: 'routed', active: 'wlan0' },
  counters,
  held: [],
  ...over,
});
const iface: Interface = {
  name: 'wlan0',
  index: 3,
  kind: 'wifi',
  up: true,
  usable: true,
  mac: null,
  mtu: 1500,
  addresses: [],
  gateways: [],
  apps: ['chat'],
  counters,
};

function setup() {
  const bus = new EventBus();
  const seen: Array<{ event: string; data: unknown }> = [];
  bus.subscribe((e) => seen.push({ event: e.event, data: e.data }));
  const v = new ViewEvents(bus);
  v.prime([app()], [iface]);
  return { v, seen };
}

describe('ViewEvents', () => {
  it('says nothing when only counters moved', () => {
    const { v, seen } = setup();
    v.publish(
      [app({ counters: { ...counters, txBytes: 99 } })],
      [{ ...iface, counters: { ...counters, rxRate: 5 } }],
    );
    expect(seen).toEqual([]);
  });

  it.each([
    ['the kill switch', { choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: true } }],
    ['the fallback order', { choice: { mode: 'ordered', egresses: ['enp3s0', 'wlan0'], killSwitch: false } }],
    ['the managed lock', { managed: true }],
    ['the egress state (pause)', { egress: { state: 'paused', active: null } }],
    ['its processes', { pids: [42] }],
  ] as const)('sends app.changed when %s changes', (_, over) => {
    const { v, seen } = setup();
    v.publish([app(over as Partial<App>)], [iface]);
    expect(seen).toEqual([
      { event: 'app.changed', data: { app: app(over as Partial<App>), id: 'chat', removed: false } },
    ]);
    v.publish([app(over as Partial<App>)], [iface]);
    expect(seen).toHaveLength(1); // once per change
  });

  it('sends removals and new interfaces', () => {
    const { v, seen } = setup();
    const eth: Interface = { ...iface, name: 'enp3s0', index: 4, kind: 'ethernet', apps: [] };
    v.publish([], [iface, eth]);
    expect(seen).toEqual([
      { event: 'app.changed', data: { app: null, id: 'chat', removed: true } },
      { event: 'interface.changed', data: { interface: eth, name: 'enp3s0', removed: false } },
    ]);
  });
});
