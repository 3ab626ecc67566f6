// Network interfaces and a rolling two-minute throughput history per interface for the charts.
import type { EventData, Interface } from '#switchyard/api/schema.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';

/** About two minutes of points at one counters event per second. */
export const HISTORY_POINTS = 120;

/**
 * Fixed-size series kept as plain arrays (not reactive proxies) so uPlot can read them directly;
 * `version` tells the chart there is something new to draw.
 */
export class ThroughputHistory {
  readonly capacity: number;
  times: number[] = [];
  tx: number[] = [];
  rx: number[] = [];

  constructor(capacity = HISTORY_POINTS) {
    this.capacity = capacity;
  }

  /** Add one sample; `at` is in milliseconds, stored in seconds as uPlot expects. */
  push(at: number, txRate: number, rxRate: number): void {
    const t = at / 1000;
    const last = this.times[this.times.length - 1];
    if (last !== undefined && t <= last) return; // a repeated or out-of-order sample adds nothing
    this.times.push(t);
    this.tx.push(txRate);
    this.rx.push(rxRate);
    const excess = this.times.length - this.capacity;
    if (excess > 0) {
      this.times.splice(0, excess);
      this.tx.splice(0, excess);
      this.rx.splice(0, excess);
    }
  }

  get length(): number {
    return this.times.length;
  }

  /** [x, upload, download] in uPlot's column layout. */
  data(): [number[], number[], number[]] {
    return [this.times, this.tx, this.rx];
  }
}

/** Interfaces an app could be sent through: everything except loopback. */
export function egressCandidates(list: readonly Interface[]): Interface[] {
  return list.filter((i) => i.kind !== 'loopback');
}

export class InterfacesState {
  list = $state<Interface[]>([]);
  loaded = $state(false);
  loadError = $state<string | null>(null);
  /** Bumped on every counters event, so charts redraw without the history itself being reactive. */
  version = $state(0);
  // Deliberately not reactive: charts read it when `version` changes.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #history = new Map<string, ThroughputHistory>();
  #client: SwitchyardClient;

  candidates = $derived(egressCandidates(this.list));

  constructor(client: SwitchyardClient) {
    this.#client = client;
  }

  async load(): Promise<void> {
    try {
      this.list = await this.#client.call('interfaces.list', {});
      this.loadError = null;
    } catch (e) {
      this.loadError = `The interface list could not be loaded: ${toApiError(e).message}`;
    } finally {
      this.loaded = true;
    }
  }

  history(name: string): ThroughputHistory {
    let h = this.#history.get(name);
    if (!h) this.#history.set(name, (h = new ThroughputHistory()));
    return h;
  }

  applyCounters(data: EventData<'counters'>): void {
    for (const c of data.interfaces) {
      this.history(c.name).push(data.at, c.txRate, c.rxRate);
      const iface = this.list.find((i) => i.name === c.name);
      if (iface)
        iface.counters = { txBytes: c.txBytes, rxBytes: c.rxBytes, txRate: c.txRate, rxRate: c.rxRate };
    }
    this.version++;
  }

  applyChanged(data: EventData<'interface.changed'>): void {
    const i = this.list.findIndex((x) => x.name === data.name);
    if (data.removed || !data.interface) {
      if (i >= 0) this.list.splice(i, 1);
      this.#history.delete(data.name);
      return;
    }
    if (i >= 0) this.list[i] = data.interface;
    else this.list.push(data.interface);
  }

  /**
   * Interfaces list their carried apps, but an app.changed event only updates the app; keep the
   * interface side in step so the Interfaces view does not wait for the next interface event.
   */
  retagApp(id: string, active: string | null): void {
    for (const iface of this.list) {
      const has = iface.apps.includes(id);
      if (iface.name === active && !has) iface.apps.push(id);
      else if (iface.name !== active && has) iface.apps.splice(iface.apps.indexOf(id), 1);
    }
  }
}
