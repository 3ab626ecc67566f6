import { describe, expect, it } from 'vitest';
import { parseNetDev } from '../mechanism/netlink/link-stats.ts';
import { shouldSample } from './counters.ts';
import { EventBus } from './event-bus.ts';

describe('counter sampling', () => {
  it('samples only while a client is subscribed or read counters in the last 10 s', () => {
    const now = 1_000_000;
    expect(shouldSample(true, -Infinity, now)).toBe(true);
    expect(shouldSample(false, -Infinity, now)).toBe(false);
    expect(shouldSample(false, now - 9_000, now)).toBe(true);
    expect(shouldSample(false, now - 11_000, now)).toBe(false);
  });

  it('knows who wants counters: all topics, a list naming them, or none', () => {
    const bus = new EventBus();
    expect(bus.wants('counters')).toBe(false);
    const seen: string[] = [];
    const offProblems = bus.subscribe((e) => seen.push(e.event), new Set(['helper.problem']));
    expect(bus.wants('counters')).toBe(false);
    expect(bus.wants('helper.problem')).toBe(true);
    bus.emit('counters', { at: 1, apps: [], interfaces: [] });
    expect(seen).toEqual([]); // a listener gets only its topics
    const offAll = bus.subscribe((e) => seen.push(e.event));
    expect(bus.wants('counters')).toBe(true);
    offAll();
    offProblems();
    expect(bus.wants('helper.problem')).toBe(false);
  });
});

describe('/proc/net/dev', () => {
  it('reads each interface’s received and sent bytes (64-bit values too)', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 375191588   71718    0    0    0     0          0         0 375191588   71718    0    0    0     0       0          0',
      'wlp2s0:8589934592000 9 0 0 0 0 0 0 4242 7 0 0 0 0 0 0',
      'sy-up1.long-name: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0',
      '',
    ].join('\n');
    const links = parseNetDev(text);
    expect([...links.keys()]).toEqual(['lo', 'wlp2s0', 'sy-up1.long-name']);
    expect(links.get('lo')).toEqual({ rxBytes: 375191588, txBytes: 375191588 });
    expect(links.get('wlp2s0')).toEqual({ rxBytes: 8589934592000, txBytes: 4242 });
    expect(links.get('sy-up1.long-name')).toEqual({ rxBytes: 10, txBytes: 20 });
  });
});
