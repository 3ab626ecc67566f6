// The helper's state in words for the CLI: apps, status, interfaces and events.
import { describeChoice } from '../api/describe.ts';
import type { Network } from '../api/rules-model.ts';
import type { App, EventEnvelope, Interface, Status, Tunnel } from '../api/schema.ts';
import { bytes, color, latency, rate, table } from './format.ts';

const STATE_LABEL: Record<App['egress']['state'], string> = {
  default: 'system default',
  routed: 'routed',
  'failed-over': 'failed over',
  'fallback-default': 'fallback: system default',
  killed: 'BLOCKED by kill switch',
  blocked: 'blocked',
  paused: 'paused',
};

export function stateText(a: App): string {
  const held = a.held.find((h) => h.kind === 'quarantined') ?? a.held[0];
  if (held) return color.red(held.kind === 'quarantined' ? 'QUARANTINED' : `FLAGGED by ${held.source}`);
  const label = STATE_LABEL[a.egress.state];
  const text = a.egress.active ? `${label} via ${a.egress.active}` : label;
  if (a.egress.state === 'killed') return color.red(text);
  if (a.egress.state === 'failed-over' || a.egress.state === 'fallback-default') return color.yellow(text);
  return text;
}

export function appDetails(a: App): string {
  const m = a.matchers;
  return [
    `${color.bold(a.name)} (${a.id})${a.managed ? '  [managed]' : ''}`,
    `  choice:     ${describeChoice(a.choice)}`,
    `  egress:     ${stateText(a)}`,
    `  tag:        ${a.tag}`,
    `  source:     ${a.source}`,
    m.exe?.length ? `  exe:        ${m.exe.join(', ')}` : null,
    m.desktopId ? `  desktop id: ${m.desktopId}` : null,
    m.flatpakId ? `  flatpak id: ${m.flatpakId}` : null,
    m.cmdline ? `  cmdline:    /${m.cmdline}/` : null,
    a.updateServers?.length ? `  updates:    ${a.updateServers.join(', ')}` : null,
    ...a.held.map(
      (h) =>
        `  ${color.red(h.kind === 'quarantined' ? 'QUARANTINED' : 'FLAGGED')}: ${h.source}: ${h.reason}${h.until ? ` (until ${h.until})` : ''}`,
    ),
    `  processes:  ${a.pids.length ? a.pids.join(' ') : 'none running'}`,
    `  traffic:    ↑ ${rate(a.counters.txRate)} ↓ ${rate(a.counters.rxRate)}  (total ↑ ${bytes(a.counters.txBytes)} ↓ ${bytes(a.counters.rxBytes)})`,
  ]
    .filter((l) => l !== null)
    .join('\n');
}

/** Apps that do not get their choice: none of their egresses is usable, so the system default carries them. */
function fallbackLines(apps: readonly App[]): string[] {
  return apps
    .filter((a) => a.egress.state === 'fallback-default' && a.choice.mode === 'ordered')
    .map((a) =>
      color.yellow(
        `problem     ${a.id}: none of ${a.choice.mode === 'ordered' ? a.choice.egresses.join(', ') : ''} is usable, so it uses the system default`,
      ),
    );
}

export function statusText(s: Status, tunnels: readonly Tunnel[], apps: readonly App[] = []): string {
  return [
    `helper      ${s.health === 'ok' ? color.green('running') : color.yellow('degraded')} (pid ${s.pid}, version ${s.version}, instance ${s.instance})`,
    `since       ${s.startedAt}`,
    `policies    ${s.paused ? color.yellow('PAUSED') : 'active'}${s.override ? `, everything through ${s.override}` : ''}`,
    `apps        ${s.apps.total} known, ${s.apps.managed} with a choice, ${s.apps.running} running`,
    s.killed.length
      ? `kill switch ${color.red(`blocking ${s.killed.join(', ')}`)}`
      : 'kill switch nothing blocked',
    tunnels.length
      ? `tunnels     ${tunnels.map((t) => `${t.name} ${t.state === 'up' ? color.green('up') : color.yellow(t.state)}`).join(', ')}`
      : 'tunnels     none',
    `policy      ${s.policyPath}`,
    `cgroups     ${s.cgroupRoot}`,
    ...s.problems.map((p) => color.yellow(`problem     ${p}`)),
    ...tunnels
      .filter((t) => t.problem && !s.problems.some((p) => p.includes(t.problem!)))
      .map((t) => color.yellow(`problem     tunnel ${t.name}: ${t.problem}`)),
    ...fallbackLines(apps),
  ].join('\n');
}

/** A tunnel's device says what its tunnel says (connecting, up, down), as `tunnels` does. */
function interfaceState(i: Interface, tunnels: readonly Tunnel[]): string {
  const t = i.kind === 'tunnel' ? tunnels.find((x) => x.name === i.name) : undefined;
  if (t && t.state !== 'up') return t.state === 'down' ? color.red('down') : color.yellow(t.state);
  return i.usable ? color.green('usable') : i.up ? color.yellow('up, no route') : color.red('down');
}

export function interfaceRows(list: Interface[], tunnels: readonly Tunnel[]): string {
  return table(
    ['interface', 'kind', 'state', 'addresses', 'gateway', 'apps', 'rate ↑/↓'],
    list.map((i) => [
      i.name,
      i.kind,
      interfaceState(i, tunnels),
      i.addresses.map((a) => `${a.address}/${a.prefixLength}`).join(' ') || '-',
      i.gateways.map((g) => g.address).join(' ') || '-',
      i.apps.join(',') || '-',
      `${rate(i.counters.txRate)} / ${rate(i.counters.rxRate)}`,
    ]),
  );
}

export function eventLine(e: EventEnvelope): string {
  const d = e.data as Record<string, unknown>;
  const time = e.time.slice(11, 19);
  switch (e.event) {
    case 'adoption':
      return `${time} adopted    pid ${d.pid} (${d.exe}) into ${d.app} via ${d.via} in ${latency(Number(d.latencyUs))}`;
    case 'egress.failover':
      return `${time} failover   ${d.app}: ${d.from ?? 'none'} → ${d.to ?? 'none'}`;
    case 'egress.killed':
      return `${time} kill       ${d.app}: blocked, none of ${(d.egresses as string[]).join(', ')} is up`;
    case 'egress.restored':
      return `${time} restored   ${d.app}: back on ${d.egress}`;
    case 'policy.changed': {
      const actor = d.actor as { user: string; via: string };
      return `${time} policy     ${d.summary} (by ${actor.user} via ${actor.via})`;
    }
    case 'interface.changed': {
      const i = d.interface as Interface | null;
      return `${time} interface  ${d.name} ${d.removed ? 'removed' : i?.usable ? 'usable' : i?.up ? 'up, not usable' : 'down'}`;
    }
    case 'app.changed':
      return `${time} app        ${d.id} ${d.removed ? 'removed' : 'changed'}`;
    case 'rules.changed': {
      const n = (d.rules as unknown[]).length;
      return `${time} rules      the rule list changed (${n} rule${n === 1 ? '' : 's'})`;
    }
    case 'rule.expired':
      return `${time} rule       ${d.id} (${d.name}) expired`;
    case 'groups.changed':
      return `${time} groups     ${(d.groups as { name: string }[]).map((g) => g.name).join(', ') || 'none'}`;
    case 'networks.changed': {
      const on = (d.networks as Network[]).filter((n) => n.interfaces.length);
      return `${time} networks   ${on.map((n) => `${n.interfaces.join(',')} on ${n.id} (${n.trust ?? `default: ${n.effectiveTrust}`})`).join('; ') || 'no uplink on a known network'}`;
    }
    case 'helper.problem':
      return `${time} ${d.severity}    ${d.message}`;
    default:
      return `${time} ${e.event} ${JSON.stringify(d)}`;
  }
}
