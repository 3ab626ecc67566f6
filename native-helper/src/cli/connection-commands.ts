// `switchyard connections [--app APP] [--limit N]`: what each app talks to, newest first, from the
// helper's connection history (daemon/connections.ts).
import type { Connection, ConnectionList } from '../api/schema.ts';
import { type Parsed, UsageError, str } from './args.ts';
import { resolveApp } from './app-names.ts';
import type { Command } from './commands.ts';
import { withClient } from './connect.ts';
import { bytes, print, table } from './format.ts';

/** "198.51.100.10 (server.lab)", an IPv6 address as is. */
export function destinationText(c: Pick<Connection, 'destination' | 'name'>): string {
  return c.name ? `${c.destination} (${c.name})` : c.destination;
}

export function portText(c: Pick<Connection, 'port' | 'protocol'>): string {
  return c.port === null ? c.protocol : `${c.port}/${c.protocol}`;
}

/** "12 s ago", "3 min ago", "2 h ago", else the date. */
export function whenText(iso: string, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return iso.slice(0, 10);
}

function bytesText(c: Connection): string {
  if (c.txBytes === null || c.rxBytes === null) return c.state === 'open' ? 'counting' : '–';
  return `${bytes(c.txBytes)} / ${bytes(c.rxBytes)}`;
}

export function connectionsText(list: ConnectionList, now: Date, app: string | null): string {
  const lines: string[] = [];
  if (!list.tracking)
    lines.push(`The helper is not watching connections: ${list.problem ?? 'unknown reason'}.`);
  if (!list.connections.length) {
    lines.push(app ? `No connections of ${app} seen yet.` : 'No connections seen yet.');
    return lines.join('\n');
  }
  lines.push(
    table(
      ['app', 'destination', 'port', 'egress', 'bytes ↑/↓', 'when', 'rule'],
      list.connections.map((c) => [
        c.app,
        destinationText(c),
        portText(c),
        c.egress ?? '–',
        bytesText(c),
        whenText(c.startedAt, now) + (c.state === 'open' ? ' · open' : ''),
        c.decidedBy.name,
      ]),
    ),
  );
  return lines.join('\n');
}

export const connectionCommands: Command[] = [
  {
    name: 'connections',
    usage: 'connections [--app APP] [--limit N] [--json]',
    summary: 'what each app talks to: its recent connections, their egress, bytes and the rule that decided',
    example: 'switchyard connections --app lab-chat',
    notes: [
      'Newest first. Bytes are counted at the IP layer (headers included) by the kernel.',
      'The helper keeps the last 200 connections of each app and 4000 in all.',
    ],
    options: { app: { type: 'string' }, limit: { type: 'string' } },
    run: (p: Parsed) => {
      if (p.positionals.length)
        throw new UsageError(
          `unexpected ${JSON.stringify(p.positionals[0])}; usage: switchyard connections [--app APP] [--limit N]`,
        );
      const limitText = str(p, 'limit') ?? '100';
      const limit = Number(limitText);
      if (!/^\d+$/.test(limitText) || limit < 1 || limit > 1000)
        throw new UsageError('--limit takes a number from 1 to 1000');
      const appText = str(p, 'app');
      return withClient(p, async (c) => {
        const app = appText === undefined ? undefined : await resolveApp(c, appText);
        const list = await c.call('connections.list', { ...(app ? { app } : {}), limit });
        print(p, list, () => connectionsText(list, new Date(), app ?? null));
      });
    },
  },
];
