// Tunnels in words: `switchyard tunnels` keeps each row short, `switchyard tunnel show NAME` says all.
import { nearest } from '../api/edit-distance.ts';
import type { App, Tunnel } from '../api/schema.ts';
import { bytes, color, table } from './format.ts';

/** The first few words of a problem, for a table cell; `tunnel show` has the whole sentence. */
export function shortProblem(text: string, words = 4, width = 32): string {
  const parts = text.split(/\s+/).filter(Boolean);
  let out = '';
  for (const w of parts.slice(0, words)) {
    if (out && out.length + 1 + w.length > width) break;
    out = out ? `${out} ${w}` : w;
  }
  if (out.length > width) out = out.slice(0, width - 1);
  out = out.replace(/[,;:.]$/, '');
  return out.length < text.trim().length ? `${out}…` : out;
}

function stateCell(t: Tunnel): string {
  if (t.state === 'up') return color.green('up');
  return t.state === 'down' ? color.red('down') : color.yellow(t.state);
}

function groupsCell(t: Tunnel): string {
  return (
    (t.groups ?? [])
      .map((g) => `${g.name} (${g.established ? `epoch ${g.epoch}` : 'handshaking'})`)
      .join(', ') || '-'
  );
}

export function tunnelsTable(list: readonly Tunnel[]): string {
  if (list.length === 0) return 'No tunnels. Add one with `switchyard tunnel add`.';
  const anyProblem = list.some((t) => t.problem);
  const body = table(
    [
      'tunnel',
      'state',
      ...(anyProblem ? ['problem'] : []),
      'gateway',
      'address',
      'key groups',
      'sent / received',
    ],
    list.map((t) => [
      t.name,
      stateCell(t),
      ...(anyProblem ? [t.problem ? shortProblem(t.problem) : '-'] : []),
      t.gateway,
      t.addresses.join(' '),
      groupsCell(t),
      t.txBytes === undefined ? '-' : `${bytes(t.txBytes)} / ${bytes(t.rxBytes ?? 0)}`,
    ]),
  );
  const cut = list.some((t) => t.problem && shortProblem(t.problem) !== t.problem);
  return cut ? `${body}\n\nThe whole problem: \`switchyard tunnel show NAME\`.` : body;
}

/** The tunnel called name (any case), or an error naming the nearest one. */
export function findTunnel(list: readonly Tunnel[], name: string): Tunnel {
  const lower = name.toLowerCase();
  const t = list.find((x) => x.name === name) ?? list.find((x) => x.name.toLowerCase() === lower);
  if (t) return t;
  const near = nearest(
    name,
    list.map((x) => x.name),
  );
  const known = list.length
    ? `the tunnels are ${list.map((x) => x.name).join(', ')}`
    : 'there are no tunnels';
  throw new Error(`no tunnel '${name}' (${known}).${near ? ` Did you mean ${near}?` : ''}`);
}

/** Apps routed into the tunnel: carried now, or held by their kill switch while it is down. */
export function appsOf(t: Tunnel, apps: readonly App[]): { carried: App[]; held: App[]; listed: App[] } {
  const lists = (a: App) => a.choice.mode === 'ordered' && a.choice.egresses.includes(t.name);
  return {
    carried: apps.filter((a) => a.egress.active === t.name),
    held: apps.filter((a) => lists(a) && a.egress.state === 'killed'),
    listed: apps.filter((a) => lists(a) && a.egress.active !== t.name && a.egress.state !== 'killed'),
  };
}

export function tunnelText(t: Tunnel, apps: readonly App[]): string {
  const { carried, held, listed } = appsOf(t, apps);
  const ids = (xs: App[]) => xs.map((a) => a.id).join(', ');
  return [
    `${color.bold(t.name)}  ${stateCell(t)}`,
    t.problem ? color.yellow(`  problem:     ${t.problem}`) : '  problem:     none',
    `  gateway:     ${t.gateway}`,
    `  gateway key: ${t.gatewayPublicKey}`,
    `  our key:     ${t.publicKey}  (list it under the gateway's peers)`,
    `  addresses:   ${t.addresses.join(' ')}`,
    `  cipher:      ${t.cipher}`,
    t.gatewayDns === undefined
      ? null
      : `  gateway DNS: ${t.gatewayDns.join(', ') || 'none offered'}  (\`switchyard dns show\`)`,
    t.txBytes === undefined
      ? null
      : `  traffic:     sent ${bytes(t.txBytes)}, received ${bytes(t.rxBytes ?? 0)}`,
    `  carries:     ${ids(carried) || 'no app right now'}`,
    held.length
      ? color.red(`  holds:       ${ids(held)} (kill switch: blocked while the tunnel is not up)`)
      : null,
    listed.length ? `  fallback of: ${ids(listed)} (listed, using another egress now)` : null,
    ...(t.groups?.length
      ? [
          '  key groups:',
          ...t.groups.map(
            (g) =>
              `    ${g.name}: ${g.established ? `session epoch ${g.epoch}${g.since ? ` since ${g.since}` : ''}` : 'no session (handshaking)'}${g.txBytes === undefined ? '' : `, sent ${bytes(g.txBytes)}, received ${bytes(g.rxBytes ?? 0)}`}`,
          ),
        ]
      : []),
  ]
    .filter((l) => l !== null)
    .join('\n');
}
