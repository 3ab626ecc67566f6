// Turns topology fragments into commands. Order matters: namespaces, then veths, then addresses and
// links up (in every namespace), then routes, so every route's gateway is already on-link.
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { nsName, type Fragment, type Role, type RouteSpec } from './topology.ts';

/** Run `ip -batch` inside one namespace; one process per namespace per phase. */
export async function ipBatch(prefix: string, role: Role, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await run(['ip', '-n', nsName(prefix, role), '-batch', '-'], { input: lines.join('\n') + '\n' });
}

function groupByRole<T extends { role: Role }>(items: T[], line: (item: T) => string): Map<Role, string[]> {
  const byRole = new Map<Role, string[]>();
  for (const item of items) {
    const lines = byRole.get(item.role) ?? [];
    lines.push(line(item));
    byRole.set(item.role, lines);
  }
  return byRole;
}

async function eachRole(byRole: Map<Role, string[]>, prefix: string): Promise<void> {
  await Promise.all([...byRole].map(([role, lines]) => ipBatch(prefix, role, lines)));
}

export function routeLine(verb: 'add' | 'replace', r: RouteSpec): string {
  return `route ${verb} ${r.dst} via ${r.via} dev ${r.dev}${r.metric === undefined ? '' : ` metric ${r.metric}`}`;
}

export async function applyFragment(prefix: string, f: Fragment): Promise<void> {
  for (const ns of f.namespaces) {
    const name = nsName(prefix, ns.role);
    await run(['ip', 'netns', 'add', name]);
    const settings = Object.entries(ns.sysctls).map(([k, v]) => `${k}=${v}`);
    // sysctl must run inside the namespace: /proc/sys/net is per network namespace.
    if (settings.length) await run(['ip', 'netns', 'exec', name, 'sysctl', '-q', '-w', ...settings]);
    if (ns.nftables) await run(['ip', 'netns', 'exec', name, 'nft', '-f', '-'], { input: ns.nftables });
  }

  // Created in place: `ip -n A link add … netns B` never puts an interface in the host namespace.
  await eachRole(
    groupByRole(
      f.veths.map((v) => ({ role: v.a.role, v })),
      ({ v }) =>
        `link add name ${v.a.ifname} type veth peer name ${v.b.ifname} netns ${nsName(prefix, v.b.role)}`,
    ),
    prefix,
  );

  const up = [
    ...f.namespaces.map((ns) => ({ role: ns.role, ifname: 'lo' })),
    ...f.veths.flatMap((v) => [v.a, v.b]),
  ];
  const addressLines = groupByRole(
    f.addresses,
    (a) => `address add ${a.cidr} dev ${a.ifname}${a.cidr.includes(':') ? ' nodad' : ''}`,
  );
  for (const [role, lines] of groupByRole(up, (e) => `link set ${e.ifname} up`)) {
    addressLines.set(role, [...(addressLines.get(role) ?? []), ...lines]);
  }
  await eachRole(addressLines, prefix);

  await eachRole(
    groupByRole(f.routes, (r) => routeLine('add', r)),
    prefix,
  );
}
