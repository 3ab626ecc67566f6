// Traffic counters, once a second: per app from the nft table's counters (bytes by tag), per
// interface from the kernel's link statistics; rates from the difference to the previous sample.
import type { AppId, Interface } from '../api/schema.ts';
import { readLinks } from '../mechanism/netlink/index.ts';
import { readCounters } from '../mechanism/nft/table.ts';
import type { PolicyApp } from '../policy/model.ts';
import type { EventBus } from './event-bus.ts';
import type { Problems } from './problems.ts';
import { RateTracker, type Rated } from './rates.ts';

const ZERO: Rated = { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 };

export class Counters {
  private readonly rates = new RateTracker();
  private readonly apps = new Map<AppId, Rated>();
  private readonly ifs = new Map<string, Rated>();
  /** Every named counter of the nft table at the last sample (rules' flows and bytes among them). */
  private last = new Map<string, { packets: number; bytes: number }>();

  constructor(
    private readonly nftTable: string,
    private readonly bus: EventBus,
    private readonly problems: Problems,
  ) {}

  /** A named nft counter as last sampled; zero when it was not there. */
  named(name: string): { packets: number; bytes: number } {
    return this.last.get(name) ?? { packets: 0, bytes: 0 };
  }

  ofApp(id: AppId): Rated {
    return this.apps.get(id) ?? ZERO;
  }

  ofInterface(i: Interface): Interface['counters'] {
    return this.ifs.get(i.name) ?? i.counters;
  }

  /** Reads both, updates the rates and sends the `counters` event (apps that have processes only). */
  async sample(
    apps: readonly PolicyApp[],
    running: (id: AppId) => boolean,
    interfaces: Interface[],
  ): Promise<void> {
    const now = Date.now();
    let counters = new Map<string, { bytes: number }>();
    try {
      counters = await readCounters(this.nftTable);
      this.last = counters as Map<string, { packets: number; bytes: number }>;
    } catch (err) {
      this.problems.set('counters', (err as Error).message);
    }
    const appRows: Array<{ id: string } & Rated> = [];
    for (const a of apps) {
      const c = {
        txBytes: counters.get(`tx_${a.tag}`)?.bytes ?? 0,
        rxBytes: counters.get(`rx_${a.tag}`)?.bytes ?? 0,
      };
      const r = this.rates.update(`app:${a.id}`, c, now);
      this.apps.set(a.id, r);
      if (running(a.id)) appRows.push({ id: a.id, ...r });
    }
    const ifRows: Array<{ name: string } & Rated> = [];
    const links = await readLinks().catch(() => []);
    for (const i of interfaces) {
      const link = links.find((l) => l.name === i.name);
      if (!link) continue;
      const r = this.rates.update(
        `if:${i.name}`,
        { txBytes: link.stats.txBytes, rxBytes: link.stats.rxBytes },
        now,
      );
      this.ifs.set(i.name, r);
      ifRows.push({ name: i.name, ...r });
    }
    this.bus.emit('counters', { at: now, apps: appRows, interfaces: ifRows });
  }
}
