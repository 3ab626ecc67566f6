import { describe, expect, it } from 'vitest';
import { ConnectionBudget, RESERVED_FDS, limitsFor } from './client-limits.ts';

describe('client limits', () => {
  it('leaves the reserved descriptors to the helper whatever the limit', () => {
    for (const nofile of [400, 1024, 524288]) {
      const l = limitsFor(nofile);
      expect(l.clients + l.rootClients).toBeLessThanOrEqual(Math.max(16, nofile - RESERVED_FDS));
      expect(l.rootClients).toBeGreaterThanOrEqual(4);
    }
  });

  it('caps one uid, then all non-root uids, and keeps root apart', () => {
    const b = new ConnectionBudget({ ...limitsFor(1024), perUid: 2, clients: 3, rootClients: 1 });
    expect(b.admit(1000)).toBeNull();
    expect(b.admit(1000)).toBeNull();
    expect(b.admit(1000)).toMatch(/too many connections from uid 1000 \(2\)/);
    expect(b.admit(1001)).toBeNull();
    expect(b.admit(1002)).toMatch(/the helper has too many connections \(3\)/);
    expect(b.admit(0)).toBeNull(); // the group's flood does not lock out root
    expect(b.admit(0)).toMatch(/too many connections from root/);
    b.release(1000);
    expect(b.admit(1002)).toBeNull();
    expect(b.counts).toEqual({ root: 1, nonRoot: 3 });
  });
});
