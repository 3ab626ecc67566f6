// The egresses an app's choice or exclude mode may name: the interfaces the helper sees (loopback is
// none) and the tunnels, so a typo gets "Did you mean …?" against the same list everywhere.
import type { Helper } from './helper.ts';

export function knownEgresses(h: Helper): string[] {
  const interfaces = h
    .interfaceList()
    .filter((i) => i.kind !== 'loopback')
    .map((i) => i.name);
  return [...new Set([...interfaces, ...h.tunnels.list().map((t) => t.name)])];
}
