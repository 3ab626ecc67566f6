// The CLI's DNS commands: which servers each egress's lookups go to (docs/dns.md).
import { isIP } from 'node:net';
import type { EgressDns } from '../api/dns-schema.ts';
import { UsageError } from './args.ts';
import type { Command } from './commands.ts';
import { withClient } from './connect.ts';
import { print, table } from './format.ts';

const SOURCE_WORDS: Record<string, string> = {
  'systemd-resolved': 'systemd-resolved',
  NetworkManager: 'NetworkManager',
  settings: 'your setting',
  gateway: 'from the gateway',
};

function dnsLine(e: EgressDns): string[] {
  return [
    e.egress,
    e.servers.join(', ') || '(none known)',
    e.source ? SOURCE_WORDS[e.source]! : '-',
    e.redirected ? 'follow it' : 'system stub',
  ];
}

export function dnsTable(list: EgressDns[]): string {
  return table(['EGRESS', 'DNS SERVERS', 'FROM', "ITS APPS' LOOKUPS"], list.map(dnsLine));
}

export const dnsCommands: Command[] = [
  {
    name: 'dns show',
    usage: 'dns show',
    summary: "each egress's DNS servers, where they come from, and whether its apps' lookups follow them",
    run: (p) =>
      withClient(p, async (c) => {
        const r = await c.call('dns.show', {});
        print(p, r, () => dnsTable(r.egresses));
      }),
  },
  {
    name: 'dns set',
    usage: 'dns set IFACE ADDR...',
    summary: "set the DNS servers of an egress the system names none for, or override a gateway's",
    example: 'switchyard dns set wlan0 192.168.1.1',
    notes: [
      'ADDR: IPv4 or IPv6 addresses, at most 8. systemd-resolved or NetworkManager, when they name',
      "servers for the interface, come first. An app's lookups to the system stub (127.0.0.53) then go",
      "to these servers through the app's egress. `switchyard dns clear IFACE` removes the setting.",
      'A tunnel learns its resolvers from its gateway (`switchyard gateway --dns`); a setting overrides them.',
    ],
    run: (p) =>
      withClient(p, async (c) => {
        const [egress, ...servers] = p.positionals;
        if (!egress)
          throw new UsageError('dns set: which interface? e.g. `switchyard dns set wlan0 192.168.1.1`');
        if (!servers.length)
          throw new UsageError(
            `dns set: which DNS servers for ${egress}? give one or more addresses (\`switchyard dns clear ${egress}\` removes them)`,
          );
        const bad = servers.find((s) => !isIP(s));
        if (bad) throw new UsageError(`dns set: "${bad}" is not an IPv4 or IPv6 address`);
        const r = await c.call('dns.set', { egress, servers });
        print(p, r, () => dnsTable([r]));
      }),
  },
  {
    name: 'dns clear',
    usage: 'dns clear IFACE',
    summary: "remove your DNS servers of an egress (the system's, if any, stay)",
    example: 'switchyard dns clear sy-tun0',
    run: (p) =>
      withClient(p, async (c) => {
        const egress = p.positionals[0];
        if (!egress) throw new UsageError('dns clear: which interface? e.g. `switchyard dns clear wlan0`');
        if (p.positionals.length > 1)
          throw new UsageError(
            `dns clear: takes one interface; to set servers use \`switchyard dns set ${egress} ADDR...\``,
          );
        const r = await c.call('dns.set', { egress, servers: [] });
        print(p, r, () => dnsTable([r]));
      }),
  },
];
