import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { ActivityState, filterEntries, toCsv, toEntry, toJson, type LogEntry } from './activity.svelte.ts';

const names: Record<string, string> = { firefox: 'Firefox', 'lab-browser': 'Lab Browser' };
const nameOf = (id: string) => names[id] ?? id;
const meta = (seq: number) => ({ seq, time: `2026-11-21T10:00:0${seq % 10}.000Z` });

describe('log lines', () => {
  it('names who changed a policy', () => {
    const e = toEntry(
      'policy.changed',
      {
        app: 'firefox',
        summary: 'Firefox: egress set to block',
        actor: { uid: 1000, user: 'alice', via: 'api' },
      },
      meta(1),
      nameOf,
    );
    expect(e).toMatchObject({
      type: 'policy.changed',
      app: 'firefox',
      actor: 'alice (uid 1000)',
      summary: 'Firefox: egress set to block',
    });
    const managed = toEntry(
      'policy.changed',
      { app: null, summary: 'Pinned', actor: { uid: 0, user: 'root', via: 'managed' } },
      meta(2),
      nameOf,
    );
    expect(managed.actor).toBe('managed policy');
  });

  it('writes failover, kill switch, restore and adoption as sentences with app names', () => {
    expect(
      toEntry('egress.failover', { app: 'firefox', from: 'wlan0', to: 'enp3s0' }, meta(1), nameOf).summary,
    ).toBe('Firefox moved from wlan0 to enp3s0.');
    expect(
      toEntry('egress.failover', { app: 'firefox', from: 'wlan0', to: null }, meta(1), nameOf).summary,
    ).toBe('Firefox moved from wlan0 to system routing.');
    expect(
      toEntry('egress.killed', { app: 'lab-browser', egresses: ['wlan0', 'enp3s0'] }, meta(1), nameOf)
        .summary,
    ).toBe("Lab Browser's kill switch engaged: wlan0, enp3s0 unavailable.");
    expect(toEntry('egress.restored', { app: 'firefox', egress: 'wlan0' }, meta(1), nameOf).summary).toBe(
      'Firefox is back on wlan0.',
    );
    expect(
      toEntry(
        'adoption',
        { app: 'firefox', pid: 42, exe: '/usr/bin/firefox', latencyUs: 310.4, via: 'exec' },
        meta(1),
        nameOf,
      ).summary,
    ).toBe('Firefox process 42 adopted (caught at exec) in 0.31 ms.');
  });
});

const entries: LogEntry[] = [
  { seq: 1, time: 't1', type: 'adoption', app: 'firefox', summary: 'a', actor: null, data: {} },
  {
    seq: 2,
    time: 't2',
    type: 'policy.changed',
    app: 'firefox',
    summary: 'b',
    actor: 'alice (uid 1000)',
    data: {},
  },
  { seq: 3, time: 't3', type: 'policy.changed', app: 'lab-browser', summary: 'c', actor: 'helper', data: {} },
];

describe('filter and export', () => {
  it('filters by type and by app', () => {
    expect(filterEntries(entries, 'policy.changed', 'all').map((e) => e.seq)).toEqual([2, 3]);
    expect(filterEntries(entries, 'all', 'firefox').map((e) => e.seq)).toEqual([1, 2]);
    expect(filterEntries(entries, 'policy.changed', 'firefox').map((e) => e.seq)).toEqual([2]);
    expect(filterEntries(entries, 'all', 'all')).toHaveLength(3);
  });

  it('writes CSV with a header and quotes commas, quotes and newlines', () => {
    const csv = toCsv([
      {
        seq: 7,
        time: '2026-11-21T10:00:00Z',
        type: 'policy.changed',
        app: 'firefox',
        actor: 'alice (uid 1000)',
        summary: 'Set "x", then\ny',
        data: {},
      },
      {
        seq: 8,
        time: '2026-11-21T10:00:01Z',
        type: 'interface.changed',
        app: null,
        actor: null,
        summary: 'wlan0 is down.',
        data: {},
      },
    ]);
    expect(csv).toBe(
      'seq,time,type,app,actor,summary\r\n' +
        '7,2026-11-21T10:00:00Z,policy.changed,firefox,alice (uid 1000),"Set ""x"", then\ny"\r\n' +
        '8,2026-11-21T10:00:01Z,interface.changed,,,wlan0 is down.\r\n',
    );
  });

  it('writes JSON that parses back to the same events', () => {
    const parsed = JSON.parse(toJson(entries)) as { seq: number; event: string; actor: string | null }[];
    expect(parsed.map((e) => [e.seq, e.event, e.actor])).toEqual([
      [1, 'adoption', null],
      [2, 'policy.changed', 'alice (uid 1000)'],
      [3, 'policy.changed', 'helper'],
    ]);
  });
});

describe('ActivityState', () => {
  afterEach(() => vi.restoreAllMocks());

  it('seeds from events.history, appends live events and drops duplicates', async () => {
    const fake = new FakeHelper();
    const activity = new ActivityState(fake, (id) => fake.apps.find((a) => a.id === id)?.name ?? id);
    await activity.load();
    const seeded = activity.entries.length;
    expect(seeded).toBe(fake.history.length);
    expect(fake.calls.find((c) => c.method === 'events.history')?.params).toEqual({ limit: 500 });

    fake.on('policy.changed', (d, m) => activity.add('policy.changed', d, m));
    await fake.call('egress.set', { app: 'lab-browser', choice: { mode: 'block' } });
    expect(activity.entries).toHaveLength(seeded + 1);
    const last = activity.entries.at(-1);
    expect(last?.summary).toBe('Lab Browser: egress set to block');
    expect(last?.actor).toBe('alice (uid 1000)');
    // The same event delivered twice (history overlap) is logged once.
    activity.add('policy.changed', last?.data, { seq: last?.seq ?? 0, time: last?.time ?? '' });
    expect(activity.entries).toHaveLength(seeded + 1);
    // State syncs are not log lines.
    activity.add('counters', { at: 1, apps: [], interfaces: [] }, { seq: 99_999, time: 'x' });
    expect(activity.entries).toHaveLength(seeded + 1);
  });

  it('exports through the shell in Electron', async () => {
    const fake = new FakeHelper();
    const call = vi.spyOn(fake, 'call');
    const electronLike = {
      kind: 'electron',
      call: (m: string, p: unknown) => (fake.call as (m: string, p: unknown) => Promise<unknown>)(m, p),
      on: () => () => {},
      onProtocolError: () => () => {},
      close: () => {},
    } as unknown as SwitchyardClient;
    const activity = new ActivityState(electronLike);
    expect(await activity.export('csv')).toBe('Saved the activity log to /home/alice/switchyard-events.csv.');
    expect(call).toHaveBeenCalledWith('shell.exportEvents', { format: 'csv' });
  });

  it('downloads the filtered log in the browser', async () => {
    const fake = new FakeHelper();
    const activity = new ActivityState(fake);
    await activity.load();
    activity.type = 'policy.changed';
    const blobs: Blob[] = [];
    URL.createObjectURL = vi.fn((b: Blob) => {
      blobs.push(b);
      return 'blob:test';
    }) as typeof URL.createObjectURL;
    URL.revokeObjectURL = vi.fn();
    const clicks: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(this.download);
    });
    const message = await activity.export('json');
    expect(message).toBe(`Downloaded ${activity.visible.length} events as JSON.`);
    expect(clicks[0]).toMatch(/^switchyard-activity-.*\.json$/);
    const text = await new Promise<string>((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.readAsText(blobs[0] as Blob);
    });
    const body = JSON.parse(text) as { event: string }[];
    expect(body.length).toBe(activity.visible.length);
    expect(body.every((e) => e.event === 'policy.changed')).toBe(true);
  });
});

describe('interface lines in the log', () => {
  const meta = { seq: 1, time: '2026-01-01T00:00:00Z' };
  const iface = (kind: string, up: boolean, usable: boolean) =>
    ({ interface: { name: 'sy-office', kind, up, usable }, name: 'sy-office', removed: false }) as never;

  it("names a tunnel's state in the CLI's words", () => {
    expect(toEntry('interface.changed', iface('tunnel', true, false), meta, (x) => x).summary).toBe(
      'sy-office is connecting.',
    );
    expect(toEntry('interface.changed', iface('tunnel', true, true), meta, (x) => x).summary).toBe(
      'sy-office is up.',
    );
    expect(toEntry('interface.changed', iface('wifi', true, false), meta, (x) => x).summary).toBe(
      'sy-office is up but not usable.',
    );
  });

  it('leaves loopback out of the log', () => {
    const log = new ActivityState({} as never);
    log.add(
      'interface.changed',
      { interface: { name: 'lo', kind: 'loopback', up: true, usable: false }, name: 'lo', removed: false },
      meta,
    );
    expect(log.entries).toEqual([]);
  });
});
