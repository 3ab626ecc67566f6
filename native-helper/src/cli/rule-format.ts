// Human output of the encryption-rule commands: the ordered rule table, groups and networks.
import type { Group, Network, RuleAction, RuleMatch, RuleView, Trust } from '../api/rules-model.ts';
import { actionSpec } from './rule-parse.ts';
import { bytes, color, count, table } from './format.ts';

export interface RuleListValue {
  rules: RuleView[];
  defaults: Record<Trust, RuleAction>;
}

export interface NetworkListValue {
  networks: Network[];
  unknownTrust: Trust;
}

/** A length of time in its two largest units, seconds only under a minute: "45s", "59m", "2h30m", "1d4h". */
export function span(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const s = whole < 60 ? whole : whole - (whole % 60);
  const parts: [number, string][] = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join('');
}

/** "in 59m" for a time to come, "expired" once it has passed, "never" without one. */
export function expiry(expiresAt: string | null, now: Date): string {
  if (!expiresAt) return 'never';
  const left = (new Date(expiresAt).getTime() - now.getTime()) / 1000;
  return left <= 0 ? 'expired' : `in ${span(left)}`;
}

/** "just now" or "5m ago". */
export function ago(iso: string, now: Date): string {
  const seconds = (now.getTime() - new Date(iso).getTime()) / 1000;
  return seconds < 60 ? 'just now' : `${span(seconds)} ago`;
}

export function subjectText(m: RuleMatch): string {
  return m.subject.kind === 'app' ? m.subject.app : `group ${m.subject.group}`;
}

/** Destinations, protocol and ports, network trust: "to 198.18.0.0/15 tcp/443 on untrusted". */
export function matchText(m: RuleMatch): string {
  const ports = m.ports.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`)).join(',');
  const proto = m.protocol === 'any' ? null : m.protocol;
  const parts = [
    m.destinations.length ? `to ${m.destinations.join(',')}` : null,
    proto && ports ? `${proto}/${ports}` : proto ? proto : ports ? `port ${ports}` : null,
    m.network === 'any' ? null : `on ${m.network}`,
  ].filter((x) => x !== null);
  return parts.length ? parts.join(' ') : 'all traffic';
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function actionCell(a: RuleAction): string {
  const text = actionSpec(a);
  return a.type === 'block' ? color.red(text) : a.type === 'encrypt' ? color.green(text) : text;
}

/** The rules in evaluation order, then the two trust defaults. */
export function rulesTable(list: RuleListValue, now: Date): string {
  const anyProblem = list.rules.some((r) => r.problem);
  const rows = list.rules.map((r) => [
    String(r.position),
    r.id + (r.locked ? ' 🔒' : ''),
    r.layer,
    shorten(r.name, 32),
    subjectText(r.match),
    matchText(r.match),
    actionCell(r.action),
    expiry(r.expiresAt, now),
    `${count(r.stats.flows)} / ${bytes(r.stats.bytes)}`,
    ...(anyProblem ? [r.problem ? color.yellow(r.problem) : ''] : []),
  ]);
  const defaults = (['trusted', 'untrusted'] as const).map((trust) => [
    '-',
    '-',
    'default',
    `${trust} networks`,
    'any app',
    'no rule matched',
    actionCell(list.defaults[trust]),
    'never',
    '-',
    ...(anyProblem ? [''] : []),
  ]);
  const headers = ['#', 'id', 'layer', 'name', 'subject', 'match', 'action', 'expires', 'flows / bytes'];
  const intro = list.rules.length
    ? []
    : ['No rules yet: every flow takes its network’s default. Add one with `switchyard rule add`.', ''];
  return [...intro, table([...headers, ...(anyProblem ? ['problem'] : [])], [...rows, ...defaults])].join(
    '\n',
  );
}

/** One line about a rule just added. */
export function ruleSummary(r: RuleView, now: Date): string {
  const expires = r.expiresAt ? `, expires ${expiry(r.expiresAt, now)}` : '';
  const line = `added rule ${r.id} at #${r.position} (${r.layer}): ${subjectText(r.match)}, ${matchText(r.match)} → ${actionSpec(r.action)}${expires}`;
  return r.problem ? `${line}\n${color.yellow(`warning: ${r.problem}`)}` : line;
}

export function groupsTable(groups: readonly Group[]): string {
  if (!groups.length) return 'No groups. Make one with `switchyard group add NAME APP…`.';
  return table(
    ['group', 'apps'],
    groups.map((g) => [g.name + (g.managed ? ' 🔒' : ''), g.apps.join(', ') || '(none)']),
  );
}

export function trustText(n: Network): string {
  return n.trust ?? `(default: ${n.effectiveTrust})`;
}

/** Each network as a short block, then what networks nobody marked are. */
export function networksText(list: NetworkListValue, now: Date): string {
  const blocks = list.networks.map((n) =>
    [
      `${color.bold(n.id)}  ${n.name}${n.managed ? '  🔒 managed' : ''}`,
      `  trust:    ${trustText(n)}`,
      `  uplinks:  ${n.interfaces.length ? n.interfaces.join(', ') : 'none now'}`,
      `  gateway:  ${n.fingerprint.gatewayMac ?? 'not known yet'}`,
      `  subnet:   ${n.fingerprint.subnet ?? '-'}`,
      n.fingerprint.ssid ? `  ssid:     ${n.fingerprint.ssid}` : null,
      `  seen:     first ${ago(n.firstSeen, now)}, last ${n.interfaces.length ? 'now' : ago(n.lastSeen, now)}`,
    ]
      .filter((l) => l !== null)
      .join('\n'),
  );
  return [
    ...(blocks.length ? blocks : ['No networks seen yet.']),
    `Networks nobody marked are ${list.unknownTrust}.`,
  ].join('\n\n');
}
