// Name lookups as a given process would make them: its own /etc/hosts, then the nameservers of its own
// /etc/resolv.conf, both read through /proc/PID/root (a process in a container, a flatpak or
// `ip netns exec` sees files of its own). c-ares sockets, not getaddrinfo: no thread-pool slot is held,
// and each query has its own timeout.
import { createHash } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { LookupVia } from './host-resolver.ts';

export interface ResolverFiles {
  hosts: string;
  resolvConf: string;
}

/** nameserver lines of a resolv.conf; glibc asks 127.0.0.1 when there is none. */
export function nameservers(resolvConf: string): string[] {
  const out = resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((a): a is string => !!a && isIP(a.split('%')[0]!) !== 0);
  return out.length ? out.slice(0, 3) : ['127.0.0.1'];
}

/**
 * The names glibc asks for: a name without a dot goes through the search domains first (ndots 1),
 * then as it is; a name with a dot as it is only.
 */
export function namesToTry(host: string, resolvConf: string): string[] {
  if (host.includes('.')) return [host];
  let search: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*(search|domain)\s+(.+)$/.exec(line);
    if (m) search = m[2]!.trim().split(/\s+/).slice(0, 6); // the last line wins, as in glibc
  }
  return [...search.map((d) => `${host}.${d.replace(/\.$/, '')}`), host];
}

/** The first address /etc/hosts gives name, if any. */
export function fromHosts(hosts: string, name: string): string | null {
  const want = name.toLowerCase();
  for (const line of hosts.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (address && isIP(address) && names.some((n) => n.toLowerCase() === want)) return address;
  }
  return null;
}

/** A lookup over these files: hosts first, then A, then AAAA from the nameservers. */
export function viaFiles(files: ResolverFiles, timeoutMs: number): LookupVia & { servers: string[] } {
  const servers = nameservers(files.resolvConf);
  const key = createHash('sha256').update(files.hosts).update('\0').update(servers.join(',')).digest('hex');
  return {
    key: key.slice(0, 16),
    servers,
    lookup: async (host) => {
      const listed = fromHosts(files.hosts, host);
      if (listed) return listed;
      const r = new Resolver({ timeout: timeoutMs, tries: 1 });
      r.setServers(servers);
      const one = async (name: string) => {
        const v4 = await r.resolve4(name).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'ENODATA') return [];
          throw e;
        });
        if (v4[0]) return v4[0];
        const v6 = await r.resolve6(name);
        if (v6[0]) return v6[0];
        throw Object.assign(new Error(`no address for ${name}`), { code: 'ENODATA' });
      };
      try {
        let last: unknown;
        for (const name of namesToTry(host, files.resolvConf)) {
          try {
            return await one(name);
          } catch (err) {
            last = err;
            const code = (err as NodeJS.ErrnoException).code;
            if (code !== 'ENOTFOUND' && code !== 'ENODATA') throw err; // a silent server: stop here
          }
        }
        throw last;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // c-ares says ETIMEOUT; name the nameservers so the user knows whose silence it was.
        if (e.code === 'ETIMEOUT' || e.code === 'ECONNREFUSED')
          throw Object.assign(new Error(e.message), { code: `${e.code} from ${servers.join(', ')}` });
        throw e;
      } finally {
        r.cancel();
      }
    },
  };
}

/** A small regular file; a FIFO or device planted there would hold a thread forever, so not those. */
export async function readSmallFile(path: string): Promise<string> {
  const f = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await f.stat();
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    const buf = Buffer.alloc(Math.min(st.size, 64 * 1024));
    const { bytesRead } = await f.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await f.close();
  }
}

/** The resolver files process pid sees, or null when it is gone (or they are unreadable). */
export async function filesOf(pid: number): Promise<ResolverFiles | null> {
  const root = `/proc/${pid}/root/etc`;
  try {
    const [hosts, resolvConf] = await Promise.all([
      readSmallFile(`${root}/hosts`).catch(() => ''),
      readSmallFile(`${root}/resolv.conf`),
    ]);
    return { hosts, resolvConf };
  } catch {
    return null;
  }
}
