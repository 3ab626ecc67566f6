// What the helper listens to in the kernel: links, addresses and routes (apply again), and neighbours
// (a gateway answering with another MAC is another network, whose trust may switch rules on).
import { type Watcher, watch } from '../mechanism/netlink/index.ts';

export interface KernelWatch {
  stop(): Promise<void>;
}

export async function watchKernel(on: {
  interfaces: () => void;
  neighbors: () => void;
  error: (err: Error) => void;
}): Promise<KernelWatch> {
  const watchers: Watcher[] = [];
  try {
    watchers.push(await watch());
    watchers[0]!.on('changed', on.interfaces);
    watchers.push(await watch({ objects: ['neigh'], debounceMs: 50 }));
    watchers[1]!.on('changed', on.neighbors);
  } catch (err) {
    await Promise.all(watchers.map((w) => w.stop()));
    throw err;
  }
  for (const w of watchers) w.on('error', on.error);
  return { stop: async () => void (await Promise.all(watchers.map((w) => w.stop()))) };
}
