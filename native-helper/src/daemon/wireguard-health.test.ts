import { describe, expect, it } from 'vitest';
import type { WireguardDevice } from '../mechanism/wireguard/index.ts';
import { WireguardHealth, clockTime, nudgeTarget } from './wireguard-health.ts';

const T0 = new Date(2026, 10, 27, 12, 3, 10).getTime(); // local time, as the problem says it

function setup() {
  let now = T0;
  const problems = new Map<string, string>();
  const logs: string[] = [];
  const nudges: [string, string, number][] = [];
  let changes = 0;
  const health = new WireguardHealth({
    log: (m) => logs.push(m),
    problems: { set: (k, m) => problems.set(k, m), clear: (k) => problems.delete(k) },
    changed: () => changes++,
    mark: 0xabc0ffff,
    now: () => now,
    nudge: async (i, a, m) => {
      nudges.push([i, a, m]);
    },
  });
  const dev: WireguardDevice = {
    publicKey: null,
    listenPort: 51821,
    fwmark: null,
    peers: [
      {
        publicKey: 'gw',
        endpoint: '198.18.250.2:51820',
        allowedIps: ['0.0.0.0/0', '::/0'],
        latestHandshake: T0 / 1000 - 20,
        rxBytes: 5000,
        txBytes: 5000,
        persistentKeepalive: 25,
      },
    ],
  };
  const read = (ms: number, sent: number, received = 0) => {
    now += ms;
    dev.peers[0]!.txBytes += sent;
    dev.peers[0]!.rxBytes += received;
    health.observe(new Map([['wg0', structuredClone(dev)]]));
  };
  return { health, problems, logs, nudges, dev, read, changes: () => changes, now: () => now };
}

describe('WireGuard health', () => {
  it('a peer that stops answering: a problem, a new evaluation, nudges; an answer undoes it all', () => {
    const { health, problems, logs, nudges, read, changes, dev, now } = setup();
    read(0, 0);
    for (let i = 0; i < 9; i++) read(2000, 200);
    expect(health.answering('wg0')).toBe(false);
    expect(changes()).toBe(1);
    expect(health.problem('wg0')).toBe(`wg0: peer not answering since ${clockTime(T0)}`);
    expect(clockTime(T0)).toBe('12:03');
    expect([...problems.values()]).toEqual(['wg0: peer not answering since 12:03']);

    for (let i = 0; i < 10; i++) read(2000, 148);
    // Nudged at 10 s and 20 s after it was declared, into the peer's allowed IPs, with the bypass mark.
    expect(nudges).toEqual([
      ['wg0', '192.0.2.1', 0xabc0ffff],
      ['wg0', '192.0.2.1', 0xabc0ffff],
    ]);

    dev.peers[0]!.latestHandshake = Math.floor(now() / 1000) + 1;
    read(2000, 148, 92);
    expect(health.answering('wg0')).toBe(true);
    expect(health.problem('wg0')).toBeNull();
    expect(problems.size).toBe(0);
    expect(changes()).toBe(2);
    expect(logs.at(-1)).toBe('wg0: the peer answers again');
  });

  it('a device that could not be read keeps its verdict; one that is gone takes its problem along', () => {
    const { health, problems, read } = setup();
    read(0, 0);
    for (let i = 0; i < 9; i++) read(2000, 200);
    health.observe(new Map([['wg0', null]]));
    expect(health.answering('wg0')).toBe(false);
    health.observe(new Map());
    expect(problems.size).toBe(0);
    expect(health.answering('wg0')).toBe(true);
  });
});

describe('nudge targets', () => {
  it('are inside the allowed IPs, IPv4 first, and answer nobody for a default route', () => {
    expect(nudgeTarget(['0.0.0.0/0', '::/0'])).toBe('192.0.2.1');
    expect(nudgeTarget(['::/0'])).toBe('2001:db8::1');
    expect(nudgeTarget(['10.99.0.1/32'])).toBe('10.99.0.1');
    expect(nudgeTarget(['fd99::/64', '10.8.0.0/24'])).toBe('10.8.0.1');
    expect(nudgeTarget(['fd99::/64'])).toBe('fd99:0:0:0:0:0:0:1');
    expect(nudgeTarget([])).toBeNull();
  });
});
