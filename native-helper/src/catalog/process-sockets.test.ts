import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hasInetSocket } from './process-sockets.ts';
import { readProcessIdentity } from './processes.ts';
import { makeTempTree, type TempTree } from '../catalog-testing/test-tree.ts';

const TCP_HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpRow = (inode: number) =>
  `   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

describe('hasInetSocket', () => {
  let tree: TempTree | undefined;
  let server: net.Server | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    tree?.remove();
    tree = undefined;
    if (child?.pid && child.exitCode === null && child.signalCode === null)
      process.kill(child.pid, 'SIGKILL');
    child = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('tells internet sockets from unix sockets and plain files, per network namespace', async () => {
    tree = makeTempTree({
      '10/fd/0': { symlink: '/dev/null' },
      '10/fd/3': { symlink: 'socket:[5555]' },
      '10/ns/net': { symlink: 'net:[1]' },
      '10/net/tcp': TCP_HEADER + tcpRow(7777),
      '10/net/udp6': TCP_HEADER + tcpRow(5555),
      '11/fd/3': { symlink: 'socket:[6666]' }, // a unix socket: in no inet table
      '11/ns/net': { symlink: 'net:[1]' },
      '11/net/tcp': TCP_HEADER + tcpRow(7777),
      '12/fd/0': { symlink: '/dev/null' },
      '13/status': 'gone fd dir',
    });
    const cache = new Map();
    expect(await hasInetSocket(tree.at('10'), cache)).toBe(true);
    expect(await hasInetSocket(tree.at('11'), cache)).toBe(false);
    expect(await hasInetSocket(tree.at('12'), cache)).toBe(false);
    expect(await hasInetSocket(tree.at('13'), cache)).toBeUndefined();
    expect([...cache.keys()]).toEqual(['net:[1]']);
  });

  it('sees a real listening TCP socket on loopback, and its absence in a child', async () => {
    server = net.createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    expect(await hasInetSocket(`/proc/${process.pid}`)).toBe(true);
    expect((await readProcessIdentity(process.pid, { sockets: true }))?.inetSockets).toBe(true);

    child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    expect(await hasInetSocket(`/proc/${child.pid}`)).toBe(false);
    expect((await readProcessIdentity(child.pid!))?.inetSockets).toBeUndefined(); // not asked
  });
});
