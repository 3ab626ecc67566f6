// `switchyard gateway --dns ADDR[,ADDR]`: checked before the gateway starts, with the reason in words.
import { describe, expect, it } from 'vitest';
import { gatewayDns } from './tunnel-commands.ts';

describe('switchyard gateway --dns', () => {
  it('takes one or two addresses, comma-separated, IPv4 or IPv6', () => {
    expect(gatewayDns(undefined)).toBeUndefined();
    expect(gatewayDns('10.77.0.1')).toEqual(['10.77.0.1']);
    expect(gatewayDns('10.77.0.1, fd77::1')).toEqual(['10.77.0.1', 'fd77::1']);
  });

  it('names what is wrong', () => {
    expect(() => gatewayDns('resolver.lan')).toThrow('--dns: "resolver.lan" is not an IPv4 or IPv6 address');
    expect(() => gatewayDns('')).toThrow(/give a resolver address/);
    expect(() => gatewayDns('10.0.0.1,10.0.0.2,10.0.0.3')).toThrow(/at most 2 resolvers/);
  });
});
