// The FakeHelper's include/exclude mode, LAN access per app and DNS servers per egress, answering as
// the helper does (native-helper/src/daemon/mode-handlers.ts, dns-handlers.ts) on the demo's data.
import { ApiError, type App, type Interface, type Params, type Result } from '#switchyard/api/schema.ts';

export type ModeDnsMethodName =
  'mode.get' | 'mode.set' | 'mode.explain' | 'apps.setLanAccess' | 'dns.show' | 'dns.set';
const NAMES: readonly string[] = [
  'mode.get',
  'mode.set',
  'mode.explain',
  'apps.setLanAccess',
  'dns.show',
  'dns.set',
] satisfies ModeDnsMethodName[];
export function isModeDnsMethod(name: string): name is ModeDnsMethodName {
  return NAMES.includes(name);
}

interface Host {
  apps(): App[];
  interfaces(): Interface[];
  appChanged(app: App): void;
  policyChanged(summary: string): void;
}

export class FakeModeDns {
  mode: Result<'mode.get'>['mode'] = { kind: 'include' };
  /** Egress → the servers the user set. */
  dns: Record<string, string[]> = {};
  #host: Host;

  constructor(host: Host) {
    this.#host = host;
  }

  handle(method: ModeDnsMethodName, params: unknown): unknown {
    switch (method) {
      case 'mode.get':
        return this.#view();
      case 'mode.set': {
        const { mode } = params as Params<'mode.set'>;
        if (mode.kind === 'exclude') this.#egress(mode.via);
        this.mode = mode;
        this.#host.policyChanged(
          mode.kind === 'exclude' ? `everything else sent through ${mode.via}` : 'include mode',
        );
        return this.#view();
      }
      case 'mode.explain': {
        const { destination, protocol } = params as Params<'mode.explain'>;
        const [host, port] = splitHostPort(destination);
        const via = this.mode.kind === 'exclude' ? this.mode.via : null;
        return {
          destination: { host, address: host, port, protocol },
          verdict: via ? 'egress' : 'default',
          egress: via,
          sourceAddress: null,
          reason: via ? `exclude mode: via ${via}` : 'include mode: the system routing',
          steps: [],
        } satisfies Result<'mode.explain'>;
      }
      case 'apps.setLanAccess': {
        const { app: id, on } = params as Params<'apps.setLanAccess'>;
        const app = this.#host.apps().find((a) => a.id === id);
        if (!app) throw new ApiError('NOT_FOUND', `No app is called ${id}.`);
        app.lanAccess = on;
        this.#host.appChanged(app);
        return structuredClone(app);
      }
      case 'dns.show':
        return { egresses: this.#host.interfaces().map((i) => this.#dnsOf(i.name)) };
      case 'dns.set': {
        const { egress, servers } = params as Params<'dns.set'>;
        this.#egress(egress);
        if (servers.length) this.dns[egress] = [...servers];
        else delete this.dns[egress];
        return this.#dnsOf(egress);
      }
    }
  }

  #view(): Result<'mode.get'> {
    const m = this.mode;
    if (m.kind === 'include')
      return { mode: m, description: 'Include mode: only the chosen apps are routed.', viaUsable: null };
    const usable = this.#host.interfaces().find((i) => i.name === m.via)?.usable ?? false;
    return {
      mode: m,
      description: `Exclude mode: everything else goes through ${m.via}${m.killSwitch ? ', or nowhere' : ''}.`,
      viaUsable: usable,
    };
  }

  #dnsOf(egress: string): Result<'dns.set'> {
    const servers = this.dns[egress] ?? [];
    return {
      egress,
      servers,
      source: servers.length ? 'settings' : null,
      settings: servers,
      redirected: servers.length > 0,
    };
  }

  #egress(name: string): void {
    if (!this.#host.interfaces().some((i) => i.name === name))
      throw new ApiError('NOT_FOUND', `No interface or tunnel is called ${name}.`);
  }
}

function splitHostPort(s: string): [string, number] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) throw new ApiError('BAD_REQUEST', `${s} is not HOST:PORT.`);
  return [m[1]!, Number(m[2])];
}
