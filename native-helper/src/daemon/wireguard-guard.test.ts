import { describe, expect, it } from 'vitest';
import { layoutFor, markFor } from '../layout/kernel-layout.ts';
import type { SocketInfo } from '../mechanism/sockets/index.ts';
import { unmarkWireguardDaemons } from './wireguard-guard.ts';

const layout = layoutFor('test');
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

describe("WireGuard daemons' own UDP", () => {
  it('loses our marks only: not an unmarked socket, not a fwmark of its own, not TCP', () => {
    const set: [number, number, number][] = [];
    const logs: string[] = [];
    const n = unmarkWireguardDaemons({
      layout,
      log: (m) => logs.push(m),
      daemons: () => [42],
      sockets: () => [
        sock(5, 17, markFor(layout, 7)),
        sock(6, 17, 0),
        sock(7, 17, 51820),
        sock(8, 6, markFor(layout, 7)),
        sock(9, 17, markFor(layoutFor('other-instance'), 7)),
      ],
      setMark: (pid, fd, mark) => set.push([pid, fd, mark]),
    });
    expect(n).toBe(1);
    expect(set).toEqual([[42, 5, 0]]);
    expect(logs[0]).toMatch(/pid 42, port 51821/);
  });

  it('goes on past a daemon that is gone', () => {
    const n = unmarkWireguardDaemons({
      layout,
      log: () => {},
      daemons: () => [1, 2],
      sockets: (pid) => {
        if (pid === 1) throw new Error('ESRCH');
        return [sock(3, 17, markFor(layout, 9))];
      },
      setMark: () => {},
    });
    expect(n).toBe(1);
  });
});
