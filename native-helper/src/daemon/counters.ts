// Traffic counters: per app from the nft table's counters (bytes by tag), per interface from
// /proc/net/dev; rates from the difference to the previous sample.
// Reading them costs an `nft` run (a fork of the helper), so they are sampled once a second only while
// someone wants them: a client subscribed to the `counters` event, or a client that read counters in
// the last WARM_MS (a CLI run under `watch`). An idle helper reads nothing; an answer that carries
// counters (apps, interfaces, rules) samples first when the last sample is old.
import type { AppId, Interface } from '../api/schema.ts';
import { readLinkBytes } from '../mechanism/netlink/link-stats.ts';
import { readCounters } from '../mechanism/nft/table.ts';
import type { PolicyApp } from '../policy/model.ts';
import type { EventBus } from './event-bus.ts';
import type { Problems } from './problems.ts';
import { RateTracker, type Rated } from './rates.ts';

const ZERO: Rated = { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 };
const PERIOD_MS = 1000;
/** After a read of counters, sampling goes on this long (a `watch switchyard apps` stays live). */
const WARM_MS = 10_000;
/** A sample this old is not a rate of now: a fresh read samples twice, GAP_MS apart. */
const STALE_MS = 3000;
const GAP_MS = 200;

export interface CounterSource {
  apps: () => readonly PolicyApp[];
  running: (id: AppId) => boolean;
  interfaces: () => readonly Interface[];
}

/** Whether the 1 Hz timer samples now: someone subscribed, or counters were read a moment ago. */
export function shouldSample(subscribed: boolean, lastReadAt: number, now: number): boolean {
  return subscribed || now - lastReadAt < WARM_MS;
}

export class Counters {
  private readonly rates = new RateTracker();
  private readonly apps = new Map<AppId, Rated>();
  private readonly ifs = new Map<string, Rated>();
  /** Every named counter of the nft table at the last sample (rules' flows and bytes among them). */
  private last = new Map<string, { packets: number; bytes: number }>();
  private sampledAt = 0;
  private readAt = -Infinity;
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly nftTable: string,
    private readonly bus: EventBus,
    private readonly problems: Problems,
    private readonly source: CounterSource,
  ) {}

  /** The 1 Hz timer; it samples only while shouldSample() says so. */
  start(): void {
    this.timer ??= setInterval(() => {
      if (shouldSample(this.bus.wants('counters'), this.readAt, Date.now())) void this.sample();
    }, PERIOD_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Before an answer that carries counters: a current sample, and sampling kept on for a while. */
  async fresh(): Promise<void> {
    this.readAt = Date.now();
    const age = Date.now() - this.sampledAt;
    if (age < PERIOD_MS * 1.5) return;
    // After a pause, the first sample's rates would average the whole pause: sample twice.
    if (age > STALE_MS) {
      await this.sample();
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    await this.sample();
  }

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
  sample(): Promise<void> {
    // The timer and a fresh() may meet: one read serves both.
    this.inFlight ??= this.read().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async read(): Promise<void> {
    const now = Date.now();
    let counters = new Map<string, { bytes: number }>();
    try {
      counters = await readCounters(this.nftTable);
      this.last = counters as Map<string, { packets: number; bytes: number }>;
      this.problems.clear('counters');
    } catch (err) {
      this.problems.set('counters', (err as Error).message);
    }
    const appRows: Array<{ id: string } & Rated> = [];
    for (const a of this.source.apps()) {
      const c = {
        txBytes: counters.get(`tx_${a.tag}`)?.bytes ?? 0,
        rxBytes: counters.get(`rx_${a.tag}`)?.bytes ?? 0,
      };
      const r = this.rates.update(`app:${a.id}`, c, now);
      this.apps.set(a.id, r);
      if (this.source.running(a.id)) appRows.push({ id: a.id, ...r });
    }
    const ifRows: Array<{ name: string } & Rated> = [];
    const links = await readLinkBytes().catch(() => new Map<string, { rxBytes: number; txBytes: number }>());
    for (const i of this.source.interfaces()) {
      const link = links.get(i.name);
      if (!link) continue;
      const r = this.rates.update(`if:${i.name}`, link, now);
      this.ifs.set(i.name, r);
      ifRows.push({ name: i.name, ...r });
    }
    this.sampledAt = now;
    this.bus.emit('counters', { at: now, apps: appRows, interfaces: ifRows });
  }
}
