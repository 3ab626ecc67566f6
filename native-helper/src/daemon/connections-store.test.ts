import { describe, expect, it } from 'vitest';
import type { Connection } from '../api/connections-schema.ts';
import { ConnectionStore } from './connections-store.ts';

function conn(key: number, app: string): Connection {
  return {
    key: String(key),
    app,
    family: 4,
    protocol: 'tcp',
    destination: '198.51.100.10',
    name: null,
    port: 443,
    source: '10.1.0.2',
    sourcePort: 40000 + key,
    egress: 'eth0',
    txBytes: null,
    rxBytes: null,
    txPackets: null,
    rxPackets: null,
    startedAt: new Date(key).toISOString(),
    endedAt: null,
    state: 'open',
    decidedBy: { kind: 'egress-choice', ruleId: null, name: 'egress choice' },
  };
}

describe('ConnectionStore', () => {
  it('lists newest first, per app or over all', () => {
    const s = new ConnectionStore(10, 100);
    s.add(conn(1, 'a'));
    s.add(conn(2, 'b'));
    s.add(conn(3, 'a'));
    expect(s.list('a').map((c) => c.key)).toEqual(['3', '1']);
    expect(s.list().map((c) => c.key)).toEqual(['3', '2', '1']);
    expect(s.list(undefined, 2).map((c) => c.key)).toEqual(['3', '2']);
    expect(s.list('nobody')).toEqual([]);
  });

  it('keeps at most perApp per app, dropping the oldest', () => {
    const s = new ConnectionStore(3, 100);
    for (let i = 1; i <= 5; i++) s.add(conn(i, 'a'));
    s.add(conn(6, 'b'));
    expect(s.list('a').map((c) => c.key)).toEqual(['5', '4', '3']);
    expect(s.list('b')).toHaveLength(1);
    expect(s.size).toBe(4);
    expect(s.get('1')).toBeUndefined();
  });

  it('keeps at most total over all apps, dropping the oldest of any app', () => {
    const s = new ConnectionStore(200, 50);
    for (let i = 0; i < 10_000; i++) s.add(conn(i, `app${i % 7}`));
    expect(s.size).toBe(50);
    expect(s.list().at(-1)!.key).toBe('9950');
    const perApp = [0, 1, 2, 3, 4, 5, 6].map((n) => s.list(`app${n}`).length);
    expect(perApp.reduce((a, b) => a + b, 0)).toBe(50);
  });

  it('updates a kept entry and says when one is gone', () => {
    const s = new ConnectionStore(2, 10);
    s.add(conn(1, 'a'));
    expect(s.update('1', { state: 'gone', txBytes: 450, rxBytes: 1545 })).toBe(true);
    expect(s.get('1')).toMatchObject({ state: 'gone', txBytes: 450, rxBytes: 1545 });
    expect(s.live()).toHaveLength(0);
    s.add(conn(2, 'a'));
    s.add(conn(3, 'a'));
    expect(s.update('1', { state: 'gone' })).toBe(false);
    expect(s.live().map((c) => c.key)).toEqual(['2', '3']);
  });

  it('a key seen again (the kernel reuses ids) replaces the old entry', () => {
    const s = new ConnectionStore(10, 10);
    s.add(conn(1, 'a'));
    s.add({ ...conn(1, 'b'), port: 80 });
    expect(s.size).toBe(1);
    expect(s.list('a')).toEqual([]);
    expect(s.list('b')[0]!.port).toBe(80);
  });

  it('forgets an app', () => {
    const s = new ConnectionStore(10, 10);
    s.add(conn(1, 'a'));
    s.add(conn(2, 'b'));
    s.forgetApp('a');
    expect(s.list().map((c) => c.key)).toEqual(['2']);
  });
});
