import { describe, expect, it } from 'vitest';
import { countersFromText } from './table.ts';

describe('countersFromText', () => {
  it('reads named counter values from `nft list table` text', () => {
    // As nft 1.0 prints it: tabs, a blank line between objects.
    const text =
      'table inet t {\n\tcomment "sy:abc"\n\tcounter tx_1 {\n\t\tpackets 5 bytes 100\n\t}\n\n\tcounter rx_1 {\n\t\tpackets 0 bytes 0\n\t}\n}\n';
    expect([...countersFromText(text)]).toEqual([
      ['tx_1', { packets: 5, bytes: 100 }],
      ['rx_1', { packets: 0, bytes: 0 }],
    ]);
  });
});
