// `switchyard explain APP HOST[:PORT]`: its arguments and its answer in words.
import { isIP } from 'node:net';
import type { Explanation } from '../api/schema.ts';
import { type Parsed, UsageError, str } from './args.ts';

const USAGE =
  'explain: name the app and where it connects, e.g. `switchyard explain firefox example.org:443`';

/** [APP, HOST[:PORT]] from the positionals, or from --app and --dst (the older form). */
export function explainArgs(p: Parsed): [string, string] {
  const [app, host, extra] = p.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected ${JSON.stringify(extra)}; ${USAGE}`);
  const a = str(p, 'app') ?? app;
  const h = str(p, 'dst') ?? (str(p, 'app') ? app : host);
  if (!a || !h) throw new UsageError(USAGE);
  return [a, h];
}

/** HOST:PORT as the helper takes it; 443 when no port is given (a bare IPv6 address gets brackets). */
export function withPort(text: string): string {
  if (/^\[[^\]]+\]:\d+$/.test(text) || /^[^:[\]]+:\d+$/.test(text)) return text;
  if (/^\[[^\]]+\]$/.test(text)) return `${text}:443`;
  if (isIP(text) === 6) return `[${text}]:443`;
  if (/^[^:[\]]+:$/.test(text) || /^[^:[\]]+:\D/.test(text))
    throw new UsageError(
      `${JSON.stringify(text)}: the port after the colon is a number, e.g. example.org:443`,
    );
  return `${text}:443`;
}

export function explanationText(e: Explanation): string {
  const host =
    e.destination.host === e.destination.address
      ? e.destination.host
      : `${e.destination.host} (${e.destination.address})`;
  return [
    `${e.app} → ${host} ${e.destination.protocol}/${e.destination.port}`,
    `verdict: ${e.verdict}${e.egress ? ` via ${e.egress}` : ''}${e.sourceAddress ? ` from ${e.sourceAddress}` : ''}`,
    `why:     ${e.reason}`,
    ...e.steps.map((s, i) => `  ${i + 1}. ${s}`),
  ].join('\n');
}
