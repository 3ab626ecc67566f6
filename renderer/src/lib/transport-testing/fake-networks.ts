// The FakeHelper's networks and their trust, answering as the helper does
// (native-helper/src/daemon/networks.ts): each trust change is a networks.changed and, since rules
// follow trust, a rules.changed.
import { ApiError, type EventName, type Network, type Params, type Trust } from '#switchyard/api/schema.ts';
import { type NetworkRecord, demoNetworks } from './demo-rules.ts';

export type NetworkMethodName = 'networks.list' | 'networks.setTrust' | 'networks.setUnknownTrust';
export function isNetworkMethod(name: string): name is NetworkMethodName {
  return name === 'networks.list' || name === 'networks.setTrust' || name === 'networks.setUnknownTrust';
}

export class FakeNetworks {
  /** As the policy remembers them. */
  records: NetworkRecord[];
  /** Uplink → the network it is on now. */
  attached: Record<string, string>;
  unknownTrust: Trust = 'untrusted';
  #emit: (event: EventName, data: unknown) => void;
  #changed: (summary: string) => void;

  constructor(opts: {
    now: number;
    emit: (event: EventName, data: unknown) => void;
    /** After a trust change: the rules follow it (rules.changed) and the change is told. */
    changed: (summary: string) => void;
  }) {
    ({ networks: this.records, attached: this.attached } = demoNetworks(opts.now));
    this.#emit = opts.emit;
    this.#changed = opts.changed;
  }

  list(): Network[] {
    return this.records.map((n) => ({
      ...structuredClone(n),
      effectiveTrust: n.trust ?? this.unknownTrust,
      interfaces: Object.keys(this.attached).filter((i) => this.attached[i] === n.id),
    }));
  }

  /** An uplink joins another network (roaming), as the helper tells it. */
  attach(iface: string, id: string): void {
    this.attached = { ...this.attached, [iface]: id };
    this.#emit('networks.changed', { networks: this.list(), unknownTrust: this.unknownTrust });
  }

  handle(method: NetworkMethodName, params: unknown): unknown {
    switch (method) {
      case 'networks.list':
        return { networks: this.list(), unknownTrust: this.unknownTrust };
      case 'networks.setTrust': {
        const { id, trust } = params as Params<'networks.setTrust'>;
        const n = this.records.find((x) => x.id === id);
        if (!n)
          throw new ApiError(
            'NOT_FOUND',
            `no network "${id}"; \`switchyard networks\` lists the networks seen so far.`,
          );
        n.trust = trust;
        const view = this.list().find((x) => x.id === id)!;
        this.#emit('networks.changed', { networks: this.list(), unknownTrust: this.unknownTrust });
        this.#changed(`${n.name} marked ${trust ?? `back to the default (${view.effectiveTrust})`}`);
        return view;
      }
      case 'networks.setUnknownTrust': {
        this.unknownTrust = (params as Params<'networks.setUnknownTrust'>).trust;
        this.#emit('networks.changed', { networks: this.list(), unknownTrust: this.unknownTrust });
        this.#changed(`networks nobody marked are now ${this.unknownTrust}`);
        return { ok: true };
      }
    }
  }
}
