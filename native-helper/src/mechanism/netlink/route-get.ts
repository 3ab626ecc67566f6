// Asks the kernel which route a packet would take: `ip route get` with the packet's mark, protocol and
// port, so fwmark rules, the kill switch's unreachable rule and source selection all apply.
import { run } from '../exec.ts';
import { hex } from '../../layout/kernel-layout.ts';
import { ipArgv, type NetnsOption } from './ns.ts';

export interface KernelRoute {
  ok: boolean;
  dev: string | null;
  src: string | null;
  gateway: string | null;
  table: string | null;
  /** The kernel's refusal, e.g. "Network is unreachable", when ok is false. */
  error: string | null;
}

/** `ip route get ADDR mark M ipproto P dport N`: what the kernel would do with such a packet. */
export async function kernelRouteGet(
  address: string,
  mark: number,
  protocol: 'tcp' | 'udp',
  port: number,
  opts: NetnsOption = {},
): Promise<KernelRoute> {
  const args = [
    '-json',
    'route',
    'get',
    address,
    'mark',
    hex(mark),
    'ipproto',
    protocol,
    'dport',
    String(port),
  ];
  const res = await run(ipArgv(opts, args), { allowFailure: true });
  if (res.code !== 0) {
    const error = res.stderr.replace(/^RTNETLINK answers: /m, '').trim() || `ip route get exited ${res.code}`;
    return { ok: false, dev: null, src: null, gateway: null, table: null, error };
  }
  const [r] = JSON.parse(res.stdout) as Record<string, unknown>[];
  const s = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    ok: true,
    dev: s(r?.dev),
    src: s(r?.prefsrc),
    gateway: s(r?.gateway),
    table: r?.table === undefined ? 'main' : String(r.table),
    error: null,
  };
}
