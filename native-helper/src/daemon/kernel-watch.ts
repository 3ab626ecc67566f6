// What the helper listens to in the kernel, with one `ip monitor`: links, addresses and routes (apply
// again), and neighbours (a gateway answering with another MAC is another network, whose trust may
// switch rules on).
import { watch } from '../mechanism/netlink/index.ts';

export interface KernelWatch {
  stop(): Promise<void>;
}

export async function watchKernel(on: {
  interfaces: () => void;
  neighbors: () => void;
  error: (err: Error) => void;
}): Promise<KernelWatch> {
  const w = await watch({ neighbors: true });
  w.on('changed', on.interfaces);
  w.on('neighbors', on.neighbors);
  w.on('error', on.error);
  return w;
}
