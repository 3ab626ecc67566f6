// Events come from state, not from the reason something changed: after every apply and every tick,
// the helper hands over what it would answer to apps.list and interfaces.list, and each difference
// from what clients were last told becomes an app.changed or interface.changed. A kill-switch toggle,
// a reordered fallback list, a managed lock, pause or override: whatever changes a field, is sent.
import type { App, AppId, Interface } from '../api/schema.ts';
import type { EventBus } from './event-bus.ts';

/** Counters change every second and have their own event; everything else is compared. */
function appKey(a: App): string {
  const { counters: _, ...rest } = a;
  return JSON.stringify(rest);
}
function interfaceKey(i: Interface): string {
  const { counters: _, ...rest } = i;
  return JSON.stringify(rest);
}

export class ViewEvents {
  private apps = new Map<AppId, string>();
  private interfaces = new Map<string, string>();

  constructor(private readonly bus: EventBus) {}

  /** Takes the views as the starting point, without events (at start: clients read lists anyway). */
  prime(apps: App[], interfaces: Interface[]): void {
    this.apps = new Map(apps.map((a) => [a.id, appKey(a)]));
    this.interfaces = new Map(interfaces.map((i) => [i.name, interfaceKey(i)]));
  }

  /** Emits one event for each app and interface that was added, removed or changed. */
  publish(apps: App[], interfaces: Interface[]): void {
    const nextApps = new Map<AppId, string>();
    for (const a of apps) {
      const key = appKey(a);
      nextApps.set(a.id, key);
      if (this.apps.get(a.id) !== key) this.bus.emit('app.changed', { app: a, id: a.id, removed: false });
    }
    for (const id of this.apps.keys())
      if (!nextApps.has(id)) this.bus.emit('app.changed', { app: null, id, removed: true });
    this.apps = nextApps;

    const nextIfs = new Map<string, string>();
    for (const i of interfaces) {
      const key = interfaceKey(i);
      nextIfs.set(i.name, key);
      if (this.interfaces.get(i.name) !== key)
        this.bus.emit('interface.changed', { interface: i, name: i.name, removed: false });
    }
    for (const name of this.interfaces.keys())
      if (!nextIfs.has(name)) this.bus.emit('interface.changed', { interface: null, name, removed: true });
    this.interfaces = nextIfs;
  }
}
