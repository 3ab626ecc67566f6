// What the helper reads of a WireGuard device: never its private key.

export interface WireguardPeer {
  /** base64, as `wg` prints it. */
  publicKey: string;
  /** HOST:PORT ("[v6]:port" for IPv6), null until the peer was configured with one or has roamed to one. */
  endpoint: string | null;
  allowedIps: string[];
  /** Unix time in seconds of the latest completed handshake; null when there has been none. */
  latestHandshake: number | null;
  rxBytes: number;
  txBytes: number;
  /** Seconds; 0 = off. */
  persistentKeepalive: number;
}

export interface WireguardDevice {
  /** This end's public key (base64), or null when no private key is set. */
  publicKey: string | null;
  listenPort: number | null;
  /** The fwmark the device puts on its own UDP (null = off). */
  fwmark: number | null;
  peers: WireguardPeer[];
}
