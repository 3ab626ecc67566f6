import { describe, expect, it } from 'vitest';
import type { App, Tunnel } from '../api/schema.ts';
import { appsOf, findTunnel, shortProblem, tunnelText, tunnelsTable } from './tunnel-format.ts';

const KEY = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const PROBLEM =
  'no handshake with 198.18.250.2:51820 yet: the gateway did not answer 12 handshakes in 60 s; check its key and firewall';

function tunnel(over: Partial<Tunnel> = {}): Tunnel {
  return {
    name: 'sy-tun0',
    gateway: '198.18.250.2:51820',
    gatewayPublicKey: KEY,
    publicKey: KEY,
    addresses: ['10.77.0.2/24'],
    cipher: 'auto',
    state: 'connecting',
    problem: PROBLEM,
    txBytes: 1536,
    rxBytes: 3_100_000,
    ...over,
  };
}

function app(id: string, egresses: string[], state: App['egress']['state'], active: string | null): App {
  return {
    id,
    name: id,
    choice: { mode: 'ordered', egresses, killSwitch: state === 'killed' },
    egress: { state, active },
  } as unknown as App;
}

const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex

describe('tunnels', () => {
  it('cuts a problem to its first words', () => {
    expect(shortProblem(PROBLEM)).toBe('no handshake with…');
    expect(shortProblem('the gateway revoked key group work')).toBe('the gateway revoked key…');
    expect(shortProblem('the data path exited')).toBe('the data path exited');
    expect(shortProblem('x'.repeat(50))).toHaveLength(32);
  });

  it('keeps the table short and points to tunnel show for the whole problem', () => {
    const text = plain(tunnelsTable([tunnel(), tunnel({ name: 'sy-home', state: 'up', problem: null })]));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^TUNNEL +STATE +PROBLEM +GATEWAY +ADDRESS +KEY GROUPS +SENT \/ RECEIVED$/);
    expect(lines[1]).toContain('no handshake with…');
    expect(lines[1]).toContain('1.5 kB / 3.1 MB');
    expect(text).not.toContain('firewall');
    expect(text).toContain('`switchyard tunnel show NAME`');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(120);
    expect(plain(tunnelsTable([]))).toMatch(/^No tunnels/);
  });

  it('shows one tunnel whole: problem, keys, traffic and the apps it carries or holds', () => {
    const apps = [
      app('lab-chat', ['sy-tun0'], 'killed', null),
      app('lab-browser', ['sy-tun0', 'wlan0'], 'failed-over', 'wlan0'),
      app('lab-updater', ['sy-tun0'], 'routed', 'sy-tun0'),
    ];
    expect(appsOf(tunnel(), apps)).toMatchObject({
      carried: [{ id: 'lab-updater' }],
      held: [{ id: 'lab-chat' }],
      listed: [{ id: 'lab-browser' }],
    });
    const text = plain(tunnelText(tunnel(), apps));
    expect(text).toContain(`problem:     ${PROBLEM}`);
    expect(text).toContain('carries:     lab-updater');
    expect(text).toContain('holds:       lab-chat');
    expect(text).toContain('sent 1.5 kB, received 3.1 MB');
  });

  it('finds a tunnel in any case, or suggests the nearest', () => {
    expect(findTunnel([tunnel()], 'SY-TUN0').name).toBe('sy-tun0');
    expect(() => findTunnel([tunnel()], 'sy-tun')).toThrow(
      "no tunnel 'sy-tun' (the tunnels are sy-tun0). Did you mean sy-tun0?",
    );
    expect(() => findTunnel([], 'x')).toThrow("no tunnel 'x' (there are no tunnels).");
  });
});
