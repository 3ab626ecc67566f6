import { describe, expect, it } from 'vitest';
import { layoutFor, markFor } from '../layout/kernel-layout.ts';
import type { SocketInfo } from '../mechanism/sockets/index.ts';
import { BYPASS_TAG } from '../policy/exclude-mode.ts';
import { WireguardGuard, type WireguardGuardDeps } from './wireguard-guard.ts';

const layout = layoutFor('test');
const bypassMark = markFor(layout, BYPASS_TAG);
const sock = (fd: number, protocol: number, mark: number): SocketInfo => ({
  fd,
  family: 2,
  type: protocol === 17 ? 2 : 1,
  protocol,
  mark,
  localAddress: '0.0.0.0',
  localPort: 51821,
  remoteAddress: null,
  remotePort: null,
  tcpState: null,
});

function guard(over: Partial<WireguardGuardDeps> & { daemons?: Set<number> }) {
  const daemons = over.daemons ?? new Set([42]);
  const set: [number, number, number][] = [];
  const logs: string[] = [];
  const g = new WireguardGuard({
    layout,
    bypassMark,
    log: (m) => logs.push(m),
    isDaemon: (pid) => daemons.has(pid),
    allPids: () => [1, 7, 42, 99],
    sockets: () => [],
    setMark: (pid, fd, mark) => set.push([pid, fd, mark]),
    ...over,
  });
  return { g, set, logs, daemons };
}

describe("WireGuard daemons' own UDP", () => {
  it('gets the bypass mark instead of an app mark or none; a fwmark of its own, another instance and TCP are left', () => {
    const { g, set, logs } = guard({
      sockets: () => [
        sock(5, 17, markFor(layout, 7)),
        sock(6, 17, 0),
        sock(7, 17, 51820),
        sock(8, 6, markFor(layout, 7)),
        sock(9, 17, markFor(layoutFor('other-instance'), 7)),
        sock(10, 17, bypassMark),
      ],
    });
    expect(g.scanAll()).toBe(2);
    expect(set).toEqual([
      [42, 5, bypassMark],
      [42, 6, bypassMark],
    ]);
    expect(logs[0]).toMatch(/pid 42, port 51821\) the bypass mark instead of an app mark/);
  });

  it('scans /proc once at start, then watches only what the exec watch reports', () => {
    const allPids = () => {
      scans++;
      return [1, 42];
    };
    let scans = 0;
    const seen: number[] = [];
    const { g, daemons } = guard({
      allPids,
      sockets: (pid) => {
        seen.push(pid);
        return [];
      },
    });
    g.scanAll();
    expect(g.watched).toEqual([42]);
    g.execed(500); // not a daemon
    daemons.add(77);
    g.execed(77);
    g.check();
    g.check();
    expect(scans).toBe(1);
    expect(g.watched).toEqual([42, 77]);
    expect(seen).toEqual([42, 42, 77, 42, 77]);
  });

  it('forgets a daemon that exited or whose PID another program took, and goes on past it', () => {
    const { g, set, daemons } = guard({
      daemons: new Set([1, 2, 3]),
      allPids: () => [1, 2, 3],
      sockets: (pid) => {
        if (pid === 1) throw new Error('ESRCH');
        return [sock(3, 17, markFor(layout, 9))];
      },
    });
    g.scanAll();
    expect(set).toEqual([
      [2, 3, bypassMark],
      [3, 3, bypassMark],
    ]);
    expect(g.watched).toEqual([2, 3]);
    daemons.delete(3); // PID 3 is something else now
    g.check();
    expect(g.watched).toEqual([2]);
  });

  it('reports a socket it could not mark', () => {
    const { g, logs } = guard({
      sockets: () => [sock(4, 17, 0)],
      setMark: () => {
        throw new Error('EPERM');
      },
    });
    expect(g.scanAll()).toBe(0);
    expect(logs).toEqual(["could not mark pid 42's WireGuard socket: EPERM"]);
  });
});
