// The gateway's forwarding and NAT: one nft table per gateway instance, masquerading tunnel
// traffic out of the uplinks. Nothing outside that table is touched.
import { run } from '../mechanism/exec.ts';

function inNetns(netns: string | undefined, argv: string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}

export function natTableName(instance: string): string {
  return `switchyard_gw_${instance.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export async function installNat(opts: {
  instance: string;
  tun: string;
  uplinks: string[];
  netns?: string;
  enableForwarding: boolean;
}) {
  const table = natTableName(opts.instance);
  const ifs = opts.uplinks.map((u) => `"${u}"`).join(', ');
  const script = [
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority srcnat; policy accept;`,
    `    iifname "${opts.tun}" oifname { ${ifs} } masquerade`,
    `  }`,
    `}`,
  ].join('\n');
  await run(inNetns(opts.netns, ['nft', '-f', '-']), { input: script });
  if (opts.enableForwarding) {
    await run(inNetns(opts.netns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']));
    await run(inNetns(opts.netns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1']));
  }
}

export async function removeNat(instance: string, netns?: string): Promise<void> {
  await run(inNetns(netns, ['nft', 'delete', 'table', 'inet', natTableName(instance)]), {
    allowFailure: true,
  });
}
