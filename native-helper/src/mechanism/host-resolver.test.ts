import { describe, expect, it } from 'vitest';
import type { LookupError } from './host-resolver.ts';
import { HostResolver } from './host-resolver.ts';

/** A lookup that never answers until released, counting the calls it got. */
function hangingLookup() {
  const pending: Array<{ host: string; answer: (a: string) => void; fail: (e: Error) => void }> = [];
  const fn = (host: string) => new Promise<string>((answer, fail) => pending.push({ host, answer, fail }));
  return { fn, pending };
}

const opts = { concurrency: 2, queue: 2, perCaller: 3, timeoutMs: 50, cacheMs: { ok: 1000, fail: 1000 } };

describe('HostResolver', () => {
  it('gives a caller an answer or a deadline error, never an endless wait', async () => {
    const l = hangingLookup();
    const r = new HostResolver({ ...opts, lookup: l.fn });
    await expect(r.resolve('never.example', 'a')).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(l.pending).toHaveLength(1);
  });

  it('bounds getaddrinfo calls in flight and the queue, and refuses the rest at once', async () => {
    const l = hangingLookup();
    const r = new HostResolver({ ...opts, perCaller: 100, timeoutMs: 60_000, lookup: l.fn });
    const calls = Array.from({ length: 10 }, (_, i) => r.resolve(`n${i}.example`, 'flood'));
    const settled = await Promise.race([
      Promise.allSettled(calls.slice(4)),
      new Promise((r) => setTimeout(r, 100)),
    ]);
    // 2 in flight, 2 queued; the other 6 are refused straight away.
    expect(l.pending).toHaveLength(2);
    expect((settled as PromiseSettledResult<string>[]).map((s) => s.status)).toEqual(
      Array(6).fill('rejected'),
    );
    expect(((settled as PromiseRejectedResult[])[0]!.reason as LookupError).code).toBe('BUSY');
    l.pending[0]!.answer('192.0.2.1');
    await expect(calls[0]).resolves.toBe('192.0.2.1');
    // The queued ones get their slot as others finish.
    for (let i = 1; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 0));
      l.pending[i]!.answer(`192.0.2.${i + 1}`);
    }
    await expect(Promise.all(calls.slice(0, 4))).resolves.toEqual([
      '192.0.2.1',
      '192.0.2.2',
      '192.0.2.3',
      '192.0.2.4',
    ]);
  });

  it('limits one caller without limiting another', async () => {
    const l = hangingLookup();
    const r = new HostResolver({ ...opts, perCaller: 1, timeoutMs: 60_000, lookup: l.fn });
    const first = r.resolve('a.example', 'mallory');
    await expect(r.resolve('b.example', 'mallory')).rejects.toThrow(/too many name lookups from you/);
    const other = r.resolve('c.example', 'alice');
    l.pending.forEach((p) => p.answer('192.0.2.9'));
    await expect(Promise.all([first, other])).resolves.toEqual(['192.0.2.9', '192.0.2.9']);
  });

  it('answers a flood of one failing name from one lookup', async () => {
    let calls = 0;
    const r = new HostResolver({
      ...opts,
      lookup: () => (calls++, Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }))),
    });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => r.resolve('nx.example', 'x')));
    expect(calls).toBe(1);
    expect(results.every((x) => x.status === 'rejected' && /ENOTFOUND/.test(String(x.reason)))).toBe(true);
  });
});
