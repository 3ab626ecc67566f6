// Per-app live counters, one reactive cell each. A counters event once a second then costs a map lookup
// and a compare per app; only rows on screen that show an app whose numbers changed re-render.
import type { App } from '#switchyard/api/schema.ts';

export type Counters = App['counters'];

class Cell {
  value = $state.raw<Counters>() as Counters;
  constructor(value: Counters) {
    this.value = value;
  }
}

const same = (a: Counters, b: Counters) =>
  a.txRate === b.txRate && a.rxRate === b.rxRate && a.txBytes === b.txBytes && a.rxBytes === b.rxBytes;

export class CounterCells {
  // A plain map on purpose: the cells are the reactive part, the lookup is not.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #cells = new Map<string, Cell>();

  /** A new app list: one cell per app, seeded from its counters; cells of apps gone are dropped. */
  reset(apps: readonly App[]): void {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup table, not state
    const next = new Map<string, Cell>();
    for (const app of apps) {
      const cell = this.#cells.get(app.id);
      if (cell) {
        if (!same(cell.value, app.counters)) cell.value = app.counters;
        next.set(app.id, cell);
      } else next.set(app.id, new Cell(app.counters));
    }
    this.#cells = next;
  }

  /**
   * New numbers for an app. The app object itself is updated too (a plain write), so code that reads
   * `app.counters` outside a template sees them.
   */
  set(app: App, c: Counters): void {
    const cell = this.#cells.get(app.id);
    if (cell && same(cell.value, c)) return;
    const value = { txBytes: c.txBytes, rxBytes: c.rxBytes, txRate: c.txRate, rxRate: c.rxRate };
    app.counters = value;
    if (cell) cell.value = value;
    else this.#cells.set(app.id, new Cell(value));
  }

  read(app: App): Counters {
    let cell = this.#cells.get(app.id);
    if (!cell) this.#cells.set(app.id, (cell = new Cell(app.counters)));
    return cell.value;
  }

  delete(id: string): void {
    this.#cells.delete(id);
  }
}
