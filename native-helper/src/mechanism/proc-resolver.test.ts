import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesOf, fromHosts, nameservers, namesToTry, readSmallFile, viaFiles } from './proc-resolver.ts';

describe('lookups as a process would make them', () => {
  it("reads the process's nameservers, 127.0.0.1 when it has none", () => {
    expect(nameservers('# lab\nsearch lab\nnameserver 198.18.200.10\nnameserver fd5a:200::10\n')).toEqual([
      '198.18.200.10',
      'fd5a:200::10',
    ]);
    expect(nameservers('options edns0\n')).toEqual(['127.0.0.1']);
  });

  it('tries the search domains for a name without a dot, as glibc does', () => {
    const conf = 'nameserver 192.0.2.53\nsearch corp.example. lab\n';
    expect(namesToTry('intranet', conf)).toEqual(['intranet.corp.example', 'intranet.lab', 'intranet']);
    expect(namesToTry('server.lab', conf)).toEqual(['server.lab']);
    expect(namesToTry('intranet', 'nameserver 192.0.2.53\n')).toEqual(['intranet']);
  });

  it('answers from its /etc/hosts first', async () => {
    const hosts = '127.0.0.1 localhost\n192.0.2.7  printer Printer.lan # office\n';
    expect(fromHosts(hosts, 'printer.lan')).toBe('192.0.2.7');
    expect(fromHosts(hosts, 'nope')).toBeNull();
    const via = viaFiles({ hosts, resolvConf: 'nameserver 192.0.2.53\n' }, 100);
    expect(await via.lookup('printer')).toBe('192.0.2.7');
    expect(via.servers).toEqual(['192.0.2.53']);
  });

  it('gives another cache key to another view', () => {
    const a = viaFiles({ hosts: '', resolvConf: 'nameserver 192.0.2.53' }, 100);
    const b = viaFiles({ hosts: '', resolvConf: 'nameserver 192.0.2.54' }, 100);
    expect(a.key).not.toBe(b.key);
  });

  it('reads its own files, and refuses a FIFO planted instead of a file', async () => {
    expect((await filesOf(process.pid))?.resolvConf).toBeTypeOf('string');
    expect(await filesOf(2 ** 22 + 1)).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'sy-fifo-'));
    try {
      const fifo = join(dir, 'resolv.conf');
      execFileSync('mkfifo', [fifo]);
      // A read would wait for a writer forever; it is refused at once instead.
      await expect(readSmallFile(fifo)).rejects.toThrow(/is not a regular file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
