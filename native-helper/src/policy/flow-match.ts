// What the classifier decides for one flow, computed here the same way (bpf/flow_rules.bpf.c): for
// explain, and to find the connections a rule change leaves on the wrong path. Pure.
import { addressValue, isIPv4 } from '../api/ip.ts';
import type { ClassifierEntry, ClassifierList } from '../mechanism/bpf/classifier.ts';

export interface Flow {
  /** 6 tcp, 17 udp. */
  proto: number;
  address: string;
  port: number;
}

export type Decision =
  { action: 'mark'; mark: number; entry: number | null } | { action: 'block'; entry: number };

function inPrefix(prefix: string, address: string, family: 4 | 6): boolean {
  const [net = '', len = '0'] = prefix.split('/');
  const width = family === 4 ? 32n : 128n;
  const shift = width - BigInt(len);
  return addressValue(net) >> shift === addressValue(address) >> shift;
}

/** The index of the first entry matching the flow, or null. */
export function firstMatch(entries: readonly ClassifierEntry[], flow: Flow): number | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(flow.address);
  const address = mapped ? mapped[1]! : flow.address;
  const family = isIPv4(address) ? 4 : 6;
  for (const [i, e] of entries.entries()) {
    if (e.family && e.family !== family) continue;
    if (e.proto && e.proto !== flow.proto) continue;
    if (!(e.ports[0] === 0 && e.ports[1] === 65535) && (flow.port < e.ports[0] || flow.port > e.ports[1]))
      continue;
    if (e.prefix && !inPrefix(e.prefix, address, family)) continue;
    return i;
  }
  return null;
}

/** The mark a socket of the list's app gets for this flow, or block. */
export function decide(list: ClassifierList, flow: Flow): Decision {
  const i = firstMatch(list.entries, flow);
  if (i === null) return { action: 'mark', mark: list.appMark, entry: null };
  const e = list.entries[i]!;
  if (e.action === 'block') return { action: 'block', entry: i };
  return { action: 'mark', mark: e.action === 'mark' ? e.mark! : list.appMark, entry: i };
}
