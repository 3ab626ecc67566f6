// The CLI's tunnel and gateway commands: keys, tunnel egresses, and `switchyard gateway`.
import { readFileSync } from 'node:fs';
import { type Parsed, UsageError, list, required, str } from './args.ts';
import type { Command } from './commands.ts';
import { withClient } from './connect.ts';
import { bytes, print, table } from './format.ts';

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
    summary: 'list tunnel egresses and their state',
    run: (p) =>
      withClient(p, async (c) => {
        const list = await c.call('tunnels.list', {});
        print(p, list, () =>
          list.length === 0
            ? 'No tunnels. Add one with `switchyard tunnel add`.'
            : table(
                ['tunnel', 'gateway', 'state', 'address', 'our public key'],
                list.map((t) => [
                  t.name,
                  t.gateway,
                  t.problem ? `${t.state}: ${t.problem}` : t.state,
                  t.addresses.join(' '),
                  t.publicKey,
                ]),
              ),
        );
      }),
  },
  {
    name: 'tunnel add',
    usage:
      'tunnel add NAME --gateway HOST:PORT --gateway-key KEY --address CIDR [--address CIDR6] [--private-key-file FILE] [--cipher auto|aes256gcm|chacha20poly1305]',
    summary: 'add an encrypted tunnel egress to a Switchyard gateway',
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
        if (!name) throw new UsageError('tunnel rm: which tunnel?');
        print(p, await c.call('tunnels.remove', { name }), () => `removed tunnel ${name}`);
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
    name: 'gateway',
    usage: 'gateway --config FILE [--socket PATH]',
    summary: 'run a tunnel gateway in the foreground',
    options: {
      config: { type: 'string' },
      'socket-group': { type: 'string' },
      'socket-mode': { type: 'string' },
    },
    run: async (p) => {
      if (process.getuid?.() !== 0) throw new Error('the gateway needs root (TUN, nftables NAT)');
      const { runGatewayMode } = await import('../daemon/gateway-mode.ts');
      return runGatewayMode({
        configPath: required(p, 'config', 'the gateway config file (JSON)'),
        socketPath: str(p, 'socket') ?? '/run/switchyard/gateway.sock',
        socketGroup: str(p, 'socket-group') ?? 'switchyard',
        socketMode: parseInt(str(p, 'socket-mode') ?? '660', 8),
      });
    },
  },
];

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
