// One word for an egress that cannot carry traffic, the same in every menu, card and list: "down"
// for an interface, and for a tunnel the CLI's own state word (connecting, up, down).
import type { Interface, Tunnel } from '#switchyard/api/schema.ts';

export type Unavailable = Readonly<Record<string, string>>;

/** Name → word for every egress that is not usable now; usable ones are absent. */
export function unavailableWords(interfaces: readonly Interface[], tunnels: readonly Tunnel[]): Unavailable {
  const words: Record<string, string> = {};
  for (const i of interfaces) {
    if (i.usable) continue;
    words[i.name] = i.kind === 'tunnel' ? (tunnels.find((t) => t.name === i.name)?.state ?? 'down') : 'down';
  }
  return words;
}

/** "wlan0 (down)", "sy-office (connecting)", or the bare name when it is usable. */
export function withAvailability(name: string, words: Unavailable): string {
  const w = words[name];
  return w ? `${name} (${w})` : name;
}
