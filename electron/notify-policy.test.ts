import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ActiveEvent } from '#switchyard/api/events-model.ts';
import type { EventEnvelope } from '#switchyard/api/schema.ts';
import { type Alert, AlertBatcher, NoticeDebouncer, alertsNotice, noticeFor } from './notify-policy.ts';

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

const NOW = Date.parse('2025-05-01T12:00:00Z');
function active(id: string, kind: ActiveEvent['kind'], over: Partial<ActiveEvent> = {}): ActiveEvent {
  const base = {
    id,
    kind,
    app: null,
    source: 'network',
    reason: '',
    severity: 'low' as const,
    by: 'the helper',
    startedAt: new Date(NOW).toISOString(),
    endsAt: null,
    subject: null,
    repeats: 0,
    rules: [],
  };
  switch (kind) {
    case 'app.flagged':
      return { ...base, app: 'firefox', source: 'clamav', reason: 'Eicar found', severity: 'high', ...over };
    case 'app.quarantined':
      return {
        ...base,
        app: 'firefox',
        source: 'quarantine',
        reason: 'quarantined by hand for 1 h',
        severity: 'high',
        endsAt: new Date(NOW + 3600_000).toISOString(),
        ...over,
      };
    case 'network.unknown':
      return {
        ...base,
        subject: 'wlan0',
        reason: 'wlan0 is on network "Cafe", which nobody marked',
        ...over,
      };
    case 'network.untrusted':
      return { ...base, subject: 'wlan0', reason: 'wlan0 is on network "Cafe", which is untrusted', ...over };
    default:
      return { ...base, subject: 'work', reason: 'schedule work is open', ...over };
  }
}

describe('alertsNotice', () => {
  it('words each kind on its own', () => {
    const one = (e: Alert) => alertsNotice([e], names, NOW);
    expect(one(active('e-000001', 'app.flagged'))).toEqual({
      key: 'alerts:e-000001',
      title: 'Firefox was flagged',
      body: 'Firefox was flagged by clamav: Eicar found.',
      urgency: 'critical',
    });
    expect(one(active('e-000002', 'app.flagged', { severity: 'low' })).urgency).toBe('normal');
    expect(one(active('e-000003', 'app.quarantined'))).toMatchObject({
      title: 'Firefox is quarantined',
      body: 'Firefox is quarantined, 1 h left: quarantined by hand for 1 h.',
      urgency: 'normal',
    });
    expect(one(active('e-000004', 'network.untrusted'))).toMatchObject({
      title: 'wlan0 is on an untrusted network',
      body: 'wlan0 is on network "Cafe", which is untrusted.',
    });
    expect(one(active('e-000005', 'network.unknown'))).toMatchObject({
      title: 'wlan0 is on an unknown network',
      body: 'wlan0 is on network "Cafe", which nobody marked. Mark it trusted or untrusted in Switchyard.',
    });
  });

  it('sums up a burst: an unmarked network once, two in the title, more counted', () => {
    const network = [active('e-00000a', 'network.unknown'), active('e-00000b', 'network.untrusted')];
    expect(alertsNotice(network, names, NOW)).toEqual({
      key: 'alerts:e-00000a,e-00000b',
      title: 'wlan0 is on an unknown network',
      body: 'wlan0 is on network "Cafe", which nobody marked; it is treated as untrusted. Mark it trusted or untrusted in Switchyard.',
      urgency: 'normal',
    });
    const two = alertsNotice([active('e-00000c', 'app.quarantined'), ...network], names, NOW);
    expect(two.title).toBe('Firefox is quarantined and wlan0 is on an unknown network');
    expect(two.body.split('\n')).toHaveLength(2);
    const three = alertsNotice(
      [
        active('e-00000d', 'app.flagged', { app: 'zoom' }),
        active('e-00000c', 'app.quarantined'),
        active('e-00000e', 'network.untrusted', {
          subject: 'eth0',
          reason: 'eth0 is on network "Hotel", which is untrusted',
        }),
      ],
      names,
      NOW,
    );
    expect(three).toMatchObject({ title: 'Switchyard: 3 alerts', urgency: 'critical' });
    expect(three.body.split('\n')).toEqual([
      'zoom was flagged by clamav: Eicar found.',
      'Firefox is quarantined, 1 h left: quarantined by hand for 1 h.',
      'eth0 is on network "Hotel", which is untrusted.',
    ]);
  });
});

describe('AlertBatcher', () => {
  let flushed: string[][];
  let batcher: AlertBatcher;
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
    flushed = [];
    batcher = new AlertBatcher((alerts) => flushed.push(alerts.map((a) => a.id)), 1000);
  });
  afterEach(() => {
    batcher.stop();
    vi.useRealTimers();
  });

  it('gathers a burst into one flush after the delay, then starts a new one', () => {
    const q = active('e-000001', 'app.quarantined');
    batcher.active([q]);
    vi.advanceTimersByTime(400);
    const net = [active('e-000002', 'network.unknown'), active('e-000003', 'network.untrusted')];
    batcher.active([q, ...net]);
    batcher.flagged({ app: 'zoom', source: 'clamav', reason: 'x', severity: 'high', event: 'e-000004' });
    expect(flushed).toEqual([]);
    vi.advanceTimersByTime(599);
    expect(flushed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(flushed).toEqual([['e-000001', 'e-000002', 'e-000003', 'e-000004']]);
    batcher.active([q, ...net, active('e-000005', 'app.flagged', { app: 'slack' })]);
    vi.advanceTimersByTime(1000);
    expect(flushed).toEqual([['e-000001', 'e-000002', 'e-000003', 'e-000004'], ['e-000005']]);
  });

  it('never tells the same event id twice: repeats, a flag and its reactions.changed', () => {
    const f = active('e-000001', 'app.flagged');
    batcher.active([f]);
    batcher.flagged({
      app: 'firefox',
      source: 'clamav',
      reason: 'Eicar found',
      severity: 'high',
      event: f.id,
    });
    vi.advanceTimersByTime(1000);
    batcher.active([{ ...f, repeats: 1 }]);
    batcher.flagged({ app: 'firefox', source: 'clamav', reason: 'again', severity: 'high', event: f.id });
    batcher.active([{ ...f, repeats: 2 }]);
    vi.advanceTimersByTime(5000);
    expect(flushed).toEqual([['e-000001']]);
    // app.flagged may come first: the reactions.changed with the same id is the same news.
    batcher.flagged({ app: 'zoom', source: 'clamav', reason: 'x', severity: 'high', event: 'e-000002' });
    batcher.active([f, active('e-000002', 'app.flagged', { app: 'zoom' })]);
    vi.advanceTimersByTime(1000);
    expect(flushed).toEqual([['e-000001'], ['e-000002']]);
  });

  it('keeps quiet about events that started before it connected, and their repeats', () => {
    const old = active('e-000001', 'app.flagged', { startedAt: new Date(NOW - 60_000).toISOString() });
    vi.advanceTimersByTime(10_000);
    batcher.connected();
    const fresh = active('e-000002', 'network.untrusted', { startedAt: new Date().toISOString() });
    batcher.active([old, fresh]);
    batcher.flagged({ app: 'firefox', source: 'clamav', reason: 'again', severity: 'high', event: old.id });
    vi.advanceTimersByTime(1000);
    expect(flushed).toEqual([['e-000002']]);
    // Reconnected later: what started meanwhile is old news too; what starts after is told.
    vi.advanceTimersByTime(10_000);
    const during = active('e-000003', 'network.unknown', { startedAt: new Date().toISOString() });
    vi.advanceTimersByTime(1);
    batcher.connected();
    batcher.active([old, fresh, during]);
    vi.advanceTimersByTime(1000);
    expect(flushed).toEqual([['e-000002']]);
    batcher.active([
      old,
      fresh,
      during,
      active('e-000004', 'app.flagged', { startedAt: new Date().toISOString() }),
    ]);
    vi.advanceTimersByTime(1000);
    expect(flushed).toEqual([['e-000002'], ['e-000004']]);
  });

  it('drops what ended before the notice went out, schedules and quarantines already over', () => {
    batcher.active([active('e-000001', 'app.quarantined'), active('e-000002', 'schedule')]);
    batcher.active([
      active('e-000001', 'app.quarantined'),
      active('e-000002', 'schedule'),
      active('e-000005', 'network.unknown'),
    ]);
    expect(vi.getTimerCount()).toBe(1);
    batcher.active([active('e-000002', 'schedule')]); // cleared at once, the network marked
    batcher.active([
      active('e-000002', 'schedule'),
      active('e-000003', 'app.quarantined', { endsAt: new Date(NOW - 1).toISOString() }),
    ]);
    vi.advanceTimersByTime(5000);
    expect(flushed).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
