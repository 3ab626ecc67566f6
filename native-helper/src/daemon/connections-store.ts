// The connection history: the most recent connections of each app, with a cap per app and one over
// all apps, so memory stays constant however many short flows pass. Insertion-ordered maps make
// "drop the oldest" O(1); an entry is found by the kernel's conntrack id to add its end and bytes.
import type { Connection } from '../api/connections-schema.ts';

export const PER_APP = 200;
export const TOTAL = 4000;

export class ConnectionStore {
  /** Every entry kept, oldest first. */
  private readonly all = new Map<string, Connection>();
  private readonly byApp = new Map<string, Map<string, Connection>>();

  constructor(
    readonly perApp = PER_APP,
    readonly total = TOTAL,
  ) {}

  get size(): number {
    return this.all.size;
  }

  get(key: string): Connection | undefined {
    return this.all.get(key);
  }

  /** Adds a new connection (a key seen again replaces the old entry), dropping the oldest over a cap. */
  add(c: Connection): void {
    this.remove(c.key);
    this.all.set(c.key, c);
    let mine = this.byApp.get(c.app);
    if (!mine) this.byApp.set(c.app, (mine = new Map()));
    mine.set(c.key, c);
    if (mine.size > this.perApp) this.remove(mine.keys().next().value!);
    if (this.all.size > this.total) this.remove(this.all.keys().next().value!);
  }

  /** Changes a kept entry in place (its end, bytes); false when it is no longer kept. */
  update(key: string, change: Partial<Connection>): boolean {
    const c = this.all.get(key);
    if (!c) return false;
    Object.assign(c, change);
    return true;
  }

  remove(key: string): void {
    const c = this.all.get(key);
    if (!c) return;
    this.all.delete(key);
    const mine = this.byApp.get(c.app);
    mine?.delete(key);
    if (mine?.size === 0) this.byApp.delete(c.app);
  }

  /** Forget an app's history (the app was removed). */
  forgetApp(app: string): void {
    for (const key of [...(this.byApp.get(app)?.keys() ?? [])]) this.remove(key);
  }

  /** Newest first: one app's, or every app's. */
  list(app?: string, limit = PER_APP): Connection[] {
    const source = app === undefined ? this.all : this.byApp.get(app);
    if (!source) return [];
    const out: Connection[] = [];
    const values = [...source.values()];
    for (let i = values.length - 1; i >= 0 && out.length < limit; i--) out.push(values[i]!);
    return out;
  }

  /** The entries the kernel still holds (open or closed, not gone), for a refresh of their counts. */
  live(): Connection[] {
    return [...this.all.values()].filter((c) => c.state !== 'gone');
  }
}
