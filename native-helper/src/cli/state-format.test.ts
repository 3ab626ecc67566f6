import { describe, expect, it } from 'vitest';
import type { App, EventEnvelope, Interface, Status, Tunnel } from '../api/schema.ts';
import { eventLine, interfaceRows, statusText } from './state-format.ts';

const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex

const STATUS: Status = {
  version: '0.1.0',
  apiVersion: 1,
  instance: 'default',
  pid: 42,
  startedAt: '2026-11-26T09:00:00.000Z',
  paused: false,
  override: null,
  cgroupRoot: '/sys/fs/cgroup/switchyard.default',
  policyPath: '/var/lib/switchyard/default/policy.json',
  managedPolicyPath: null,
  apps: { total: 3, managed: 1, running: 2 },
  killed: ['lab-chat'],
  held: [],
  health: 'ok',
  problems: [],
};

const tunnel = (over: Partial<Tunnel>): Tunnel => ({
  name: 'sy-tun0',
  gateway: '198.18.250.2:51820',
  gatewayPublicKey: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  publicKey: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  addresses: ['10.77.0.2/24'],
  cipher: 'auto',
  state: 'connecting',
  problem: null,
  ...over,
});

describe('status in words', () => {
  it('names each tunnel with its state, and each tunnel problem once', () => {
    const problem = 'no handshake with 198.18.250.2:51820 yet';
    const text = plain(
      statusText(STATUS, [tunnel({ problem }), tunnel({ name: 'sy-home', state: 'up', problem: null })]),
    );
    expect(text).toMatch(/^tunnels {5}sy-tun0 connecting, sy-home up$/m);
    expect(text).toMatch(/^kill switch blocking lab-chat$/m);
    expect(text).toContain(`problem     tunnel sy-tun0: ${problem}`);
    // The helper may list the same problem already: then it is not said twice.
    const twice = plain(
      statusText({ ...STATUS, problems: [`tunnel sy-tun0: ${problem}`] }, [tunnel({ problem })]),
    );
    expect(twice.split('\n').filter((l) => l.includes(problem))).toHaveLength(1);
    expect(plain(statusText(STATUS, []))).toMatch(/^tunnels {5}none$/m);
  });

  it('names apps whose egresses are all unusable, which the system default carries', () => {
    const app = {
      id: 'lab-updater',
      choice: { mode: 'ordered', egresses: ['usb0', 'wwan0'], killSwitch: false },
      egress: { state: 'fallback-default', active: 'enp3s0' },
    } as unknown as App;
    const routed = { ...app, id: 'lab-chat', egress: { state: 'routed', active: 'wlan0' } } as App;
    expect(
      plain(statusText(STATUS, [], [app, routed]))
        .split('\n')
        .filter((l) => l.startsWith('problem')),
    ).toEqual(['problem     lab-updater: none of usb0, wwan0 is usable, so it uses the system default']);
  });

  it("shows a tunnel device's tunnel state", () => {
    const dev = {
      name: 'sy-tun0',
      kind: 'tunnel',
      up: true,
      usable: false,
      addresses: [],
      gateways: [],
      apps: [],
      counters: { txRate: 1000, rxRate: 0 },
    } as unknown as Interface;
    expect(plain(interfaceRows([dev], [tunnel({})]))).toMatch(/^sy-tun0 +tunnel +connecting /m);
  });

  it('gives adoption latencies in ms', () => {
    const e = {
      event: 'adoption',
      time: '2026-11-26T09:00:01.000Z',
      data: { pid: 7, exe: '/usr/bin/x', app: 'x', via: 'exec', latencyUs: 420 },
    } as unknown as EventEnvelope;
    expect(eventLine(e)).toBe('09:00:01 adopted    pid 7 (/usr/bin/x) into x via exec in 0.42 ms');
  });
});
