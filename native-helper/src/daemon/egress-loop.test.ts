import { describe, expect, it, vi } from 'vitest';
import type { EgressChoice, EventEnvelope, Interface } from '../api/schema.ts';
import { RecordingApplier } from '../daemon-testing/kernel-applier.ts';
import { MemorySockets } from '../daemon-testing/process-sockets.ts';
import { StandInTunnels } from '../daemon-testing/tunnel-view.ts';
import { layoutFor, markFor } from '../layout/kernel-layout.ts';
import { addApp, emptyPolicy, ensureEgressTables, setChoice, type PolicyDocument } from '../policy/model.ts';
import { EgressLoop, policyIdOf } from './egress-loop.ts';
import { EventBus } from './event-bus.ts';
import { Problems } from './problems.ts';

const layout = layoutFor('unit', 7);
const zero = { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 };

function iface(name: string, v4: string, usable = true): Interface {
  return {
    name,
    index: 1,
    kind: 'ethernet',
    up: usable,
    usable,
    mac: null,
    mtu: 1500,
    addresses: [{ family: 4, address: v4, prefixLength: 24 }],
    gateways: [{ family: 4, address: v4.replace(/\.\d+$/, '.1') }],
    apps: [],
    counters: zero,
  };
}

const ordered = (egresses: string[], killSwitch: boolean): EgressChoice => ({
  mode: 'ordered',
  egresses,
  killSwitch,
});

/** chat fails over wlan0 → eth0; vpn is held when wg0 goes (kill switch); web uses the system routing. */
function startPolicy(): PolicyDocument {
  const m = { icon: null, source: 'manual' as const, matchers: { exe: ['/bin/x'] } };
  let d = emptyPolicy();
  d = addApp(d, { ...m, id: 'chat', name: 'Chat', choice: ordered(['wlan0', 'eth0'], false) });
  d = addApp(d, { ...m, id: 'vpn', name: 'VPN only', choice: ordered(['wg0'], true) });
  d = addApp(d, { ...m, id: 'web', name: 'Web' });
  return ensureEgressTables(d);
}

function setup() {
  const applier = new RecordingApplier();
  const tunnels = new StandInTunnels();
  const sockets = new MemorySockets();
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe((e) => events.push(e));
  const logs: string[] = [];
  const problems = new Problems(bus, (m) => logs.push(m));
  const world = {
    policy: startPolicy(),
    interfaces: [iface('wlan0', '198.18.1.2'), iface('eth0', '198.18.2.2'), iface('wg0', '198.18.3.2')],
    pids: new Map<string, number[]>(),
  };
  let applied = 0;
  const loop = new EgressLoop({
    layout,
    reconciler: applier,
    tunnels,
    bus,
    problems,
    log: (m) => logs.push(m),
    policy: () => world.policy,
    pidsOf: (id) => world.pids.get(id) ?? [],
    applied: () => applied++,
    readInterfaces: async () => world.interfaces.map((i) => ({ ...i })),
    sockets,
    retryMs: 1,
  });
  const setUsable = (name: string, usable: boolean) => {
    world.interfaces = world.interfaces.map((i) => (i.name === name ? { ...i, up: usable, usable } : i));
  };
  /** The egress.* events since the last call. */
  const take = () => {
    const out = events
      .filter((e) => e.event.startsWith('egress.'))
      .map((e) => ({ event: e.event, data: e.data }));
    events.length = 0;
    return out;
  };
  return {
    loop,
    applier,
    tunnels,
    sockets,
    problems,
    events,
    logs,
    world,
    setUsable,
    take,
    applied: () => applied,
  };
}

const tagOf = (p: PolicyDocument, id: string) => p.apps.find((a) => a.id === id)!.tag;

describe('EgressLoop', () => {
  it('applies the compiled policy, then takes the new view and tells the tunnels each app', async () => {
    const t = setup();
    await t.loop.refresh('start');
    expect(t.applier.applied).toHaveLength(1);
    const rules = t.applier.last!.rules;
    const vpn = markFor(layout, tagOf(t.world.policy, 'vpn'));
    expect(rules.filter((r) => r.fwmark === vpn).map((r) => r.action)).toEqual([
      'lookup',
      'lookup',
      'unreachable',
      'unreachable',
    ]);
    expect(t.loop.interfaces.map((i) => i.name)).toEqual(['wlan0', 'eth0', 'wg0']);
    expect(t.loop.evaluation('chat')).toEqual({ state: 'routed', active: 'wlan0' });
    expect(t.loop.evaluation('vpn')).toEqual({ state: 'routed', active: 'wg0' });
    expect(t.loop.evaluation('web')).toEqual({ state: 'default', active: null });
    expect(t.loop.appsOn('wlan0')).toEqual(['chat']);
    expect(t.loop.appsOn('eth0')).toEqual([]);
    expect(t.applied()).toBe(1);
    expect(t.tunnels.apps).toEqual(t.world.policy.apps.map((a) => ({ tag: a.tag, policyId: policyIdOf(a) })));
    expect(t.take()).toEqual([]); // a start announces nothing: clients read the lists
  });

  it('serialises applies: refreshes during an apply share it and coalesce into one more', async () => {
    const t = setup();
    await t.loop.refresh('start');
    const release = t.applier.hold();
    const first = t.loop.refresh('policy');
    await vi.waitFor(() => expect(t.applier.inFlight).toBe(1));
    // The user changes the policy twice while the first apply is still running.
    t.world.policy = setChoice(t.world.policy, 'web', { mode: 'block' });
    const second = t.loop.refresh('policy');
    const third = t.loop.refresh('policy');
    expect(second).toBe(first);
    expect(third).toBe(first);
    release();
    await first;
    expect(t.applier.maxInFlight).toBe(1);
    expect(t.applier.attempts).toBe(3); // start, the running one, one more for both changes
    const web = markFor(layout, tagOf(t.world.policy, 'web'));
    expect(t.applier.last!.rules.filter((r) => r.fwmark === web).map((r) => r.action)).toEqual([
      'prohibit',
      'prohibit',
    ]);
    expect(t.loop.evaluation('web')).toEqual({ state: 'blocked', active: null });
    // Once done, the next refresh runs anew.
    const next = t.loop.refresh('policy');
    expect(next).not.toBe(first);
    await next;
    expect(t.applier.attempts).toBe(4);
  });

  it('announces failover and restore of an app when its egress goes and comes back', async () => {
    const t = setup();
    await t.loop.refresh('start');
    t.setUsable('wlan0', false);
    await t.loop.refresh('interfaces');
    expect(t.take()).toEqual([
      { event: 'egress.failover', data: { app: 'chat', from: 'wlan0', to: 'eth0' } },
    ]);
    expect(t.loop.evaluation('chat')).toEqual({ state: 'failed-over', active: 'eth0' });
    expect(t.loop.appsOn('eth0')).toEqual(['chat']);
    t.setUsable('wlan0', true);
    await t.loop.refresh('interfaces');
    expect(t.take()).toEqual([{ event: 'egress.restored', data: { app: 'chat', egress: 'wlan0' } }]);
    expect(t.loop.evaluation('chat')).toEqual({ state: 'routed', active: 'wlan0' });
  });

  it('without a kill switch, an app whose egresses are all gone falls over to the system routing', async () => {
    const t = setup();
    await t.loop.refresh('start');
    t.setUsable('wlan0', false);
    t.setUsable('eth0', false);
    await t.loop.refresh('interfaces');
    expect(t.take()).toEqual([{ event: 'egress.failover', data: { app: 'chat', from: 'wlan0', to: null } }]);
    expect(t.loop.evaluation('chat')).toEqual({ state: 'fallback-default', active: null });
  });

  it('announces once that the kill switch holds an app, keeps its kill rule, and announces the restore', async () => {
    const t = setup();
    await t.loop.refresh('start');
    const vpn = markFor(layout, tagOf(t.world.policy, 'vpn'));
    t.setUsable('wg0', false);
    await t.loop.refresh('interfaces');
    expect(t.take()).toEqual([{ event: 'egress.killed', data: { app: 'vpn', egresses: ['wg0'] } }]);
    expect(t.loop.evaluation('vpn')).toEqual({ state: 'killed', active: null });
    expect(t.applier.last!.rules.filter((r) => r.fwmark === vpn && r.action === 'unreachable')).toHaveLength(
      2,
    );
    expect(t.applier.last!.routes.some((r) => r.dev === 'wg0')).toBe(false);
    await t.loop.refresh('interfaces'); // nothing changed: no second event
    expect(t.take()).toEqual([]);
    t.setUsable('wg0', true);
    await t.loop.refresh('interfaces');
    expect(t.take()).toEqual([{ event: 'egress.restored', data: { app: 'vpn', egress: 'wg0' } }]);
  });

  it('a policy change moves apps without failover events', async () => {
    const t = setup();
    await t.loop.refresh('start');
    t.world.policy = ensureEgressTables(setChoice(t.world.policy, 'chat', ordered(['eth0'], false)));
    await t.loop.refresh('policy');
    expect(t.loop.evaluation('chat')).toEqual({ state: 'routed', active: 'eth0' });
    expect(t.take()).toEqual([]);
  });

  it('a tunnel is usable only once its handshake is done', async () => {
    const t = setup();
    t.tunnels.set('wg0', false);
    await t.loop.refresh('start');
    expect(t.loop.interfaces.find((i) => i.name === 'wg0')).toMatchObject({ kind: 'tunnel', usable: false });
    expect(t.loop.evaluation('vpn')).toEqual({ state: 'killed', active: null });
    t.tunnels.set('wg0', true);
    await t.loop.refresh('interfaces');
    expect(t.loop.evaluation('vpn')).toEqual({ state: 'routed', active: 'wg0' });
    expect(t.take()).toEqual([{ event: 'egress.restored', data: { app: 'vpn', egress: 'wg0' } }]);
  });

  it('retries a failed apply once and says so', async () => {
    const t = setup();
    await t.loop.refresh('start');
    t.applier.failNext(new Error('an interface changed under the batch'));
    t.setUsable('wlan0', false);
    await t.loop.refresh('interfaces');
    expect(t.applier.attempts).toBe(3);
    expect(t.problems.list).toEqual([]);
    expect(t.logs).toContain('applied on the second attempt (first: an interface changed under the batch)');
    expect(t.loop.evaluation('chat')).toEqual({ state: 'failed-over', active: 'eth0' });
  });

  it('reports an apply that fails twice as a problem, keeps the last good view, and recovers', async () => {
    const t = setup();
    await t.loop.refresh('start');
    t.take();
    const good = t.applier.last;
    t.applier.failNext(new Error('nft: No such file or directory'), 2);
    t.setUsable('wlan0', false);
    await t.loop.refresh('interfaces');
    expect(t.problems.list).toEqual(['could not apply the policy: nft: No such file or directory']);
    expect(t.events.filter((e) => e.event === 'helper.problem').map((e) => e.data)).toEqual([
      { message: 'could not apply the policy: nft: No such file or directory', severity: 'warning' },
    ]);
    expect(t.applier.last).toBe(good);
    expect(t.applied()).toBe(1);
    expect(t.loop.interfaces.find((i) => i.name === 'wlan0')?.usable).toBe(true);
    expect(t.loop.evaluation('chat')).toEqual({ state: 'routed', active: 'wlan0' });
    expect(t.take()).toEqual([]);
    // The next apply succeeds: the problem goes, and the change is announced against the kept view.
    await t.loop.refresh('interfaces');
    expect(t.problems.list).toEqual([]);
    expect(t.applied()).toBe(2);
    expect(t.take()).toEqual([
      { event: 'egress.failover', data: { app: 'chat', from: 'wlan0', to: 'eth0' } },
    ]);
  });

  it("shuts down the app's connections the new egress cannot carry, and only those", async () => {
    const t = setup();
    await t.loop.refresh('start');
    t.world.pids.set('chat', [101, 100]);
    const remote = { remoteAddress: '198.51.100.7', remotePort: 443 };
    t.sockets.process(100, [
      { fd: 3, localAddress: '198.18.1.2', ...remote }, // from wlan0: cannot leave by eth0
      { fd: 4, localAddress: '198.18.2.2', ...remote }, // from eth0 already
      { fd: 5, localAddress: '198.18.1.2' }, // not connected: follows by itself
      { fd: 6, localAddress: '127.0.0.1', ...remote }, // loopback
      { fd: 7, localAddress: '0.0.0.0', ...remote },
      { fd: 8, family: 1, localAddress: '198.18.1.2', ...remote }, // not an inet socket
    ]);
    // pid 101 exited meanwhile (no sockets to list): the others still move.
    t.world.pids.set('vpn', [200]);
    t.sockets.process(200, [{ fd: 3, localAddress: '198.18.3.2', ...remote }]);
    t.setUsable('wlan0', false);
    await t.loop.refresh('interfaces');
    expect(t.sockets.shutdowns).toEqual([{ pid: 100, fd: 3 }]);
  });

  it('stop waits for the apply under way and refuses new ones', async () => {
    const t = setup();
    await t.loop.refresh('start');
    const release = t.applier.hold();
    const running = t.loop.refresh('policy');
    await vi.waitFor(() => expect(t.applier.inFlight).toBe(1));
    let stopped = false;
    const stopping = t.loop.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(stopped).toBe(false);
    release();
    await Promise.all([running, stopping]);
    expect(t.applier.attempts).toBe(2);
    t.setUsable('wlan0', false);
    await t.loop.refresh('interfaces');
    expect(t.applier.attempts).toBe(2);
    expect(t.loop.evaluation('chat')).toEqual({ state: 'routed', active: 'wlan0' });
  });
});
