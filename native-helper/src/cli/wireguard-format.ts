// The WireGuard devices' peers under `switchyard interfaces`: key, endpoint, allowed IPs, handshake.
import type { Interface } from '../api/schema.ts';
import { color } from './format.ts';

/** "12 s ago", "3 min ago", "2 h ago", or "never". */
export function handshakeAge(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export function wireguardLines(list: readonly Interface[], now = Date.now()): string {
  const lines: string[] = [];
  for (const i of list) {
    if (i.kind !== 'wireguard') continue;
    const wg = i.wireguard;
    if (!wg) {
      lines.push(`${i.name}: WireGuard, its peers could not be read (see the helper's log)`);
      continue;
    }
    lines.push(
      `${i.name}: WireGuard, public key ${wg.publicKey ?? '(none)'}${wg.listenPort ? `, port ${wg.listenPort}` : ''}`,
    );
    // Its egress is not usable meanwhile: its apps failed over or are held.
    if (wg.problem) lines.push(`  ${color.yellow(wg.problem)}; not usable until it answers`);
    if (!wg.peers.length) lines.push('  no peer');
    for (const p of wg.peers) {
      const age = handshakeAge(p.latestHandshake, now);
      lines.push(
        `  peer ${p.publicKey}  endpoint ${p.endpoint ?? '-'}  allowed ${p.allowedIps.join(',') || '-'}  ` +
          `latest handshake ${p.latestHandshake ? age : color.yellow(age)}`,
      );
    }
  }
  return lines.length ? `\n\n${lines.join('\n')}` : '';
}
