// The FakeHelper's `explain`: a made-up but consistent answer from the app's computed egress, with
// the steps and one-sentence reason the real helper gives (native-helper/src/policy/evaluate.ts).
import { ApiError, type App, type Explanation, type Interface, type Params } from '#switchyard/api/schema.ts';

/** Which way `p.destination` would go for `app`; BAD_REQUEST when it is not host:port. */
export function explainFor(app: App, interfaces: readonly Interface[], p: Params<'explain'>): Explanation {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(p.destination.trim());
  if (!m)
    throw new ApiError('BAD_REQUEST', 'Write the destination as host:port, for example example.org:443.');
  const host = (m[1] ?? m[2]) as string;
  const port = Number(m[3]);
  const literal = /^[\d.]+$/.test(host) || host.includes(':');
  let h = 0;
  for (const ch of host) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const address = literal ? host : `93.184.${h % 256}.${(h >>> 8) % 256}`;
  const destination = { host, address, port, protocol: p.protocol };
  const steps = [
    `${app.name} has socket tag ${app.tag}; its sockets carry mark 0x${app.tag.toString(16)}.`,
    `${host} resolves to ${address}.`,
  ];
  const src = (name: string | null) =>
    interfaces
      .find((i) => i.name === name)
      ?.addresses.find((a) => a.family === (address.includes(':') ? 6 : 4))?.address ?? null;
  if (app.egress.state === 'blocked' || app.egress.state === 'killed') {
    steps.push(
      app.egress.state === 'blocked'
        ? 'The app is set to Block.'
        : 'No egress in its list is usable and the kill switch is on.',
    );
    steps.push('The packet is dropped before it leaves the machine.');
    return {
      app: app.id,
      destination,
      verdict: 'block',
      egress: null,
      sourceAddress: null,
      steps,
      reason:
        app.egress.state === 'blocked'
          ? `${app.name} is blocked, so nothing it sends to ${host} leaves this computer.`
          : `${app.name}'s kill switch is holding its traffic because none of its egresses is usable.`,
    };
  }
  if (app.egress.active) {
    const iface = app.egress.active;
    if (app.choice.mode === 'ordered')
      steps.push(`Its list is ${app.choice.egresses.join(' → ')}; the first usable one is ${iface}.`);
    steps.push(`Routing table for ${iface} sends ${address} via its gateway.`);
    return {
      app: app.id,
      destination,
      verdict: 'egress',
      egress: iface,
      sourceAddress: src(iface),
      steps,
      reason: `${app.name} reaches ${host}:${port} through ${iface} because it is the first usable egress in its list.`,
    };
  }
  steps.push('The app follows the system routing table; the default route is via enp3s0.');
  return {
    app: app.id,
    destination,
    verdict: 'default',
    egress: 'enp3s0',
    sourceAddress: src('enp3s0'),
    steps,
    reason: `${app.name} uses the system's own routing, which sends ${host} through enp3s0.`,
  };
}
