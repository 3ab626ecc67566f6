// `wg show IFACE dump`: works for the kernel module (netlink) and for wireguard-go (it asks the UAPI
// socket itself). Tab-separated: the device's line first, then one line per peer.
import { output } from '../exec.ts';
import type { WireguardDevice, WireguardPeer } from './types.ts';

const none = (v: string | undefined) => (v === undefined || v === '(none)' || v === 'off' ? null : v);

export function parseDump(text: string): WireguardDevice {
  const lines = text.split('\n').filter((l) => l.trim());
  const head = lines.shift()?.split('\t');
  if (!head || head.length < 4) throw new Error('`wg show dump` printed no device line');
  // private-key public-key listen-port fwmark
  const dev: WireguardDevice = {
    publicKey: none(head[1]),
    listenPort: Number(head[2]) || null,
    fwmark: none(head[3]) === null ? null : Number(head[3]),
    peers: [],
  };
  for (const line of lines) {
    const f = line.split('\t');
    if (f.length < 8) throw new Error(`unexpected peer line in \`wg show dump\`: "${line.slice(0, 60)}"`);
    // public-key preshared-key endpoint allowed-ips latest-handshake rx tx persistent-keepalive
    const peer: WireguardPeer = {
      publicKey: f[0]!,
      endpoint: none(f[2]),
      allowedIps: none(f[3])?.split(',') ?? [],
      latestHandshake: Number(f[4]) || null,
      rxBytes: Number(f[5]),
      txBytes: Number(f[6]),
      persistentKeepalive: Number(none(f[7]) ?? 0),
    };
    dev.peers.push(peer);
  }
  return dev;
}

export async function readDump(ifname: string): Promise<WireguardDevice> {
  return parseDump(await output(['wg', 'show', ifname, 'dump']));
}
