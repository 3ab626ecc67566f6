// explain's part for issue 17's modes (docs/egress.md, "Everything but"): an app with LAN access
// reaches a local destination directly on the LAN, even while its kill switch holds the rest; and in
// exclude mode an app with a choice of its own is excluded and keeps it, one left on default goes
// through the mode's egress. Pure.
import { addressValue, isIP } from '../api/ip.ts';
import type { EgressChoice, Interface, PolicyMode } from '../api/schema.ts';
import { networkOf } from './compile.ts';
import { LINK_LOCAL, lanUplinks, MDNS } from './lan-access.ts';

/** What explain knows of an interface; kind and addresses only where the caller has them. */
export type ExplainInterface = Pick<Interface, 'name' | 'usable'> &
  Partial<Pick<Interface, 'kind' | 'addresses'>>;

/** A destination on the local networks: the uplink it goes out by, and which network it is on. */
export interface LanMatch {
  uplink: string;
  /** As the user reads it: "wlan0's subnet 198.18.1.0/24", "link-local (169.254.0.0/16)". */
  network: string;
}

/** The address lies in prefix/length (prefix as "198.18.1.2" or "169.254.0.0/16"). */
function within(address: string, prefix: string, length: number, bits: number): boolean {
  const shift = BigInt(bits - length);
  return addressValue(address) >> shift === addressValue(prefix.split('/')[0]!) >> shift;
}

/**
 * The local network a destination is on, as the LAN table routes it (lan-access.ts): an uplink's
 * connected subnet, else link-local or multicast DNS by the first uplink. Null for anything else.
 */
export function lanDestination(interfaces: readonly ExplainInterface[], address: string): LanMatch | null {
  const family = isIP(address);
  if (family === 0) return null;
  const bits = family === 4 ? 32 : 128;
  const uplinks = lanUplinks(interfaces.map((i) => ({ kind: 'other' as const, addresses: [], ...i })));
  for (const u of uplinks)
    for (const a of u.addresses)
      if (
        a.family === family &&
        !within(a.address, LINK_LOCAL[family], family === 4 ? 16 : 10, bits) &&
        within(address, a.address, a.prefixLength, bits)
      )
        return {
          uplink: u.name,
          network: `${u.name}'s subnet ${networkOf(family, a.address, a.prefixLength)}`,
        };
  const first = uplinks[0];
  if (!first) return null;
  if (within(address, LINK_LOCAL[family], family === 4 ? 16 : 10, bits))
    return { uplink: first.name, network: `link-local (${LINK_LOCAL[family]})` };
  if (addressValue(address) === addressValue(MDNS[family]))
    return { uplink: first.name, network: `multicast DNS (${MDNS[family]})` };
  return null;
}

/** The step saying where a local destination goes for an app with LAN access. */
export function lanStep(appName: string, address: string, lan: LanMatch): string {
  return `${appName} has LAN access and ${address} is on ${lan.network}: it goes out on the LAN directly by ${lan.uplink}, even while its kill switch holds it.`;
}

/** The reason for such a flow; `held`: the app's kill switch holds the rest of its traffic. */
export function lanReason(appName: string, host: string, lan: LanMatch, dev: string, held: boolean): string {
  const why = held ? ', allowed although its kill switch holds the rest of its traffic' : '';
  return `${appName} has LAN access: ${host} is on ${lan.network}, so it goes out on the LAN directly by ${dev}${why}.`;
}

/** In exclude mode, the step saying whether the app is excluded (a choice of its own) or not; null in include mode. */
export function excludedStep(
  mode: PolicyMode | undefined,
  appName: string,
  choice: Pick<EgressChoice, 'mode'>,
): string | null {
  if (mode?.kind !== 'exclude') return null;
  if (choice.mode === 'default')
    return `Exclude mode sends every app left on default, and every process in no app, through ${mode.via}, with the mode's kill switch ${mode.killSwitch ? 'on' : 'off'}; ${appName} is on default, so it goes through ${mode.via}.`;
  return `Exclude mode sends every app left on default through ${mode.via}; ${appName} has an egress choice of its own, so it is excluded and keeps it.`;
}
