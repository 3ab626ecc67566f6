// `switchyard explain APP HOST[:PORT]` and `explain --unmanaged HOST[:PORT]` (a process in no app,
// API mode.explain): their arguments and their answers in words.
import { isIP } from 'node:net';
import type { Explanation, UnmanagedExplanation } from '../api/schema.ts';
import { type Parsed, UsageError, str } from './args.ts';

const USAGE =
  'explain: name the app and where it connects, e.g. `switchyard explain firefox example.org:443`, or `switchyard explain --unmanaged example.org:443` for a process in no app';

/** [APP, HOST[:PORT]] from the positionals, or from --app and --dst (the older form). */
export function explainArgs(p: Parsed): [string, string] {
  const [app, host, extra] = p.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected ${JSON.stringify(extra)}; ${USAGE}`);
  const a = str(p, 'app') ?? app;
  const h = str(p, 'dst') ?? (str(p, 'app') ? app : host);
  if (!a || !h) throw new UsageError(USAGE);
  return [a, h];
}

/** HOST[:PORT] of `explain --unmanaged HOST[:PORT]`: one destination and no app. */
export function unmanagedArgs(p: Parsed): string {
  const [host, extra] = p.positionals;
  if (str(p, 'app')) throw new UsageError('explain: --unmanaged is for a process in no app; leave out --app');
  const h = str(p, 'dst') ?? host;
  if (!h)
    throw new UsageError(
      'explain --unmanaged: say where it connects, e.g. `switchyard explain --unmanaged example.org:443`',
    );
  const more = str(p, 'dst') ? host : extra;
  if (more !== undefined)
    throw new UsageError(
      `unexpected ${JSON.stringify(more)}; \`explain --unmanaged HOST[:PORT]\` takes no app: it explains a process in no app`,
    );
  return h;
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
  return answerText(e.app, e);
}

/** `explain --unmanaged`'s answer: where a process in no app sends the flow (mode.explain). */
export function unmanagedText(e: UnmanagedExplanation): string {
  return answerText('a process in no app', e);
}

function answerText(who: string, e: UnmanagedExplanation): string {
  const host =
    e.destination.host === e.destination.address
      ? e.destination.host
      : `${e.destination.host} (${e.destination.address})`;
  return [
    `${who} → ${host} ${e.destination.protocol}/${e.destination.port}`,
    `verdict: ${e.verdict}${e.egress ? ` via ${e.egress}` : ''}${e.sourceAddress ? ` from ${e.sourceAddress}` : ''}`,
    `why:     ${e.reason}`,
    ...e.steps.map((s, i) => `  ${i + 1}. ${s}`),
  ].join('\n');
}
