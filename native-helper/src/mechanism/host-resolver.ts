// Name lookups with bounds. getaddrinfo runs on libuv's small thread pool (4 threads, shared with file
// I/O) and cannot be cancelled, so unbounded lookups of a name that never answers would starve the
// helper. Here: a fixed number in flight (each slot held until getaddrinfo really returns), a short
// queue, a per-caller share of it, a deadline for the caller, and a cache (answers and failures alike)
// so a flood of one name costs one lookup.
import { lookup as dnsLookup } from 'node:dns/promises';

export type LookupFn = (host: string) => Promise<string>;

/** Where a name is looked up (a process's resolv.conf and hosts): key tells apart cached answers. */
export interface LookupVia {
  key: string;
  lookup: LookupFn;
}

export interface HostResolverOptions {
  /** getaddrinfo calls in flight at once. */
  concurrency: number;
  /** Lookups waiting for a slot, in all. */
  queue: number;
  /** Lookups in flight or waiting for one caller. */
  perCaller: number;
  /** How long a caller waits for an answer. */
  timeoutMs: number;
  /** How long an answer (ok) and a failure (fail) are reused. */
  cacheMs: { ok: number; fail: number };
  lookup?: LookupFn;
  now?: () => number;
}

export class LookupError extends Error {
  constructor(
    message: string,
    /** ENOTFOUND / EAI_AGAIN from the resolver, or BUSY / TIMEOUT from the bounds here. */
    readonly code: string,
  ) {
    super(message);
    this.name = 'LookupError';
  }
}

const systemLookup: LookupFn = async (host) => (await dnsLookup(host)).address;

export class HostResolver {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly perCaller = new Map<string, number>();
  private readonly cache = new Map<string, { at: number; address?: string; error?: LookupError }>();
  private readonly running = new Map<string, Promise<string>>();
  private readonly lookup: LookupFn;
  private readonly now: () => number;

  constructor(private readonly opts: HostResolverOptions) {
    this.lookup = opts.lookup ?? systemLookup;
    this.now = opts.now ?? Date.now;
  }

  /** The address of host, as the caller may have it; rejects with a LookupError. */
  async resolve(host: string, caller: string, via?: LookupVia): Promise<string> {
    const key = via ? `${via.key} ${host}` : host;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < (hit.error ? this.opts.cacheMs.fail : this.opts.cacheMs.ok)) {
      if (hit.error) throw hit.error;
      return hit.address!;
    }
    const joining = this.running.get(key);
    if (joining) return withDeadline(joining, this.opts.timeoutMs, host); // costs no new lookup
    const mine = this.perCaller.get(caller) ?? 0;
    if (mine >= this.opts.perCaller)
      throw new LookupError(
        `too many name lookups from you at once (${this.opts.perCaller}); wait for them`,
        'BUSY',
      );
    if (
      !this.running.has(key) &&
      this.inFlight >= this.opts.concurrency &&
      this.waiting.length >= this.opts.queue
    )
      throw new LookupError('the helper is busy with name lookups; retry in a moment', 'BUSY');
    this.perCaller.set(caller, mine + 1);
    try {
      return await withDeadline(
        this.shared(key, host, via?.lookup ?? this.lookup),
        this.opts.timeoutMs,
        host,
      );
    } finally {
      const left = (this.perCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.perCaller.set(caller, left);
      else this.perCaller.delete(caller);
    }
  }

  /** One lookup per name at a time, however many callers ask for it. */
  private shared(key: string, host: string, lookup: LookupFn): Promise<string> {
    let p = this.running.get(key);
    if (!p) {
      p = this.slot(() => lookup(host)).then(
        (address) => {
          this.remember(key, { at: this.now(), address });
          return address;
        },
        (err: NodeJS.ErrnoException) => {
          const error = new LookupError(
            `cannot resolve ${host} (${err.code ?? err.message})`,
            err.code ?? 'ERROR',
          );
          this.remember(key, { at: this.now(), error });
          throw error;
        },
      );
      p.catch(() => {}).finally(() => this.running.delete(key));
      this.running.set(key, p);
    }
    return p;
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.opts.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  private remember(key: string, entry: { at: number; address?: string; error?: LookupError }): void {
    if (this.cache.size >= 1024) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, entry);
  }
}

function withDeadline<T>(p: Promise<T>, ms: number, host: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new LookupError(`no answer for ${host} within ${ms / 1000} s`, 'TIMEOUT')),
      ms,
    );
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}
