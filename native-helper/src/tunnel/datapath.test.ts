import { describe, expect, it } from 'vitest';
import { addressBytes, decodeEndpoint, encodeEndpoint, parseCidr } from './datapath.ts';

describe('data path control encoding', () => {
  it('IPv4 addresses travel as v4-mapped IPv6 and come back as IPv4', () => {
    expect(addressBytes('198.18.1.2').toString('hex')).toBe('00000000000000000000ffffc6120102');
    const e = encodeEndpoint({ address: '198.18.1.2', port: 51820 });
    expect(e.length).toBe(18);
    expect(decodeEndpoint(e)).toEqual({ address: '198.18.1.2', port: 51820 });
  });

  it('IPv6 addresses, compressed or not, encode to their 16 bytes', () => {
    expect(addressBytes('fd5a::1').toString('hex')).toBe('fd5a0000000000000000000000000001');
    expect(addressBytes('fd5a:1:2:3:4:5:6:7').toString('hex')).toBe('fd5a0001000200030004000500060007');
    expect(addressBytes('::').toString('hex')).toBe('0'.repeat(32));
    expect(addressBytes('::ffff:1.2.3.4').toString('hex')).toBe('00000000000000000000ffff01020304');
    expect(decodeEndpoint(encodeEndpoint({ address: 'fd5a::1', port: 1 }))).toEqual({
      address: 'fd5a:0:0:0:0:0:0:1',
      port: 1,
    });
  });

  it('parses prefixes and refuses nonsense', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefixLength: 8 });
    expect(parseCidr('fd5a::1')).toEqual({ address: 'fd5a::1', prefixLength: 128 });
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/0..32/);
    expect(() => parseCidr('host/8')).toThrow(/not an IP/);
    expect(() => addressBytes('nope')).toThrow(/not an IP/);
  });
});
