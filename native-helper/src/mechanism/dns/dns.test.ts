// Parsing what busctl prints for resolved's and NetworkManager's DNS properties.
import { describe, expect, it } from 'vitest';
import { addressOf, firstOf } from './busctl.ts';
import { ipv4OfUint } from './network-manager.ts';
import { serversOf } from './resolved.ts';

describe('D-Bus DNS values', () => {
  it('reads resolved DNS (a(iay)) and DNSEx (a(iayqs)), leaving out servers on another port', () => {
    expect(
      serversOf([
        [2, [198, 18, 1, 1]],
        [10, [0xfd, 0x5a, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
      ]),
    ).toEqual(['198.18.1.1', 'fd5a:1::1']);
    expect(
      serversOf([
        [2, [9, 9, 9, 9], 853, 'dns.quad9.net'],
        [2, [1, 1, 1, 1], 0, ''],
      ]),
    ).toEqual(['1.1.1.1']);
    expect(serversOf(null)).toEqual([]);
  });

  it('reads a method reply and NetworkManager little-endian IPv4 numbers', () => {
    expect(firstOf({ type: 'o', data: ['/org/freedesktop/resolve1/link/_33'] })).toBe(
      '/org/freedesktop/resolve1/link/_33',
    );
    expect(ipv4OfUint(0x0101a8c0)).toBe('192.168.1.1');
    expect(addressOf([1, 2, 3])).toBeNull();
  });
});
