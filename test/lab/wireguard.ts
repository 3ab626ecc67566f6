// A user's own WireGuard, as wg-quick with wireguard-go would make it (Debian's wireguard-go; this
// kernel has no WireGuard module): wg0 on the desktop (10.99.0.2/32, no IPv6, no route in the main
// table), its peer wg0 in the gateway namespace (10.99.0.1/24), which NATs to the internet, so the
// servers see the gateway's address. Each side keeps its UAPI socket in a directory of the lab's own,
// mounted over /var/run/wireguard for that side only (wireguard-mounts.sh); run the helper under
// test with `helperWrap` so that it finds the desktop's socket where a real one would be.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Lab } from './lab.ts';
import { REPO } from './switchyard-helper.ts';

export const WG_MOUNTS = join(REPO, 'test/lab/wireguard-mounts.sh');
export const WG_IFNAME = 'wg0';
export const WG_PORT = { desktop: 51821, gateway: 51820 } as const;
export const WG_ADDRESS = { desktop: '10.99.0.2', gateway: '10.99.0.1' } as const;

export interface WireguardPair {
  /** The sides' UAPI socket directories (each one's /var/run/wireguard). */
  dirs: { desktop: string; gateway: string };
  keys: { desktopPublic: string; gatewayPublic: string };
  /** Wrap for the helper: it sees the desktop's directory as /var/run/wireguard. */
  helperWrap: string[];
  /** `ip link set wg0 up|down` on the desktop (addresses stay, as with a flapping link). */
  setDesktop(admin: 'up' | 'down'): Promise<void>;
  /**
   * The gateway side stops (false) or starts again (true) answering: its input drops the desktop's
   * WireGuard UDP, as when the peer's machine is gone. wg0 on the desktop stays up all the while.
   */
  setGatewayAnswering(answering: boolean): Promise<void>;
}

const wg = (args: string[], input?: string) => execFileSync('wg', args, { input, encoding: 'utf8' }).trim();
const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

/** One `set=1` on a UAPI socket; throws with the device's errno when it refuses. */
export function uapiSet(socket: string, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let text = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`set=1\n${lines.join('\n')}\n\n`));
    s.on('data', (d: string) => {
      text += d;
      if (!text.endsWith('\n\n')) return;
      s.destroy();
      if (text.trim() === 'errno=0') resolve();
      else reject(new Error(`wireguard-go refused the configuration: ${text.trim()}`));
    });
    s.on('error', reject);
  });
}

async function waitFor(path: string, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${what} did not appear at ${path} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function wireguardPair(lab: Lab): Promise<WireguardPair> {
  const dirs = {
    desktop: join(lab.stateDir, 'wireguard-desktop'),
    gateway: join(lab.stateDir, 'wireguard-gateway'),
  };
  const priv = { desktop: wg(['genkey']), gateway: wg(['genkey']) };
  const keys = {
    desktopPublic: wg(['pubkey'], priv.desktop),
    gatewayPublic: wg(['pubkey'], priv.gateway),
  };
  for (const side of ['desktop', 'gateway'] as const) {
    mkdirSync(dirs[side], { recursive: true });
    const child = await lab.spawn(side, ['sh', WG_MOUNTS, dirs[side], 'wireguard-go', '-f', WG_IFNAME], {
      env: { ...process.env, LOG_LEVEL: 'error' },
    });
    child.stdout?.resume();
    child.stderr?.resume();
    await waitFor(join(dirs[side], `${WG_IFNAME}.sock`), `wireguard-go's socket in ${side}`);
  }
  await uapiSet(join(dirs.gateway, `${WG_IFNAME}.sock`), [
    `private_key=${hex(priv.gateway)}`,
    `listen_port=${WG_PORT.gateway}`,
    `public_key=${hex(keys.desktopPublic)}`,
    `allowed_ip=${WG_ADDRESS.desktop}/32`,
  ]);
  await uapiSet(join(dirs.desktop, `${WG_IFNAME}.sock`), [
    `private_key=${hex(priv.desktop)}`,
    `listen_port=${WG_PORT.desktop}`,
    `public_key=${hex(keys.gatewayPublic)}`,
    `endpoint=${lab.servers.gatewayV4}:${WG_PORT.gateway}`,
    'allowed_ip=0.0.0.0/0',
    'allowed_ip=::/0',
    'persistent_keepalive_interval=5',
  ]);
  // The gateway side: address, up, and NAT of the peer's packets to the internet.
  await lab.exec('gateway', ['ip', 'address', 'add', `${WG_ADDRESS.gateway}/24`, 'dev', WG_IFNAME]);
  await lab.exec('gateway', ['ip', 'link', 'set', WG_IFNAME, 'up']);
  await lab.exec('gateway', ['nft', '-f', '-'], {
    input: [
      'table ip sylab_wg {',
      '  chain post { type nat hook postrouting priority srcnat; policy accept;',
      `    ip saddr ${WG_ADDRESS.desktop} oifname "eth0" masquerade`,
      '  }',
      '}',
    ].join('\n'),
  });
  // The desktop side: a /32 and no IPv6, no route in the main table (wg-quick with Table = off).
  await lab.exec('desktop', ['ip', 'address', 'add', `${WG_ADDRESS.desktop}/32`, 'dev', WG_IFNAME]);
  await lab.exec('desktop', ['ip', 'link', 'set', WG_IFNAME, 'up']);
  return {
    dirs,
    keys,
    helperWrap: ['sh', WG_MOUNTS, dirs.desktop],
    setDesktop: async (admin) => {
      await lab.exec('desktop', ['ip', 'link', 'set', WG_IFNAME, admin]);
    },
    setGatewayAnswering: async (answering) => {
      if (answering) {
        await lab.exec('gateway', ['nft', 'delete', 'table', 'inet', 'sylab_wg_gone']);
        return;
      }
      await lab.exec('gateway', ['nft', '-f', '-'], {
        input: [
          'table inet sylab_wg_gone {',
          `  chain in { type filter hook input priority -10; policy accept; udp dport ${WG_PORT.gateway} drop; }`,
          '}',
        ].join('\n'),
      });
    },
  };
}
