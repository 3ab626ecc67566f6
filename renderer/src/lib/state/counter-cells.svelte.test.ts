// A counters tick touches only what shows the apps whose numbers changed: not the list, its filter or
// its sort, and not the other apps' readers (issue 16: the 1 Hz update with 1,000 apps).
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import { AppsState } from './apps.svelte.ts';

describe('per-app counters', () => {
  it('re-runs only the readers of an app whose numbers changed', async () => {
    const fake = new FakeHelper({ apps: 200 });
    const apps = new AppsState(fake);
    await apps.load();
    const [a, b] = apps.list;
    if (!a || !b) throw new Error('the fake helper generated fewer than two apps');
    const runs = { a: 0, b: 0, visible: 0, counts: 0 };
    let shownA = -1;
    const stop = $effect.root(() => {
      $effect(() => {
        shownA = apps.countersOf(apps.byId(a.id)!).rxRate;
        runs.a++;
      });
      $effect(() => {
        void apps.countersOf(apps.byId(b.id)!).rxRate;
        runs.b++;
      });
      $effect(() => {
        void apps.visible.length;
        runs.visible++;
      });
      $effect(() => {
        void apps.counts.running;
        runs.counts++;
      });
    });
    try {
      flushSync();
      expect(runs).toEqual({ a: 1, b: 1, visible: 1, counts: 1 });
      const visible = apps.visible;

      // Only b's numbers move.
      const bNow = { ...b.counters, rxRate: b.counters.rxRate + 5000, rxBytes: b.counters.rxBytes + 5000 };
      const aNow = { ...a.counters };
      apps.applyCounters({
        at: 1,
        apps: [
          { id: a.id, ...aNow },
          { id: b.id, ...bNow },
        ],
        interfaces: [],
      });
      flushSync();
      expect(runs).toEqual({ a: 1, b: 2, visible: 1, counts: 1 });
      expect(apps.visible).toBe(visible);
      expect(apps.byId(b.id)?.counters).toEqual(bNow);

      // Then a's; the app object outside templates sees them too.
      apps.applyCounters({
        at: 2,
        apps: [{ id: a.id, ...aNow, rxRate: 777_000, rxBytes: aNow.rxBytes + 777_000 }],
        interfaces: [],
      });
      flushSync();
      expect(runs).toEqual({ a: 2, b: 2, visible: 1, counts: 1 });
      expect(shownA).toBe(777_000);
      expect(apps.byId(a.id)?.counters.rxRate).toBe(777_000);

      // A changed app (app.changed) brings its own counters, and the list is filtered again.
      const changed = structuredClone($state.snapshot(apps.byId(a.id)!));
      changed.counters = { ...changed.counters, rxRate: 1 };
      apps.applyChanged({ id: a.id, app: changed, removed: false });
      flushSync();
      expect(shownA).toBe(1);
      expect(runs.visible).toBe(2);
      expect(apps.byId(a.id)).toBe(changed);
    } finally {
      stop();
    }
  });

  it('drops a removed app and keeps the others', async () => {
    const fake = new FakeHelper({ apps: 20 });
    const apps = new AppsState(fake);
    await apps.load();
    const gone = apps.list[3]!;
    apps.selectedId = gone.id;
    apps.applyChanged({ id: gone.id, app: null, removed: true });
    expect(apps.byId(gone.id)).toBeUndefined();
    expect(apps.list.length).toBe(19);
    expect(apps.selected).toBeNull();
    expect(apps.visible.some((x) => x.id === gone.id)).toBe(false);
  });
});
