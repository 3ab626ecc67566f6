import { describe, expect, it } from 'vitest';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import { AppsState, countByFilter, filterApps } from './apps.svelte.ts';
import { Notices } from './notices.svelte.ts';

async function loaded(opts: ConstructorParameters<typeof FakeHelper>[0] = {}) {
  const fake = new FakeHelper(opts);
  const notices = new Notices(0);
  const apps = new AppsState(fake, notices);
  await apps.load();
  return { fake, apps, notices };
}

describe('apps filtering', () => {
  it('filters by managed, running and blocked and sorts by name', async () => {
    const { fake } = await loaded();
    const all = fake.apps;
    const managed = filterApps(all, '', 'managed');
    expect(managed.length).toBeGreaterThan(0);
    expect(managed.every((a) => a.managed)).toBe(true);
    const running = filterApps(all, '', 'running');
    expect(running.every((a) => a.pids.length > 0)).toBe(true);
    expect(running.length).toBe(all.filter((a) => a.pids.length > 0).length);
    const blocked = filterApps(all, '', 'blocked');
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked.every((a) => a.choice.mode === 'block' || a.egress.state === 'killed')).toBe(true);
    const names = filterApps(all, '', 'all').map((a) => a.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });

  it('searches names, ids and executable paths, ignoring case', async () => {
    const { fake } = await loaded();
    expect(filterApps(fake.apps, 'lab brow', 'all').map((a) => a.name)).toEqual(['Lab Browser']);
    expect(filterApps(fake.apps, '/usr/bin/firefox', 'all').map((a) => a.id)).toEqual(['firefox']);
    expect(filterApps(fake.apps, 'no such app', 'all')).toEqual([]);
  });

  it('counts each filter', async () => {
    const { fake } = await loaded();
    const counts = countByFilter(fake.apps);
    expect(counts.all).toBe(fake.apps.length);
    expect(counts.managed).toBe(fake.apps.filter((a) => a.managed).length);
  });

  it('updates the derived visible list when the query or filter changes', async () => {
    const { apps } = await loaded();
    expect(apps.visible.length).toBe(36);
    apps.query = 'firefox';
    expect(apps.visible.map((a) => a.id)).toEqual(['firefox']);
    apps.query = '';
    apps.filter = 'managed';
    expect(apps.visible.every((a) => a.managed)).toBe(true);
  });
});

describe('live counters', () => {
  it('turns a counters event into per-app rates, leaving unknown apps alone', async () => {
    const { apps } = await loaded();
    const firefox = apps.byId('firefox');
    expect(firefox).toBeDefined();
    apps.applyCounters({
      at: 1_000,
      apps: [
        { id: 'firefox', txBytes: 10_000, rxBytes: 90_000, txRate: 1234, rxRate: 56_789 },
        { id: 'not-in-catalog', txBytes: 1, rxBytes: 1, txRate: 1, rxRate: 1 },
      ],
      interfaces: [],
    });
    expect(apps.byId('firefox')?.counters).toEqual({
      txBytes: 10_000,
      rxBytes: 90_000,
      txRate: 1234,
      rxRate: 56_789,
    });
    expect(apps.byId('not-in-catalog')).toBeUndefined();
  });

  it('follows the fake helper ticking once a second', async () => {
    const { fake, apps } = await loaded();
    fake.on('counters', (d) => apps.applyCounters(d));
    fake.tick();
    const runningRouted = apps.list.find((a) => a.pids.length > 0 && a.egress.state === 'routed');
    expect(runningRouted?.counters.rxRate).toBeGreaterThan(0);
    const stopped = apps.list.find((a) => a.pids.length === 0);
    expect(stopped?.counters.rxRate).toBe(0);
  });
});

describe('egress edits', () => {
  it('sends egress.set and takes the helper answer as the new state', async () => {
    const { fake, apps } = await loaded();
    const ok = await apps.setChoice('lab-browser', {
      mode: 'ordered',
      egresses: ['enp3s0', 'wlan0'],
      killSwitch: true,
    });
    expect(ok).toBe(true);
    expect(fake.calls.at(-1)).toEqual({
      method: 'egress.set',
      params: {
        app: 'lab-browser',
        choice: { mode: 'ordered', egresses: ['enp3s0', 'wlan0'], killSwitch: true },
      },
    });
    expect(apps.byId('lab-browser')?.egress).toEqual({ state: 'routed', active: 'enp3s0' });
  });

  it('does not send a change for a managed app and says why', async () => {
    const { fake, apps } = await loaded();
    const managed = apps.list.find((a) => a.managed);
    if (!managed) throw new Error('the fake should have a managed app');
    const before = fake.calls.length;
    expect(await apps.setChoice(managed.id, { mode: 'block' })).toBe(false);
    expect(fake.calls.length).toBe(before);
    expect(apps.errors[managed.id]).toMatch(/managed policy/);
  });

  it('reports a helper refusal in words and keeps the old choice', async () => {
    const { fake, apps, notices } = await loaded();
    const app = apps.list.find((a) => !a.managed);
    if (!app) throw new Error('no unmanaged app');
    const helperApp = fake.apps.find((a) => a.id === app.id);
    if (helperApp) helperApp.managed = true; // the helper knows better than the UI's copy
    const before = JSON.parse(JSON.stringify(app.choice));
    expect(await apps.setChoice(app.id, { mode: 'block' })).toBe(false);
    expect(apps.errors[app.id]).toMatch(/Could not change .*pinned by the managed policy/);
    expect(notices.items.at(-1)?.kind).toBe('error');
    expect(apps.byId(app.id)?.choice).toEqual(before);
  });

  it('applies app.changed events, including removal', async () => {
    const { apps } = await loaded();
    apps.selectedId = 'firefox';
    apps.applyChanged({ app: null, id: 'firefox', removed: true });
    expect(apps.byId('firefox')).toBeUndefined();
    expect(apps.selectedId).toBeNull();
  });

  it('launches through the helper and says so', async () => {
    const { fake, apps, notices } = await loaded();
    await apps.launch('lab-browser');
    // It launches, then looks again: a process that died at once would not count as started.
    expect(fake.calls.slice(-2).map((c) => c.method)).toEqual(['apps.launch', 'apps.get']);
    expect(notices.items.at(-1)?.text).toMatch(/^Started Lab Browser through Switchyard \(process \d+\)\.$/);
  });
});
