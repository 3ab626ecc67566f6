// Protocol timing (PROTOCOL.md), WireGuard's values. Tests may shorten them.
import { randomBytes } from 'node:crypto';

export interface TunnelTimers {
  rekeyAfterMs: number;
  rejectAfterMs: number;
  rekeyTimeoutMs: number;
  rekeyAttemptMs: number;
  rekeyAfterMessages: bigint;
}

export const DEFAULT_TIMERS: TunnelTimers = {
  rekeyAfterMs: 120_000,
  rejectAfterMs: 180_000,
  rekeyTimeoutMs: 5_000,
  rekeyAttemptMs: 90_000,
  rekeyAfterMessages: 1n << 60n,
};

/** Token bucket: `take()` is true while tokens remain; refills continuously. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Receiver indices: random, and unique modulo the data path's session table size. */
export class IndexAllocator {
  private used = new Map<number, number>();
  constructor(private readonly slots = 1024) {}
  allocate(): number {
    for (let i = 0; i < 10_000; i++) {
      const idx = randomBytes(4).readUInt32BE(0);
      if (!this.used.has(idx % this.slots)) {
        this.used.set(idx % this.slots, idx);
        return idx;
      }
    }
    throw new Error('no free tunnel session slot; too many sessions at once');
  }
  release(idx: number): void {
    if (this.used.get(idx % this.slots) === idx) this.used.delete(idx % this.slots);
  }
}
