// Whether a process holds an internet socket (TCP, UDP or raw; v4 or v6): its socket fds looked up
// in its own network namespace's /proc/PID/net tables. This is what makes a process worth routing.
import { readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/** Socket inodes per network namespace, shared across the processes of one scan. */
export type InetInodeCache = Map<string, Promise<Set<string>>>;

const NET_TABLES = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6'];

/** True or false, or undefined when the process's fds cannot be read (gone, or not ours to see). */
export async function hasInetSocket(
  pidDir: string,
  cache: InetInodeCache = new Map(),
): Promise<boolean | undefined> {
  const fds = await readdir(path.join(pidDir, 'fd')).catch(() => null);
  if (!fds) return undefined;
  const inodes: string[] = [];
  for (const fd of fds) {
    const target = await readlink(path.join(pidDir, 'fd', fd)).catch(() => '');
    const socket = /^socket:\[(\d+)\]$/.exec(target);
    if (socket) inodes.push(socket[1]!);
  }
  if (inodes.length === 0) return false;
  const netns = await readlink(path.join(pidDir, 'ns/net')).catch(() => `unknown:${pidDir}`);
  let table = cache.get(netns);
  if (!table) {
    table = readInetInodes(pidDir);
    cache.set(netns, table);
  }
  const inet = await table;
  return inodes.some((inode) => inet.has(inode));
}

async function readInetInodes(pidDir: string): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const name of NET_TABLES) {
    const text = await readFile(path.join(pidDir, 'net', name), 'utf8').catch(() => '');
    // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    for (const line of text.split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode && inode !== '0') inodes.add(inode);
    }
  }
  return inodes;
}
