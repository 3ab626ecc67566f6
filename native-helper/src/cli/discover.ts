// When the default socket has no helper, look for running ones (a lab's, a named instance's): with
// one, use it and say so; with several, list them so the user picks with --instance or --socket.
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HelperSocketClient } from '../api/client.ts';

export interface LiveHelper {
  socket: string;
  instance: string;
  pid: number;
}

/** Desktop helpers answering on DIR/*.sock; gateways (which refuse tunnels.list) are left out. */
export async function liveHelpers(dir: string, skip: string): Promise<LiveHelper[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.sock')).sort();
  } catch {
    return [];
  }
  const found = await Promise.all(
    names
      .map((n) => join(dir, n))
      .filter((s) => s !== skip)
      .map(probe),
  );
  return found.filter((h) => h !== null);
}

async function probe(socket: string): Promise<LiveHelper | null> {
  let c: HelperSocketClient;
  try {
    c = await HelperSocketClient.connect(socket, { connectTimeoutMs: 1000, requestTimeoutMs: 1500 });
  } catch {
    return null;
  }
  try {
    const s = await c.call('status.get', {});
    await c.call('tunnels.list', {}); // a gateway answers status.get but is no desktop helper
    return { socket, instance: s.instance, pid: s.pid };
  } catch {
    return null;
  } finally {
    c.close();
  }
}

/** The directory to look in: the default socket's. */
export function runDir(defaultSocket: string): string {
  return dirname(defaultSocket);
}

export function severalMessage(asked: string, helpers: readonly LiveHelper[]): string {
  return [
    `no helper at ${asked}, but ${helpers.length} are running:`,
    ...helpers.map((h) => `  ${h.instance.padEnd(16)} ${h.socket}  (pid ${h.pid})`),
    `pick one with --instance NAME (e.g. --instance ${basename(helpers[0]!.socket, '.sock')}) or --socket PATH`,
  ].join('\n');
}
