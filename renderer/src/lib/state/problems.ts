// The sidebar's summary: every problem the helper's own state shows, each with the place that explains
// it. "Protected" is only said when this list is empty. Pure, so each case is tested without a UI.
import type { App, Interface, RuleView, Status, Tunnel } from '#switchyard/api/schema.ts';
import type { ViewId } from './router.svelte.ts';
import { plural } from './format.ts';
import { heldSummary, holdDescription } from './held.svelte.ts';

/** Where a problem's cause is shown: an app's details, or a view (and the card in it). */
export type ProblemTarget = { kind: 'app'; id: string } | { kind: 'view'; view: ViewId; item?: string };

export interface Problem {
  /** Stable across updates, for keyed lists and tests. */
  key: string;
  text: string;
  /** One more sentence for the tooltip. */
  detail: string;
  target: ProblemTarget;
}

export interface ProblemInputs {
  status: Status | null;
  apps: readonly App[];
  interfaces: readonly Interface[];
  tunnels: readonly Tunnel[];
  /** Rules with a problem: each holds the traffic it covers. */
  holding: readonly RuleView[];
}

/** The egresses an app's choice names, in order (none for default or block). */
function listed(app: App): readonly string[] {
  return app.choice.mode === 'ordered' ? app.choice.egresses : [];
}

function names(apps: readonly App[]): string {
  const shown = apps.slice(0, 2).map((a) => a.name);
  return apps.length > 2 ? `${shown.join(', ')} and ${apps.length - 2} more` : shown.join(' and ');
}

export function summarizeProblems({ status, apps, interfaces, tunnels, holding }: ProblemInputs): Problem[] {
  const out: Problem[] = [];
  const byName = new Map(interfaces.map((i) => [i.name, i]));
  const tunnelNames = new Set(tunnels.map((t) => t.name));

  // The helper also reports a rule that holds traffic among its problems: that one is listed below,
  // by the rule, with a link to it.
  const byRule = (m: string) =>
    holding.some((r) => m.includes(`(${r.id})`) || (!!r.problem && m.includes(r.problem)));
  for (const message of (status?.problems ?? []).filter((m) => !byRule(m)))
    out.push({
      key: `helper:${message}`,
      text: `Helper: ${message}`,
      detail: 'The helper reports this about itself; Activity has the details.',
      target: { kind: 'view', view: 'activity' },
    });

  // Apps whose kill switch holds their traffic right now: the most serious, nothing leaves.
  // An app left on default in exclude mode is held by the mode's kill switch, not one of its own.
  const mode = status?.mode;
  for (const a of apps.filter((x) => x.egress.state === 'killed'))
    out.push(
      mode?.kind === 'exclude' && a.choice.mode === 'default'
        ? {
            key: `killed:${a.id}`,
            text: `${a.name} is blocked by the kill switch of "Every app except these"`,
            detail: `${mode.via} is not up, so the mode's kill switch holds the traffic of ${a.name}, which is on System default.`,
            target: { kind: 'app', id: a.id },
          }
        : {
            key: `killed:${a.id}`,
            text: `${a.name} is blocked by its kill switch`,
            detail: `None of ${listed(a).join(', ') || 'its egresses'} is up, so its kill switch holds its traffic.`,
            target: { kind: 'app', id: a.id },
          },
    );

  // An interface is a problem when an app (or the override) relies on it and it cannot carry traffic.
  const wanted = new Set([...apps.flatMap(listed), ...(status?.override ? [status.override] : [])]);
  for (const name of wanted) {
    const i = byName.get(name);
    const users = apps.filter((a) => listed(a).includes(name));
    if (!i) {
      if (tunnelNames.has(name)) continue; // a tunnel that is not up: its own problem below
      const first = users[0];
      out.push({
        key: `absent:${name}`,
        text:
          users.length === 1 && first
            ? `${first.name} is set to ${name}, which does not exist`
            : `${name} does not exist; ${plural(users.length, 'app uses', 'apps use')} it`,
        detail: users.length ? `Set to use ${name}: ${names(users)}.` : `The override names ${name}.`,
        target: first ? { kind: 'app', id: first.id } : { kind: 'view', view: 'interfaces' },
      });
    } else if (!i.usable && i.kind !== 'tunnel') {
      out.push({
        key: `down:${name}`,
        text: `${name} is down; ${plural(users.length, 'app lists', 'apps list')} it`,
        detail: users.length
          ? `Set to use ${name}: ${names(users)}.`
          : `The override sends every app to ${name}.`,
        target: { kind: 'view', view: 'interfaces', item: name },
      });
    }
  }

  for (const t of tunnels.filter((x) => x.state !== 'up' || x.problem))
    out.push({
      key: `tunnel:${t.name}`,
      text: `Tunnel ${t.name} is ${t.state}${t.state === 'up' ? ' with a problem' : ''}`,
      detail:
        t.problem ??
        (t.state === 'connecting' ? 'No handshake with its gateway yet.' : 'It carries nothing.'),
      target: { kind: 'view', view: 'tunnels', item: t.name },
    });

  for (const r of holding)
    out.push({
      key: `rule:${r.id}`,
      text: `Rule “${r.name}” is holding traffic`,
      detail: r.problem ?? '',
      target: { kind: 'view', view: 'rules' },
    });

  for (const a of apps.filter((x) => x.held.length))
    out.push({
      key: `held:${a.id}`,
      text: heldSummary(a),
      detail: a.held.map(holdDescription).join('\n'),
      target: { kind: 'app', id: a.id },
    });

  return out;
}

/** The one line above the list: unreachable, paused, problems, or protected. */
export function healthLine(
  connected: boolean,
  status: Status | null,
  problems: readonly Problem[],
): { tone: 'ok' | 'warn' | 'bad'; text: string } {
  if (!connected) return { tone: 'bad', text: 'Helper unavailable' };
  // The line says what kind of trouble; the list under it names each one.
  const holds = problems.some((p) => /^(killed|rule|held):/.test(p.key));
  const helper = problems.some((p) => p.key.startsWith('helper:'));
  if (problems.length)
    return {
      tone: helper || problems.some((p) => p.key.startsWith('killed:')) ? 'bad' : 'warn',
      text: holds ? 'Holding traffic' : helper ? 'Running with problems' : 'Needs attention',
    };
  if (status?.paused) return { tone: 'warn', text: 'Policies paused' };
  if (status?.override) return { tone: 'warn', text: `Override: all apps via ${status.override}` };
  return { tone: 'ok', text: 'Protected' };
}
