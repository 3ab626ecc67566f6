import * as node from 'node:net';
import { describe, expect, it } from 'vitest';
import { isIP } from './ip.ts';

const SAMPLES = [
  '198.18.0.0',
  '255.255.255.255',
  '256.1.1.1',
  '01.2.3.4',
  '1.2.3',
  '1.2.3.4.5',
  '',
  'fd5a::',
  'fd5a::1',
  '::',
  '::1',
  '::ffff:198.18.0.1',
  'fe80::1%eth0',
  '2001:db8::1::2',
  '2001:db8:0:0:0:0:0:1',
  '2001:db8:0:0:0:0:0:0:1',
  'gggg::1',
  '1:2:3:4:5:6:7::',
  'example.org',
  ' 1.2.3.4',
];

describe('isIP, as node:net has it', () => {
  it('answers isIP exactly as Node does', () => {
    for (const s of SAMPLES) expect([s, isIP(s)]).toEqual([s, node.isIP(s)]);
  });
});

describe('addressValue', () => {
  it('reads IPv4, IPv6 and IPv6 with a dotted IPv4 tail as numbers', async () => {
    const { addressValue } = await import('./ip.ts');
    expect(addressValue('198.18.0.1')).toBe(0xc6120001n);
    expect(addressValue('::1')).toBe(1n);
    expect(addressValue('fd5a::')).toBe(0xfd5an << 112n);
    expect(addressValue('::ffff:198.18.0.1')).toBe((0xffffn << 32n) | 0xc6120001n);
    expect(addressValue('fd5a:1:2:3:4:5:6:7')).toBe(0xfd5a0001000200030004000500060007n);
  });
});
