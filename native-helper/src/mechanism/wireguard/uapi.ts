// wireguard-go's (and the kernel module's userspace twin's) configuration protocol on its UAPI socket
// /var/run/wireguard/IFACE.sock: `get=1` answers key=value lines, keys in hex, one peer per public_key.
// https://www.wireguard.com/xplatform/#configuration-protocol
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { WireguardDevice, WireguardPeer } from './types.ts';

/** Where wireguard-go and `wg` keep the sockets (a compile-time constant of both). */
export const UAPI_DIR = '/var/run/wireguard';

export const uapiSocketPath = (ifname: string, dir = UAPI_DIR) => join(dir, `${ifname}.sock`);

const HEX_KEY = /^[0-9a-f]{64}$/i;

export function hexToBase64(hex: string): string {
  if (!HEX_KEY.test(hex)) throw new Error(`not a 32-byte hex key: "${hex.slice(0, 8)}…"`);
  return Buffer.from(hex, 'hex').toString('base64');
}

/** The X25519 public key of a private key given in hex, in base64; the private key goes no further. */
export function publicFromPrivateHex(hex: string): string {
  const d = Buffer.from(hex, 'hex').toString('base64url');
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: '' }, format: 'jwk' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url').toString('base64');
}

/** Parses the answer to `get=1`. Throws with the device's errno when it refused. */
export function parseUapi(text: string): WireguardDevice {
  const dev: WireguardDevice = { publicKey: null, listenPort: null, fwmark: null, peers: [] };
  let peer: WireguardPeer | null = null;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`unexpected line in the WireGuard answer: "${line.slice(0, 40)}"`);
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'errno') {
      if (value !== '0') throw new Error(`the WireGuard device refused the request (errno ${value})`);
      continue;
    }
    if (key === 'public_key') {
      peer = {
        publicKey: hexToBase64(value),
        endpoint: null,
        allowedIps: [],
        latestHandshake: null,
        rxBytes: 0,
        txBytes: 0,
        persistentKeepalive: 0,
      };
      dev.peers.push(peer);
      continue;
    }
    if (!peer) {
      if (key === 'private_key' && HEX_KEY.test(value) && !/^0+$/.test(value))
        dev.publicKey = publicFromPrivateHex(value);
      else if (key === 'listen_port') dev.listenPort = Number(value);
      else if (key === 'fwmark') dev.fwmark = Number(value) || null;
      continue;
    }
    switch (key) {
      case 'endpoint':
        peer.endpoint = value;
        break;
      case 'allowed_ip':
        peer.allowedIps.push(value);
        break;
      case 'last_handshake_time_sec':
        // Whole seconds, as `wg show dump` gives them; 0 = never.
        peer.latestHandshake = Number(value) || null;
        break;
      case 'rx_bytes':
        peer.rxBytes = Number(value);
        break;
      case 'tx_bytes':
        peer.txBytes = Number(value);
        break;
      case 'persistent_keepalive_interval':
        peer.persistentKeepalive = Number(value);
        break;
    }
  }
  return dev;
}

/** Sends `get=1` to a UAPI socket and parses the answer (which ends with an empty line). */
export function queryUapi(path: string, timeoutMs = 2000): Promise<WireguardDevice> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let text = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from the WireGuard socket ${path} in ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      try {
        resolve(parseUapi(text));
      } catch (err) {
        reject(err as Error);
      }
    };
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write('get=1\n\n'));
    sock.on('data', (chunk: string) => {
      text += chunk;
      if (text.endsWith('\n\n')) finish();
    });
    sock.on('end', finish);
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
