import { describe, expect, it } from 'vitest';
import {
  gatewayLayout,
  isOurMark,
  LINKS_ONLY,
  uplinkMark,
  isOurPriority,
  isOurTable,
  layoutFor,
  markFor,
  slotFor,
  tableFor,
  tagOfMark,
} from './kernel-layout.ts';

describe('tags layout', () => {
  it('derives a stable slot in 1..200 from the instance name', () => {
    const names = Array.from({ length: 500 }, (_, i) => `inst${i}`);
    for (const n of names) {
      const s = slotFor(n);
      expect(s).toBeGreaterThanOrEqual(1);
      expect(s).toBeLessThanOrEqual(200);
      expect(slotFor(n)).toBe(s);
    }
    // spread: 500 names should land in many different slots
    expect(new Set(names.map(slotFor)).size).toBeGreaterThan(100);
  });

  it('builds marks as 0x5A | slot | tag', () => {
    const l = layoutFor('lab', 7);
    expect(markFor(l, 1)).toBe(0x5a070001);
    expect(markFor(l, 0xffff)).toBe(0x5a07ffff);
    expect(tagOfMark(l, 0x5a070123)).toBe(0x123);
    expect(tagOfMark(l, 0x5a080123)).toBeNull();
    expect(tagOfMark(l, 0x5a070000)).toBeNull();
    expect(() => markFor(l, 0)).toThrow(/1\.\.65535/);
    expect(() => markFor(l, 0x10000)).toThrow();
  });

  it('keeps priorities and tables inside the slot range and apart from other slots', () => {
    const a = layoutFor('a', 1);
    const b = layoutFor('b', 2);
    expect(a.priorities.first).toBe(10016);
    expect(a.priorities.last).toBeLessThan(b.priorities.first);
    for (const p of [a.priorities.block, a.priorities.lookup + 7, a.priorities.kill])
      expect(isOurPriority(a, p)).toBe(true);
    expect(a.priorities.lookup + 7).toBeLessThan(a.priorities.kill);
    expect(a.priorities.block).toBeLessThan(a.priorities.lookup);
    expect(isOurPriority(a, b.priorities.block)).toBe(false);
    expect(tableFor(a, 1)).toBe(0x5a000000 + 1024 + 1);
    expect(isOurTable(a, tableFor(a, 1023))).toBe(true);
    expect(isOurTable(b, tableFor(a, 1023))).toBe(false);
    expect(layoutFor('x', 200).priorities.last).toBeLessThan(32766);
  });

  it('gives each slot an NFLOG group of its own, inside the 16-bit group numbers', () => {
    expect(layoutFor('a', 1).dnsLogGroup).toBe(0x5a01);
    expect(layoutFor('b', 2).dnsLogGroup).not.toBe(layoutFor('a', 1).dnsLogGroup);
    expect(layoutFor('x', 200).dnsLogGroup).toBeLessThanOrEqual(0xffff);
  });

  it('rejects bad instance names and slots', () => {
    expect(() => layoutFor('bad name')).toThrow(/instance name/);
    expect(() => layoutFor('ok', 201)).toThrow(/slot/);
    expect(layoutFor('my-inst', 3).nftTable).toBe('switchyard_my_inst');
  });
});

describe('gateway layout', () => {
  it('makes uplink marks 0x5B | 16 bits of the instance | uplink, owning only rules with its marks', () => {
    const g = gatewayLayout('lab');
    const mark = uplinkMark(g, 0);
    expect(mark >>> 24).toBe(0x5b);
    expect(mark & 0xff).toBe(1);
    expect(uplinkMark(g, 1)).toBe(mark + 1);
    expect(isOurTable(g, mark)).toBe(true);
    expect(isOurMark(g, uplinkMark(g, 7))).toBe(true);
    expect(isOurMark(g, uplinkMark(gatewayLayout('other'), 0))).toBe(false);
    expect(() => uplinkMark(g, 255)).toThrow(/out of range/);
    expect(g.nftTable).toBe('switchyard_gw_lab');
    expect(gatewayLayout('a.b-c').nftTable).toBe('switchyard_gw_a_b_c');
  });

  it('stays below every client slot, and LINKS_ONLY owns no priority or table', () => {
    const g = gatewayLayout('lab');
    expect(g.priorities.last).toBeLessThan(layoutFor('x', 1).priorities.first);
    expect(isOurPriority(LINKS_ONLY, 10000)).toBe(false);
    expect(isOurTable(LINKS_ONLY, 1)).toBe(false);
  });
});
