// A nudge: one tiny packet into a WireGuard device, so that it starts a handshake with a peer that has
// stopped answering (WireGuard shakes hands only when it has something to send, and gives up after
// 90 s). An ICMP echo from iputils ping, bound to the device (SO_BINDTODEVICE: wg-quick's Table = off
// puts no route in the main table, and the kernel then takes the device as on-link) and carrying the
// given mark, so that no app rule and no exclude mode routes it elsewhere. Its destination is inside the
// peer's allowed IPs (WireGuard drops anything else): wireguard-health.ts nudgeTarget.
import { run } from '../exec.ts';

/** Sends one nudge out of `ifname` toward `address`; the reply (there is none) is not waited for. */
export async function nudge(ifname: string, address: string, mark: number): Promise<void> {
  const family = address.includes(':') ? '-6' : '-4';
  const r = await run(
    ['ping', family, '-n', '-q', '-c', '1', '-W', '1', '-s', '0', '-I', ifname, '-m', String(mark), address],
    { allowFailure: true, timeoutMs: 5000 },
  );
  // Exit 1 is "no reply", as expected; 2 is an error (no such device, no permission).
  if (r.code !== 0 && r.code !== 1)
    throw new Error(`ping out of ${ifname} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}
