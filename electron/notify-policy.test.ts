import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '#switchyard/api/schema.ts';
import { NoticeDebouncer, noticeFor } from './notify-policy.ts';

const env = (event: EventEnvelope['event'], data: unknown): EventEnvelope => ({
  event,
  seq: 1,
  time: 't',
  data,
});
const names = (id: string) => ({ firefox: 'Firefox' })[id] ?? id;

describe('noticeFor', () => {
  it('notifies when a kill switch blocks an app', () => {
    const n = noticeFor(env('egress.killed', { app: 'firefox', egresses: ['wlan0', 'wg0'] }), names);
    expect(n).toMatchObject({ key: 'killed:firefox', title: 'Firefox is blocked', urgency: 'critical' });
    expect(n?.body).toBe('wlan0, wg0 are down and the kill switch stops Firefox from using any other path.');
  });

  it('notifies a failover to another egress or to the system route', () => {
    expect(
      noticeFor(env('egress.failover', { app: 'firefox', from: 'wlan0', to: 'eth0' }), names),
    ).toMatchObject({
      key: 'failover:firefox:eth0',
      title: 'Firefox switched to eth0',
      body: 'wlan0 is down; Firefox now goes through eth0.',
    });
    expect(noticeFor(env('egress.failover', { app: 'zoom', from: 'wlan0', to: null }), names)).toMatchObject({
      key: 'failover:zoom:default',
      title: 'zoom uses the system route',
    });
  });

  it('stays quiet for everything else', () => {
    expect(noticeFor(env('egress.restored', { app: 'firefox', egress: 'wlan0' }), names)).toBeNull();
    expect(noticeFor(env('counters', { at: 1, apps: [], interfaces: [] }), names)).toBeNull();
    expect(noticeFor(env('app.changed', { app: null, id: 'firefox', removed: true }), names)).toBeNull();
  });
});

describe('NoticeDebouncer', () => {
  it('drops the same news within the window and lets it through after', () => {
    let now = 1000;
    const d = new NoticeDebouncer(60_000, () => now);
    const killed = noticeFor(env('egress.killed', { app: 'firefox', egresses: ['wlan0'] }), names)!;
    const other = noticeFor(env('egress.failover', { app: 'firefox', from: 'wlan0', to: 'eth0' }), names)!;
    expect(d.admit(killed)).toBe(true);
    expect(d.admit(killed)).toBe(false);
    expect(d.admit(other)).toBe(true);
    now += 59_999;
    expect(d.admit(killed)).toBe(false);
    now += 1;
    expect(d.admit(killed)).toBe(true);
  });
});
