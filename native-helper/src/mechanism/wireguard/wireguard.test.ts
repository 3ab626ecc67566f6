import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseDump } from './dump.ts';
import { isWireguardDaemon } from './index.ts';
import { hexToBase64, parseUapi, publicFromPrivateHex } from './uapi.ts';

// A key pair made with `wg genkey | tee /dev/stderr | wg pubkey`.
const PRIV = 'qAds0qRUK/A7lBst1pnUxvHoGLoFAxc8AZolsg+/wH8=';
const PUB = 'Wa2+5S+hwGpYgrdbOHgmAR+1HX/Ll5uvK7ZarWnAtAU=';
const PEER = 'dTE/OUg/HF5WR8Ow71ESaYAyVbUn81zjVgKzJN7HTjU=';
const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

// wireguard-go 0.0.20220316's answer to get=1, with one peer that has shaken hands.
const UAPI = [
  `private_key=${hex(PRIV)}`,
  'listen_port=51821',
  'fwmark=51820',
  `public_key=${hex(PEER)}`,
  `preshared_key=${'0'.repeat(64)}`,
  'protocol_version=1',
  'endpoint=198.18.250.2:51820',
  'last_handshake_time_sec=1795740000',
  'last_handshake_time_nsec=123456789',
  'tx_bytes=1852',
  'rx_bytes=1500',
  'persistent_keepalive_interval=25',
  'allowed_ip=0.0.0.0/0',
  'allowed_ip=::/0',
  'errno=0',
  '',
  '',
].join('\n');

describe('UAPI answers', () => {
  it('reads the device and its peers, with the public key derived and no private key kept', () => {
    const dev = parseUapi(UAPI);
    expect(dev).toEqual({
      publicKey: PUB,
      listenPort: 51821,
      fwmark: 51820,
      peers: [
        {
          publicKey: PEER,
          endpoint: '198.18.250.2:51820',
          allowedIps: ['0.0.0.0/0', '::/0'],
          latestHandshake: 1795740000,
          rxBytes: 1500,
          txBytes: 1852,
          persistentKeepalive: 25,
        },
      ],
    });
    expect(JSON.stringify(dev)).not.toContain(PRIV);
  });

  it('says a peer never shook hands, and a device without a private key has no public key', () => {
    const text = `listen_port=0\npublic_key=${hex(PEER)}\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\nerrno=0\n\n`;
    const dev = parseUapi(text);
    expect(dev.publicKey).toBeNull();
    expect(dev.fwmark).toBeNull();
    expect(dev.peers[0]!.latestHandshake).toBeNull();
    expect(dev.peers[0]!.endpoint).toBeNull();
  });

  it('keeps several peers apart', () => {
    const other = Buffer.alloc(32, 7).toString('hex');
    const dev = parseUapi(
      `public_key=${hex(PEER)}\nallowed_ip=10.0.0.1/32\npublic_key=${other}\nallowed_ip=10.0.0.2/32\nerrno=0\n\n`,
    );
    expect(dev.peers.map((p) => p.allowedIps)).toEqual([['10.0.0.1/32'], ['10.0.0.2/32']]);
    expect(dev.peers[1]!.publicKey).toBe(hexToBase64(other));
  });

  it('reports a refusal and a garbled answer', () => {
    expect(() => parseUapi('errno=19\n\n')).toThrow(/refused the request \(errno 19\)/);
    expect(() => parseUapi('hello\n\n')).toThrow(/unexpected line/);
  });

  it('derives the same public key as `wg pubkey`', () => {
    expect(publicFromPrivateHex(hex(PRIV))).toBe(PUB);
    let wg: string | null = null;
    try {
      wg = execFileSync('wg', ['pubkey'], { input: PRIV }).toString().trim();
    } catch {
      // wireguard-tools not installed: the constant above is what it printed.
    }
    if (wg !== null) expect(wg).toBe(PUB);
  });
});

describe('`wg show dump`', () => {
  it('reads the device line and the peers', () => {
    const text =
      `${PRIV}\t${PUB}\t51821\toff\n` +
      `${PEER}\t(none)\t198.18.250.2:51820\t10.99.0.1/32,fd99::1/128\t1795740000\t1500\t1852\t25\n` +
      `${PUB}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n`;
    const dev = parseDump(text);
    expect(dev.publicKey).toBe(PUB);
    expect(dev.listenPort).toBe(51821);
    expect(dev.fwmark).toBeNull();
    expect(dev.peers).toEqual([
      {
        publicKey: PEER,
        endpoint: '198.18.250.2:51820',
        allowedIps: ['10.99.0.1/32', 'fd99::1/128'],
        latestHandshake: 1795740000,
        rxBytes: 1500,
        txBytes: 1852,
        persistentKeepalive: 25,
      },
      {
        publicKey: PUB,
        endpoint: null,
        allowedIps: [],
        latestHandshake: null,
        rxBytes: 0,
        txBytes: 0,
        persistentKeepalive: 0,
      },
    ]);
    expect(JSON.stringify(dev)).not.toContain(PRIV);
  });

  it('reads a fwmark in hex and refuses output that is not a dump', () => {
    expect(parseDump(`${PRIV}\t${PUB}\t0\t0xca6c\n`).fwmark).toBe(0xca6c);
    expect(() => parseDump('')).toThrow(/no device line/);
    expect(() => parseDump(`${PRIV}\t${PUB}\t1\toff\nshort\tline\n`)).toThrow(/unexpected peer line/);
  });
});

describe('userspace WireGuard daemons', () => {
  it('are told by their executable', () => {
    expect(isWireguardDaemon('/usr/bin/wireguard-go')).toBe(true);
    expect(isWireguardDaemon('/usr/local/bin/boringtun-cli')).toBe(true);
    expect(isWireguardDaemon('/usr/bin/wireguard-go (deleted)')).toBe(true);
    expect(isWireguardDaemon('/usr/bin/firefox')).toBe(false);
    expect(isWireguardDaemon('/opt/wireguard-go-gui/app')).toBe(false);
  });
});
