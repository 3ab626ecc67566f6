import { describe, expect, it } from 'vitest';
import type { Interface } from '../api/schema.ts';
import { layoutFor, markFor } from '../layout/kernel-layout.ts';
import type { ConntrackRecord } from '../mechanism/conntrack/parse.ts';
import { Connections } from './connections.ts';
import { EventBus } from './event-bus.ts';

const layout = layoutFor('unit', 5);
const wlan0 = {
  name: 'wlan0',
  kind: 'wifi',
  addresses: [{ family: 4, address: '198.18.1.2', prefixLength: 24 }],
} as unknown as Interface;

function history(names: Map<string, { name: string; at: number }>) {
  return new Connections({
    layout,
    bus: new EventBus(),
    apps: () => [{ id: 'browser', tag: 1 }],
    classes: () => [],
    interfaces: () => [wlan0],
    evaluation: () => ({ state: 'routed', active: 'wlan0' }),
    rules: () => null,
    // As dns-names.ts: only a name whose answer came before the connection.
    nameOf: (_app, address, at) => {
      const n = names.get(address);
      return n && n.at <= at ? n.name : null;
    },
    problem: () => {},
    log: () => {},
  });
}

function udp(id: number, orig: [string, string], reply: [string, string], at: number): ConntrackRecord {
  const tuple = (src: string, dst: string) => ({
    src,
    dst,
    sport: 40000,
    dport: 53,
    packets: null,
    bytes: null,
  });
  return {
    type: 'NEW',
    at,
    family: 4,
    protocol: 'udp',
    state: null,
    orig: tuple(...orig),
    reply: tuple(...reply),
    mark: markFor(layout, 1),
    id,
  };
}

describe('Connections: names and where a lookup went', () => {
  it('names a connection by an earlier lookup, also when the answer is read after conntrack reported it', async () => {
    const names = new Map<string, { name: string; at: number }>();
    const h = history(names);
    names.set('198.18.200.10', { name: 'server.lab', at: 1000 });
    h.record(udp(1, ['198.18.1.2', '198.18.200.10'], ['198.18.200.10', '198.18.1.2'], 2000));
    // The reply's copy for this one comes in after conntrack's NEW.
    h.record(udp(2, ['198.18.1.2', '198.18.200.11'], ['198.18.200.11', '198.18.1.2'], 3000));
    h.record(udp(3, ['198.18.1.2', '198.18.200.12'], ['198.18.200.12', '198.18.1.2'], 3000));
    names.set('198.18.200.11', { name: 'late.lab', at: 2900 });
    names.set('198.18.200.12', { name: 'after.lab', at: 9000 }); // looked up after the connection
    const byKey = new Map((await h.list('browser', 10)).connections.map((c) => [c.key, c]));
    expect(byKey.get('1')?.name).toBe('server.lab');
    expect(byKey.get('2')?.name).toBe('late.lab');
    expect(byKey.get('3')?.name).toBeNull();
  });

  it('says a redirected lookup left by its egress, and one the stub answered stayed on this machine', async () => {
    const h = history(new Map());
    // DNATed to wlan0's resolver and masqueraded to wlan0's address: the reply tuple says so.
    h.record(udp(1, ['127.0.0.1', '127.0.0.53'], ['198.18.1.1', '198.18.1.2'], 1000));
    h.record(udp(2, ['127.0.0.1', '127.0.0.53'], ['127.0.0.53', '127.0.0.1'], 1000));
    const byKey = new Map((await h.list('browser', 10)).connections.map((c) => [c.key, c]));
    expect(byKey.get('1')?.egress).toBe('wlan0');
    expect(byKey.get('2')?.egress).toBe('lo');
  });
});
