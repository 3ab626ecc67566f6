// The apply loop counts a WireGuard device whose peer does not answer (wireguard-health.ts) as not
// usable: its apps fail over, or are held by their kill switch, as for a link that went down.
import { describe, expect, it } from 'vitest';
import type { EventEnvelope, Interface } from '../api/schema.ts';
import { RecordingApplier } from '../daemon-testing/kernel-applier.ts';
import { MemorySockets } from '../daemon-testing/process-sockets.ts';
import { StandInTunnels } from '../daemon-testing/tunnel-view.ts';
import { layoutFor } from '../layout/kernel-layout.ts';
import { addApp, emptyPolicy, ensureEgressTables } from '../policy/model.ts';
import { EgressLoop } from './egress-loop.ts';
import { EventBus } from './event-bus.ts';
import { Problems } from './problems.ts';

const zero = { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 };
const iface = (name: string, kind: Interface['kind'], v4: string): Interface => ({
  name,
  index: 1,
  kind,
  up: true,
  usable: true,
  mac: null,
  mtu: 1420,
  addresses: [{ family: 4, address: v4, prefixLength: 32 }],
  gateways: kind === 'wireguard' ? [] : [{ family: 4, address: '198.18.2.1' }],
  apps: [],
  counters: zero,
});

describe('a WireGuard egress whose peer does not answer', () => {
  it('is not usable: one app fails over, a kill-switched one is held; both are back when it answers', async () => {
    const m = { icon: null, source: 'manual' as const, matchers: { exe: ['/bin/x'] } };
    let policy = emptyPolicy();
    const choice = (egresses: string[], killSwitch: boolean) => ({
      mode: 'ordered' as const,
      egresses,
      killSwitch,
    });
    policy = addApp(policy, { ...m, id: 'web', name: 'Web', choice: choice(['wg0', 'eth0'], false) });
    policy = addApp(policy, { ...m, id: 'vpn', name: 'VPN only', choice: choice(['wg0'], true) });
    policy = ensureEgressTables(policy);
    const bus = new EventBus();
    const events: EventEnvelope[] = [];
    bus.subscribe((e) => events.push(e));
    let answering = true;
    const loop = new EgressLoop({
      layout: layoutFor('unit', 7),
      reconciler: new RecordingApplier(),
      tunnels: new StandInTunnels(),
      bus,
      problems: new Problems(bus, () => {}),
      log: () => {},
      policy: () => policy,
      pidsOf: () => [],
      applied: () => {},
      readInterfaces: async () => [
        iface('eth0', 'ethernet', '198.18.2.2'),
        iface('wg0', 'wireguard', '10.99.0.2'),
      ],
      sockets: new MemorySockets(),
      retryMs: 1,
      wireguardAnswering: (name) => name !== 'wg0' || answering,
    });
    await loop.refresh('start');
    expect(loop.evaluation('web')).toEqual({ state: 'routed', active: 'wg0' });

    answering = false;
    await loop.refresh('interfaces');
    expect(loop.interfaces.find((i) => i.name === 'wg0')).toMatchObject({ up: true, usable: false });
    expect(loop.evaluation('web')).toEqual({ state: 'failed-over', active: 'eth0' });
    expect(loop.evaluation('vpn').state).toBe('killed');
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['egress.failover', 'egress.killed']));

    answering = true;
    await loop.refresh('interfaces');
    expect(loop.evaluation('web')).toEqual({ state: 'routed', active: 'wg0' });
    expect(loop.evaluation('vpn')).toEqual({ state: 'routed', active: 'wg0' });
  });
});
