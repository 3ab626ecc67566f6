// Which apps an interface matters to, beyond the ones it carries now: a down interface still has
// apps that list it (they move back when it returns) and apps its absence holds by their kill switch.
import type { App, Interface } from '#switchyard/api/schema.ts';

export interface InterfaceApps {
  /** Its traffic now (the helper's interface tag). */
  carrying: App[];
  /** Blocked by their kill switch while this one (and the rest of their list) is down. */
  holding: App[];
  /** List it but use another egress or system routing now; they come back when it is up. */
  waiting: App[];
}

export function interfaceApps(iface: Pick<Interface, 'name' | 'apps'>, apps: readonly App[]): InterfaceApps {
  const lists = (a: App) => a.choice.mode === 'ordered' && a.choice.egresses.includes(iface.name);
  const carried = new Set(iface.apps);
  const byName = (a: App, b: App) => a.name.localeCompare(b.name);
  return {
    carrying: apps.filter((a) => carried.has(a.id)).sort(byName),
    holding: apps.filter((a) => !carried.has(a.id) && lists(a) && a.egress.state === 'killed').sort(byName),
    waiting: apps.filter((a) => !carried.has(a.id) && lists(a) && a.egress.state !== 'killed').sort(byName),
  };
}
