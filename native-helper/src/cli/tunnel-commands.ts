// The CLI's tunnel and gateway commands: keys, tunnel egresses, and `switchyard gateway`.
import { readFileSync } from 'node:fs';
import { isIP } from '../api/ip.ts';
import { MAX_GATEWAY_RESOLVERS } from '../tunnel/handshake.ts';
import { type Parsed, UsageError, list, required, str } from './args.ts';
import type { Command } from './commands.ts';
import { withClient } from './connect.ts';
import { bytes, print, table } from './format.ts';
import { findTunnel, tunnelText, tunnelsTable } from './tunnel-format.ts';

export const tunnelCommands: Command[] = [
  {
    name: 'tunnel keygen',
    usage: 'tunnel keygen',
    summary: 'print a new private key (keep it secret)',
    run: async () => console.log((await import('../tunnel/keys.ts')).genkey()),
  },
  {
    name: 'tunnel pubkey',
    usage: 'tunnel pubkey < PRIVATE_KEY',
    summary: 'print the public key of the private key on stdin',
    run: async () => console.log((await import('../tunnel/keys.ts')).pubkey((await readStdin()).trim())),
  },
  {
    name: 'tunnels',
    usage: 'tunnels',
    summary: 'list tunnel egresses: state, the start of any problem, traffic',
    run: (p) =>
      withClient(p, async (c) => {
        const list = await c.call('tunnels.list', {});
        print(p, list, () => tunnelsTable(list));
      }),
  },
  {
    name: 'tunnel show',
    usage: 'tunnel show NAME',
    summary:
      'one tunnel: its whole problem, keys, cipher, traffic, key groups and the apps it carries or holds',
    example: 'switchyard tunnel show sy-tun0',
    run: (p) =>
      withClient(p, async (c) => {
        const name = p.positionals[0];
        if (!name) throw new UsageError('tunnel show: which tunnel? (`switchyard tunnels` lists them)');
        const t = findTunnel(await c.call('tunnels.list', {}), name);
        const apps = await c.call('apps.list', {});
        print(p, t, () => tunnelText(t, apps));
      }),
  },
  {
    name: 'tunnel add',
    usage:
      'tunnel add NAME --gateway HOST:PORT --gateway-key KEY --address CIDR [--address CIDR6] [--private-key-file FILE] [--cipher auto|aes256gcm|chacha20poly1305]',
    summary: 'add an encrypted tunnel egress to a Switchyard gateway',
    example:
      'switchyard tunnel add sy-tun0 --gateway gw.example.org:51820 --gateway-key AbC…= --address 10.77.0.2/24',
    notes: [
      "--gateway-key: the gateway's public key. Without --private-key-file a key is made for this end;",
      "its public key is printed, for the gateway's peers (`switchyard gateway peer add`).",
    ],
    options: {
      gateway: { type: 'string' },
      'gateway-key': { type: 'string' },
      address: { type: 'string', multiple: true },
      'private-key-file': { type: 'string' },
      cipher: { type: 'string' },
    },
    run: (p) =>
      withClient(p, async (c) => {
        const name = p.positionals[0];
        if (!name)
          throw new UsageError('tunnel add: give the tunnel a name, e.g. `switchyard tunnel add sy-tun0 …`');
        const keyFile = str(p, 'private-key-file');
        const cipher = str(p, 'cipher') ?? 'auto';
        if (!['auto', 'aes256gcm', 'chacha20poly1305'].includes(cipher))
          throw new UsageError('--cipher: auto, aes256gcm or chacha20poly1305');
        const t = await c.call('tunnels.add', {
          name,
          gateway: required(p, 'gateway', 'the gateway as HOST:PORT'),
          gatewayPublicKey: required(p, 'gateway-key', "the gateway's public key"),
          addresses: addressesOf(p),
          ...(keyFile ? { privateKey: readFileSync(keyFile, 'utf8').trim() } : {}),
          cipher: cipher as 'auto',
        });
        print(p, t, () =>
          [
            `tunnel ${t.name} added (${t.state}); route apps into it with \`switchyard egress set APP ${t.name}\``,
            `our public key (list it under the gateway's peers): ${t.publicKey}`,
          ].join('\n'),
        );
      }),
  },
  {
    name: 'tunnel rm',
    usage: 'tunnel rm NAME',
    summary: 'stop and forget a tunnel',
    run: (p) =>
      withClient(p, async (c) => {
        const name = p.positionals[0];
        if (!name) throw new UsageError('tunnel rm: which tunnel? (`switchyard tunnels` lists them)');
        const t = findTunnel(await c.call('tunnels.list', {}), name);
        print(p, await c.call('tunnels.remove', { name: t.name }), () => `removed tunnel ${t.name}`);
      }),
  },
  {
    name: 'gateway stats',
    usage: 'gateway stats',
    summary: "a gateway's per-peer, per-app accounting",
    run: (p) =>
      withClient(p, async (c) => {
        const s = await c.call('gateway.stats', {});
        print(p, s, () =>
          table(
            ['peer', 'app tag', 'policy id', 'packets', 'bytes'],
            s.accounting.map((a) => [
              a.peer,
              String(a.tag),
              `0x${a.policyId.toString(16)}`,
              String(a.packets),
              bytes(a.bytes),
            ]),
          ),
        );
      }),
  },
  {
    name: 'gateway peers',
    usage: 'gateway peers',
    summary: "a gateway's peers: keys, addresses and the apps each may send",
    run: (p) =>
      withClient(p, async (c) => {
        const peers = await c.call('gateway.peers.list', {});
        print(p, peers, () =>
          table(
            ['peer', 'public key', 'addresses', 'apps (tag → allowed @ uplink)'],
            peers.map((x) => [
              x.name,
              x.publicKey,
              x.addresses.join(' '),
              [
                x.apps.map(appText).join('  '),
                ...(x.groups ?? []).map((g) => `[${g.name}] ${g.apps.map(appText).join('  ') || 'no apps'}`),
              ].join('  '),
            ]),
          ),
        );
      }),
  },
  {
    name: 'gateway peer add',
    usage:
      'gateway peer add NAME --key PUBKEY --address CIDR… --app TAG[=CIDR,…][@UPLINK]… [--group NAME:TAG[=CIDR,…][@UPLINK]]…',
    summary: 'add a peer to a running gateway, or replace one (its sessions end at once)',
    example:
      'switchyard gateway peer add laptop --key AbC…= --address 10.77.0.2/32 --app 7 --app 9=198.51.100.0/24@lte',
    notes: [
      '--app TAG alone allows every destination (0.0.0.0/0 and ::/0) through the first uplink.',
      '--group work:7 puts app 7 in key group "work" (its own session and keys); repeat for more apps or groups.',
      'The change is saved to the gateway config file.',
    ],
    options: {
      key: { type: 'string' },
      address: { type: 'string', multiple: true },
      app: { type: 'string', multiple: true },
      group: { type: 'string', multiple: true },
    },
    run: (p) =>
      withClient(p, async (c) => {
        const name = p.positionals[0];
        if (!name) throw new UsageError('gateway peer add: name the peer, e.g. `gateway peer add laptop …`');
        const addresses = list(p, 'address');
        if (!addresses.length)
          throw new UsageError('gateway peer add: give its tunnel address with --address CIDR');
        const apps = list(p, 'app').map(parseGatewayApp);
        const groups = new Map<string, ReturnType<typeof parseGatewayApp>[]>();
        for (const g of list(p, 'group')) {
          const at = g.indexOf(':');
          if (at < 1)
            throw new UsageError(`--group ${JSON.stringify(g)}: write GROUP:TAG, e.g. --group work:7`);
          const gname = g.slice(0, at);
          groups.set(gname, [...(groups.get(gname) ?? []), parseGatewayApp(g.slice(at + 1))]);
        }
        await c.call('gateway.peers.set', {
          name,
          publicKey: required(p, 'key', "the peer's public key (`switchyard tunnel pubkey`)"),
          addresses,
          apps,
          ...(groups.size ? { groups: [...groups].map(([g, a]) => ({ name: g, apps: a })) } : {}),
        });
        print(p, { ok: true }, () => `peer ${name} set (${apps.length} app${apps.length === 1 ? '' : 's'})`);
      }),
  },
  {
    name: 'gateway group revoke',
    usage: 'gateway group revoke PEER GROUP',
    summary: "revoke a peer's key group: its session ends at once, its other groups go on",
    example: 'switchyard gateway group revoke laptop personal',
    run: (p) =>
      withClient(p, async (c) => {
        const [peer, group] = p.positionals;
        if (!peer || !group) throw new UsageError('gateway group revoke: name the peer and the group');
        const r = await c.call('gateway.groups.revoke', { peer, group });
        print(
          p,
          r,
          () =>
            `key group ${group} of ${peer} revoked; ${r.sessionsEnded} session${r.sessionsEnded === 1 ? '' : 's'} ended`,
        );
      }),
  },
  {
    name: 'gateway peer rm',
    usage: 'gateway peer rm NAME',
    summary: 'remove a peer from a running gateway: its sessions end at once',
    example: 'switchyard gateway peer rm laptop',
    run: (p) =>
      withClient(p, async (c) => {
        const name = p.positionals[0];
        if (!name)
          throw new UsageError('gateway peer rm: which peer? (`switchyard gateway peers` lists them)');
        const r = await c.call('gateway.peers.remove', { name });
        print(
          p,
          r,
          () => `peer ${name} removed; ${r.sessionsEnded} session${r.sessionsEnded === 1 ? '' : 's'} ended`,
        );
      }),
  },
  {
    name: 'gateway',
    usage: 'gateway --config FILE [--dns ADDR[,ADDR]] [--socket PATH] [--state-dir DIR]',
    summary: 'run a tunnel gateway in the foreground',
    example: 'switchyard gateway --config /etc/switchyard/gateway.json --dns 10.77.0.1',
    notes: [
      '--dns: the resolvers (at most 2) the gateway offers its peers, reachable through the tunnel, e.g. a',
      'resolver on its own tunnel address. Clients learn them in the handshake and send the lookups of the',
      'tunnel\'s apps there (`switchyard dns show`). Overrides the config\'s "dns"; not saved to it.',
    ],
    options: {
      config: { type: 'string' },
      dns: { type: 'string' },
      'state-dir': { type: 'string' },
      'socket-group': { type: 'string' },
      'socket-mode': { type: 'string' },
    },
    run: async (p) => {
      if (process.getuid?.() !== 0) throw new Error('the gateway needs root (TUN, nftables NAT)');
      const { runGatewayMode } = await import('../daemon/gateway-mode.ts');
      return runGatewayMode({
        configPath: required(p, 'config', 'the gateway config file (JSON)'),
        socketPath: str(p, 'socket') ?? '/run/switchyard/gateway.sock',
        stateDir: str(p, 'state-dir'),
        socketGroup: str(p, 'socket-group') ?? 'switchyard',
        socketMode: parseInt(str(p, 'socket-mode') ?? '660', 8),
        dns: gatewayDns(str(p, 'dns')),
      });
    },
  },
];

/** `--dns 10.77.0.1,fd77::1`: checked here, so a typo is named before the gateway starts. */
export function gatewayDns(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const bad = list.find((a) => isIP(a) === 0);
  if (bad !== undefined)
    throw new UsageError(`--dns: "${bad}" is not an IPv4 or IPv6 address (e.g. --dns 10.77.0.1)`);
  if (!list.length) throw new UsageError('--dns: give a resolver address, e.g. --dns 10.77.0.1');
  if (list.length > MAX_GATEWAY_RESOLVERS)
    throw new UsageError(`--dns: a gateway offers at most ${MAX_GATEWAY_RESOLVERS} resolvers`);
  return list;
}

const appText = (a: { tag: number; allow: string[]; uplink?: string }) =>
  `${a.tag}→${a.allow.join(',')}${a.uplink ? `@${a.uplink}` : ''}`;

/** "7", "7=198.51.100.0/24,2001:db8::/32" or "7@lte": an app tag, where it may go, its uplink. */
export function parseGatewayApp(text: string): { tag: number; allow: string[]; uplink?: string } {
  const m = /^(\d{1,5})(?:=([^@]+))?(?:@([A-Za-z0-9_.-]{1,32}))?$/.exec(text);
  const tag = m ? Number(m[1]) : NaN;
  if (!m || tag > 0xffff)
    throw new UsageError(
      `--app ${JSON.stringify(text)}: write TAG, TAG=CIDR,CIDR or TAG@UPLINK (e.g. --app 7=0.0.0.0/0@lte)`,
    );
  return {
    tag,
    allow: m[2] ? m[2].split(',') : ['0.0.0.0/0', '::/0'],
    ...(m[3] ? { uplink: m[3] } : {}),
  };
}

/** --address once per family: this end inside the tunnel, e.g. 10.77.0.2/24 and fd77::2/64. */
function addressesOf(p: Parsed): string[] {
  const given = list(p, 'address');
  if (!given.length)
    throw new UsageError(
      'missing --address (this end inside the tunnel, e.g. 10.77.0.2/24; repeat for IPv6)',
    );
  return given;
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8').on('data', (d: string) => (text += d));
    process.stdin.on('end', () => resolve(text));
    process.stdin.on('error', reject);
  });
}
