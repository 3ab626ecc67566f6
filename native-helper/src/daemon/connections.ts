// What each app talks to: conntrack's events for this instance's marks (the ct mark carries the app's
// tag, policy/compile.ts) become a bounded history per app (connections-store.ts). Each connection gets
// its app, the interface it left through (the one holding its source address), and what decided its
// path (an encryption rule as explain finds it, else the egress choice or the kill switch). Bytes come
// from the kernel's accounting: on DESTROY, or from a dump while the entry lives.
import type { AppId, Connection, ConnectionList, DecidedBy, Interface } from '../api/schema.ts';
import {
  type ConntrackWatch,
  type MarkFilter,
  dumpConntrack,
  watchConntrack,
} from '../mechanism/conntrack/events.ts';
import type { ConntrackRecord } from '../mechanism/conntrack/parse.ts';
import { MAX_APP_TAG, SLOT_MASK, type Layout, tagOfMark } from '../layout/kernel-layout.ts';
import type { Evaluation } from '../policy/evaluate.ts';
import type { AppRules } from '../policy/explain-rules.ts';
import type { FlowClass } from '../policy/flow-plan.ts';
import { decide } from '../policy/flow-match.ts';
import { isHeld } from '../policy/kill-switch.ts';
import { ConnectionStore } from './connections-store.ts';
import type { EventBus } from './event-bus.ts';

/** Accounting is off by default: without it the kernel counts no bytes per connection. */
export const ACCT_SYSCTL = 'net/netfilter/nf_conntrack_acct';
/** At most one connections.added a second. */
const ANNOUNCE_MS = 1000;
/** A list within this long of the last dump reuses its counts. */
const DUMP_FRESH_MS = 1000;
const CLOSING = new Set(['FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE']);
/** A connection that began without a name is looked at again until it is this old (the reply may come last). */
const NAME_LATE_MS = 10_000;
const MAX_UNNAMED = 2000;

export interface ConnectionsDeps {
  layout: Layout;
  bus: EventBus;
  apps: () => readonly { id: AppId; tag: number }[];
  /** The flow classes in force: a class mark counts as its app. */
  classes: () => readonly FlowClass[];
  interfaces: () => readonly Interface[];
  evaluation: (app: AppId) => Evaluation;
  /** The app's encryption rules as explain sees them; null when none applies. */
  rules: (app: AppId) => AppRules | null;
  /** The name the app looked up for an address before `at` (ms), when the helper saw the lookup. */
  nameOf?: (app: AppId, address: string, at: number) => string | null;
  problem: (message: string | null) => void;
  log: (msg: string) => void;
  store?: ConnectionStore;
}

export class Connections {
  readonly store: ConnectionStore;
  private watch: ConntrackWatch | null = null;
  private why: string | null = 'not started';
  private pending = new Map<AppId, number>();
  private announceTimer: NodeJS.Timeout | null = null;
  private lastDump = 0;
  private dumping: Promise<void> | null = null;
  /** Connections that began without a name, with when: the reply's copy may arrive after conntrack's NEW. */
  private unnamed = new Map<string, number>();

  constructor(private readonly deps: ConnectionsDeps) {
    this.store = deps.store ?? new ConnectionStore();
  }

  private get filter(): MarkFilter {
    return { value: this.deps.layout.markBase, mask: SLOT_MASK };
  }

  /** Starts watching; a machine without conntrack gets a problem, not a failed start. */
  async start(): Promise<void> {
    try {
      this.watch = await watchConntrack(this.filter);
      this.why = null;
      this.deps.problem(null);
      this.watch.on('record', (r) => this.record(r));
      this.watch.on('error', (err) => this.deps.log(`connection history: ${err.message}`));
    } catch (err) {
      this.why = `the connection history needs conntrack (Debian package conntrack): ${(err as Error).message}`;
      this.deps.problem(this.why);
    }
  }

  async stop(): Promise<void> {
    if (this.announceTimer) clearTimeout(this.announceTimer);
    await this.watch?.stop();
    this.watch = null;
  }

  /** The sysctls the history needs in force (the reconciler writes them and restores them on teardown). */
  sysctls(): Record<string, string> {
    return this.watch ? { [ACCT_SYSCTL]: '1' } : {};
  }

  forgetApp(app: AppId): void {
    this.store.forgetApp(app);
  }

  async list(app: AppId | undefined, limit: number): Promise<ConnectionList> {
    await this.refreshCounts();
    this.nameLate();
    return {
      connections: this.store.list(app, limit).map((c) => ({ ...c, decidedBy: { ...c.decidedBy } })),
      tracking: this.watch !== null,
      problem: this.why,
    };
  }

  /** One event: a new flow, a TCP state change, or the kernel forgetting it (with its final counts). */
  record(r: ConntrackRecord): void {
    const key = String(r.id);
    const at = new Date(r.at ?? Date.now()).toISOString();
    if (r.type === 'NEW') {
      const c = this.connectionOf(r, key, at);
      if (!c) return;
      this.store.add(c);
      if (!c.name && this.deps.nameOf) {
        this.unnamed.set(key, Date.parse(at));
        if (this.unnamed.size > MAX_UNNAMED) this.unnamed.delete(this.unnamed.keys().next().value!);
      }
      this.pending.set(c.app, (this.pending.get(c.app) ?? 0) + 1);
      this.announceSoon();
      return;
    }
    if (r.type === 'UPDATE') {
      const c = this.store.get(key);
      if (c && c.state === 'open' && r.state && CLOSING.has(r.state))
        this.store.update(key, { state: 'closed', endedAt: at });
      return;
    }
    if (r.type === 'DESTROY') {
      const c = this.store.get(key);
      if (!c) return; // dropped from the history already
      this.store.update(key, { state: 'gone', endedAt: c.endedAt ?? at, ...countsOf(r) });
    }
  }

  private connectionOf(r: ConntrackRecord, key: string, at: string): Connection | null {
    const app = this.appOf(r.mark);
    if (!app) return null;
    const proto = r.protocol === 'tcp' ? 6 : r.protocol === 'udp' ? 17 : 0;
    return {
      key,
      app,
      family: r.family,
      protocol: r.protocol,
      destination: r.orig.dst,
      name: this.deps.nameOf?.(app, r.orig.dst, Date.parse(at)) ?? null,
      port: r.orig.dport,
      source: r.orig.src,
      sourcePort: r.orig.sport,
      // A redirected lookup to the stub is NATed: its reply tuple holds the egress's address. One that
      // stayed with the stub (or the forwarder) never left this machine.
      egress:
        this.egressOf(r.orig.src, r.family) ??
        this.egressOf(r.reply.dst, r.family) ??
        (isLoopback(r.orig.dst) && isLoopback(r.reply.src) ? 'lo' : this.deps.evaluation(app).active),
      txBytes: null,
      rxBytes: null,
      txPackets: null,
      rxPackets: null,
      startedAt: at,
      endedAt: null,
      state: 'open',
      decidedBy: this.decidedBy(app, { proto, address: r.orig.dst, port: r.orig.dport ?? 0 }),
    };
  }

  /** Names for the connections that began without one, when the lookup's reply has come meanwhile. */
  private nameLate(): void {
    const now = Date.now();
    for (const [key, at] of this.unnamed) {
      const c = this.store.get(key);
      const name = c ? this.deps.nameOf?.(c.app, c.destination, at) : null;
      if (name) this.store.update(key, { name });
      if (name || !c || now - at > NAME_LATE_MS) this.unnamed.delete(key);
    }
  }

  /** The app of a mark: its own, or one of its flow classes'. */
  appOf(mark: number): AppId | null {
    let tag = tagOfMark(this.deps.layout, mark);
    if (tag === null) return null;
    if (tag > MAX_APP_TAG) tag = this.deps.classes().find((c) => c.tag === tag)?.appTag ?? null;
    return this.deps.apps().find((a) => a.tag === tag)?.id ?? null;
  }

  /** The interface holding the source address: where the route lookup sent the flow. */
  private egressOf(source: string, family: 4 | 6): string | null {
    const hit = this.deps
      .interfaces()
      .find(
        (i) => i.kind !== 'loopback' && i.addresses.some((a) => a.family === family && a.address === source),
      );
    return hit?.name ?? null;
  }

  private decidedBy(app: AppId, flow: { proto: number; address: string; port: number }): DecidedBy {
    const rules = this.deps.rules(app);
    if (rules && flow.proto) {
      const d = decide(rules.list, flow);
      if (d.entry !== null) {
        const r = rules.rules[d.entry]!;
        const name =
          rules.names[r.id] ??
          (r.layer === 'default' ? `the default for ${r.id.replace('default-', '')} networks` : r.id);
        return { kind: 'rule', ruleId: r.id, name };
      }
    }
    const ev = this.deps.evaluation(app);
    if (isHeld(ev)) return { kind: 'kill-switch', ruleId: null, name: 'kill switch' };
    if (ev.state === 'default') return { kind: 'system', ruleId: null, name: 'system routing' };
    return { kind: 'egress-choice', ruleId: null, name: 'egress choice' };
  }

  private announceSoon(): void {
    if (this.announceTimer) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = null;
      const apps = [...this.pending.keys()].sort();
      const count = [...this.pending.values()].reduce((a, b) => a + b, 0);
      this.pending.clear();
      if (apps.length) this.deps.bus.emit('connections.added', { apps, count });
    }, ANNOUNCE_MS);
  }

  /** Counts of the entries the kernel still holds: it reports them only on DESTROY otherwise. */
  private refreshCounts(): Promise<void> {
    if (!this.watch || Date.now() - this.lastDump < DUMP_FRESH_MS) return Promise.resolve();
    if (!this.store.live().length) return Promise.resolve();
    this.dumping ??= (async () => {
      try {
        const now = new Date().toISOString();
        for (const family of [4, 6] as const)
          for (const r of await dumpConntrack(this.filter, family)) {
            const key = String(r.id);
            const c = this.store.get(key);
            if (!c || c.state === 'gone') continue;
            const closing = c.state === 'open' && r.state !== null && CLOSING.has(r.state);
            this.store.update(key, {
              ...countsOf(r),
              ...(closing ? { state: 'closed' as const, endedAt: now } : {}),
            });
          }
        this.lastDump = Date.now();
      } catch (err) {
        this.deps.log(`connection history: reading the counts failed: ${(err as Error).message}`);
      } finally {
        this.dumping = null;
      }
    })();
    return this.dumping;
  }
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

function countsOf(r: ConntrackRecord): Partial<Connection> {
  if (r.orig.bytes === null || r.reply.bytes === null) return {};
  return {
    txBytes: r.orig.bytes,
    rxBytes: r.reply.bytes,
    txPackets: r.orig.packets,
    rxPackets: r.reply.packets,
  };
}
