// Byte counters → rates (bytes per second) between two readings.
export interface ByteCounters {
  txBytes: number;
  rxBytes: number;
}

export interface Rated extends ByteCounters {
  txRate: number;
  rxRate: number;
}

export class RateTracker {
  private last = new Map<string, { at: number; c: ByteCounters }>();

  update(key: string, c: ByteCounters, at: number): Rated {
    const prev = this.last.get(key);
    this.last.set(key, { at, c });
    if (!prev || at <= prev.at) return { ...c, txRate: 0, rxRate: 0 };
    const dt = (at - prev.at) / 1000;
    // Counters restart when a table is replaced or a link re-created; never report a negative rate.
    const rate = (now: number, before: number) => (now >= before ? (now - before) / dt : 0);
    return { ...c, txRate: rate(c.txBytes, prev.c.txBytes), rxRate: rate(c.rxBytes, prev.c.rxBytes) };
  }

  forget(keep: ReadonlySet<string>): void {
    for (const k of this.last.keys()) if (!keep.has(k)) this.last.delete(k);
  }
}
