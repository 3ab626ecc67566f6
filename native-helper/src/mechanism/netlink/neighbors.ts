// The neighbour table: which link-layer address answers for an IP (the default gateway's MAC is what
// tells one network from another), and a nudge that makes the kernel resolve one it does not know yet.
import { output, run } from '../exec.ts';
import { ipArgv, type NetnsOption } from './ns.ts';

export interface Neighbor {
  ifname: string;
  address: string;
  /** Lowercase, colon-separated; null while unresolved. */
  mac: string | null;
  state: string[];
}

export async function readNeighbors(opts: NetnsOption = {}): Promise<Neighbor[]> {
  const text = await output(ipArgv(opts, ['-json', 'neigh', 'show']));
  const rows = text.trim() ? (JSON.parse(text) as Record<string, unknown>[]) : [];
  return rows.map((r) => {
    const state = (r.state as string[] | undefined) ?? [];
    const usable = !state.includes('FAILED') && !state.includes('INCOMPLETE');
    return {
      ifname: String(r.dev),
      address: String(r.dst),
      mac: usable && typeof r.lladdr === 'string' ? r.lladdr.toLowerCase() : null,
      state,
    };
  });
}

/** Asks the kernel to resolve address on dev (NTF_USE): one ARP or neighbour solicitation, no payload. */
export async function resolveNeighbor(address: string, dev: string, opts: NetnsOption = {}): Promise<void> {
  await run(ipArgv(opts, ['neigh', 'replace', address, 'dev', dev, 'use']), { allowFailure: true });
}
