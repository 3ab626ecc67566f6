import { describe, expect, it } from 'vitest';
import type { Interface } from '../api/schema.ts';
import { handshakeAge, wireguardLines } from './wireguard-format.ts';

const NOW = Date.parse('2026-11-27T01:00:00Z');
const wg0: Interface = {
  name: 'wg0',
  index: 9,
  kind: 'wireguard',
  up: true,
  usable: true,
  mac: null,
  mtu: 1420,
  addresses: [{ family: 4, address: '10.99.0.2', prefixLength: 32 }],
  gateways: [],
  apps: [],
  counters: { txBytes: 0, rxBytes: 0, txRate: 0, rxRate: 0 },
  wireguard: {
    publicKey: 'Wa2+5S+hwGpYgrdbOHgmAR+1HX/Ll5uvK7ZarWnAtAU=',
    listenPort: 51821,
    peers: [
      {
        publicKey: 'dTE/OUg/HF5WR8Ow71ESaYAyVbUn81zjVgKzJN7HTjU=',
        endpoint: '198.18.250.2:51820',
        allowedIps: ['0.0.0.0/0', '::/0'],
        latestHandshake: '2026-11-27T00:59:48Z',
      },
    ],
  },
};

describe('WireGuard lines of `switchyard interfaces`', () => {
  it('says how long ago the handshake was', () => {
    expect(handshakeAge('2026-11-27T00:59:48Z', NOW)).toBe('12 s ago');
    expect(handshakeAge('2026-11-27T00:55:00Z', NOW)).toBe('5 min ago');
    expect(handshakeAge('2026-11-26T20:00:00Z', NOW)).toBe('5 h ago');
    expect(handshakeAge(null, NOW)).toBe('never');
  });

  it('lists the peer of each WireGuard device and nothing for other interfaces', () => {
    const text = wireguardLines(
      [wg0, { ...wg0, name: 'enp3s0', kind: 'ethernet', wireguard: undefined }],
      NOW,
    );
    expect(text).toContain(
      'wg0: WireGuard, public key Wa2+5S+hwGpYgrdbOHgmAR+1HX/Ll5uvK7ZarWnAtAU=, port 51821',
    );
    expect(text).toMatch(
      /peer dTE\/OUg\S+ +endpoint 198\.18\.250\.2:51820 +allowed 0\.0\.0\.0\/0,::\/0 +latest handshake 12 s ago/,
    );
    expect(text).not.toContain('enp3s0');
    expect(wireguardLines([{ ...wg0, wireguard: null }], NOW)).toContain('its peers could not be read');
  });

  it('says when the peer does not answer, and that the egress is not usable', () => {
    const dead = {
      ...wg0,
      usable: false,
      wireguard: { ...wg0.wireguard!, problem: 'wg0: peer not answering since 12:03' },
    };
    expect(wireguardLines([dead], NOW)).toContain(
      'wg0: peer not answering since 12:03; not usable until it answers',
    );
    expect(wireguardLines([wg0], NOW)).not.toContain('not answering');
  });
});
