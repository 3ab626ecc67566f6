import { describe, expect, it } from 'vitest';
import { genkey, pubkey } from '../tunnel/keys.ts';
import { TunnelFile } from '../daemon/tunnels.ts';
import { TunnelAddresses } from './model.ts';

describe('tunnel addresses', () => {
  it('takes one address per family', () => {
    expect(TunnelAddresses.parse(['10.77.0.2/24', 'fd77::2/64'])).toEqual(['10.77.0.2/24', 'fd77::2/64']);
    expect(TunnelAddresses.parse(['fd77::2'])).toEqual(['fd77::2']);
  });

  it('refuses two of one family, none, and what is not an address', () => {
    expect(TunnelAddresses.safeParse(['10.77.0.2/24', '10.77.1.2/24']).error?.issues[0]?.message).toMatch(
      /one address per family/,
    );
    expect(TunnelAddresses.safeParse([]).success).toBe(false);
    expect(TunnelAddresses.safeParse(['10.77.0.2/33']).success).toBe(false);
    expect(TunnelAddresses.safeParse(['wlan0']).success).toBe(false);
  });

  it('reads a tunnels file written with one address', () => {
    const old = {
      name: 'sy-tun0',
      gateway: 'gw.example:51820',
      gatewayPublicKey: pubkey(genkey()),
      privateKey: genkey(),
      address: '10.77.0.2/24',
      cipher: 'auto',
    };
    const file = TunnelFile.parse({ version: 1, tunnels: [old] });
    expect(file.tunnels[0]).toMatchObject({ name: 'sy-tun0', addresses: ['10.77.0.2/24'] });
    expect(file.tunnels[0]).not.toHaveProperty('address');
  });
});
