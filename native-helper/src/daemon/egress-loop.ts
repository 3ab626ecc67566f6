// The apply loop: interfaces + the effective policy → evaluate → compile → one reconcile transaction.
// Calls are serialised and bursts coalesce; a failed apply is retried once (an interface changing
// under the batch fails it, rolled back) and otherwise reported as a problem with the old view kept.
import type { AppId, EgressChoice, Interface } from '../api/schema.ts';
import { readInterfaces } from '../mechanism/netlink/index.ts';
import * as kernelSockets from '../mechanism/sockets/index.ts';
import type { SocketInfo } from '../mechanism/sockets/index.ts';
import { compile } from '../policy/compile.ts';
import type { FlowPlan } from '../policy/flow-plan.ts';
import { decide } from '../policy/flow-match.ts';
import { type Evaluation, evaluate } from '../policy/evaluate.ts';
import { isHeld, killSwitchTookHold } from '../policy/kill-switch.ts';
import type { PolicyApp, PolicyDocument } from '../policy/model.ts';
import { CLASS_TAG_BASE, type Layout, fnv1a32, tagOfMark } from '../layout/kernel-layout.ts';
import type { DesiredState } from '../reconcile/types.ts';
import type { EventBus } from './event-bus.ts';
import type { Problems } from './problems.ts';
import type { TunnelApp } from './tunnels.ts';

/** Pause before the one retry of a failed reconcile. */
const RETRY_MS = 300;

export type RefreshReason = 'start' | 'policy' | 'interfaces';

/** Makes the kernel equal a desired state in one transaction (reconcile/reconciler.ts). */
export interface KernelApplier {
  apply(desired: DesiredState): Promise<unknown>;
  /** Removes everything in the instance's ranges (a `reset` stop). */
  teardown(): Promise<void>;
  /** Stops what the applier keeps running (the reconciler's kernel view). */
  close?(): Promise<void>;
}

/** What the loop asks of the tunnels (daemon/tunnels.ts). */
export interface TunnelView {
  setApps(apps: TunnelApp[]): void;
  has(name: string): boolean;
  isUp(name: string): boolean;
}

/** Another process's sockets: the connected ones a new egress cannot carry are shut down. */
export interface SocketCloser {
  listInetSockets(pid: number): SocketInfo[];
  shutdownSocket(pid: number, fd: number): void;
}

export interface EgressLoopDeps {
  layout: Layout;
  reconciler: KernelApplier;
  tunnels: TunnelView;
  bus: EventBus;
  problems: Problems;
  log: (msg: string) => void;
  /** The policy with managed choices laid over the user's. */
  policy: () => PolicyDocument;
  pidsOf: (id: AppId) => number[];
  /** After every successful apply (views may have changed). */
  applied: () => void;
  /** The kernel's interfaces; mechanism/netlink unless a test stands in. */
  readInterfaces?: () => Promise<Interface[]>;
  /** mechanism/sockets unless a test stands in. */
  sockets?: SocketCloser;
  /** Pause before the one retry of a failed apply; RETRY_MS unless a test shortens it. */
  retryMs?: number;
  /** Sysctls other parts need in force (the connection history's accounting). */
  sysctls?: () => Record<string, string>;
  /** Each egress's DNS servers, for the stub redirect (dns-resolvers.ts); none: no redirect. */
  dnsResolvers?: () => Record<string, string[]>;
  /** Whether the apps' DNS replies are copied to the NFLOG group (something reads it: dns-names.ts). */
  logDnsReplies?: () => boolean;
  /** False while a WireGuard device's peer does not answer (wireguard-health.ts): not usable then. */
  wireguardAnswering?: (name: string) => boolean;
  /** The encryption rules for this apply (networks identified, trust per app); none: no rules at all. */
  flows?: (
    policy: PolicyDocument,
    interfaces: readonly Interface[],
    evaluations: ReadonlyMap<AppId, Evaluation>,
  ) => Promise<FlowPlan>;
}

export class EgressLoop {
  readonly reconciler: KernelApplier;
  private readonly sockets: SocketCloser;
  private current: Interface[] = [];
  private evaluations = new Map<AppId, Evaluation>();
  private flowPlan: FlowPlan | null = null;
  /** What each app asked for at the last apply: a move without a change here is the network's doing. */
  private asked = new Map<AppId, string>();
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly deps: EgressLoopDeps) {
    this.reconciler = deps.reconciler;
    this.sockets = deps.sockets ?? kernelSockets;
  }

  get interfaces(): Interface[] {
    return this.current;
  }

  evaluation(id: AppId): Evaluation {
    return this.evaluations.get(id) ?? { state: 'default', active: null };
  }

  /** The encryption rules in force, as last applied. */
  get flows(): FlowPlan | null {
    return this.flowPlan;
  }

  /** The apps each interface carries now. */
  appsOn(name: string): AppId[] {
    return [...this.evaluations]
      .filter(([, e]) => e.active === name)
      .map(([id]) => id)
      .sort();
  }

  /** Re-read interfaces and make the kernel match the policy. */
  /** The reason is for logs only: what happened is read from the state, so coalesced calls lose nothing. */
  refresh(reason: RefreshReason): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.once(reason);
          this.deps.problems.clear('reconcile');
        } catch (first) {
          await new Promise((r) => setTimeout(r, this.deps.retryMs ?? RETRY_MS));
          try {
            await this.once(reason);
            this.deps.problems.clear('reconcile');
            this.deps.log(`applied on the second attempt (first: ${(first as Error).message})`);
          } catch (err) {
            this.deps.problems.set('reconcile', `could not apply the policy: ${(err as Error).message}`);
          }
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Waits for an apply under way and refuses new ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => {});
    await this.deps.reconciler.close?.();
  }

  private async once(_reason: RefreshReason): Promise<void> {
    if (this.stopped) return;
    const current = await this.readInterfaces();
    const policy = this.deps.policy();
    const previous = this.evaluations;
    const next = new Map<AppId, Evaluation>();
    for (const a of policy.apps) next.set(a.id, evaluate(a.choice, current, policy));
    const plan = this.deps.flows ? await this.deps.flows(policy, current, next) : null;
    const ids = new Map(policy.apps.map((a) => [a.tag, policyIdOf(a)]));
    this.deps.tunnels.setApps([
      ...policy.apps.map((a) => ({ tag: a.tag, policyId: ids.get(a.tag)! })),
      ...(plan?.classes ?? []).map((c) => ({
        tag: c.tag,
        policyId: ids.get(c.appTag) ?? 0,
        metaTag: c.appTag,
        tunnel: c.tunnel,
        ...(c.keyGroup ? { keyGroup: c.keyGroup } : {}),
      })),
    ]);
    const dnsResolvers = this.deps.dnsResolvers?.();
    const desired = compile(policy, current, this.deps.layout, {
      ...(plan ? { flows: plan } : {}),
      ...(dnsResolvers ? { dnsResolvers } : {}),
      logDnsReplies: this.deps.logDnsReplies?.() ?? false,
    });
    Object.assign(desired.sysctls, this.deps.sysctls?.());
    await this.reconciler.apply(desired);
    // Only now: a failed apply leaves the old view, so a retry still reports what changed.
    this.current = current;
    this.evaluations = next;
    const previousPlan = this.flowPlan;
    this.flowPlan = plan;
    if (plan && JSON.stringify(plan.lists) !== JSON.stringify(previousPlan?.lists ?? []))
      for (const a of policy.apps) this.reclassify(a.id, plan);
    for (const a of policy.apps) {
      const was = previous.get(a.id);
      const now = next.get(a.id)!;
      if (was && was.state === now.state && was.active === now.active) continue;
      if (this.asked.get(a.id) === askedOf(a, policy)) this.announce(a, was, now);
      if (was && was.active !== now.active) this.moveConnections(a.id, now.active);
    }
    this.asked = new Map(policy.apps.map((a) => [a.id, askedOf(a, policy)]));
    this.deps.applied();
  }

  /**
   * The kernel's view, with our tunnels marked as such: usable once their handshake is done; a
   * WireGuard device whose peer does not answer is not usable either.
   */
  private async readInterfaces(): Promise<Interface[]> {
    const { tunnels, wireguardAnswering } = this.deps;
    return (await (this.deps.readInterfaces ?? readInterfaces)()).map((i) => {
      if (tunnels.has(i.name)) return { ...i, kind: 'tunnel' as const, usable: i.up && tunnels.isUp(i.name) };
      if (i.kind === 'wireguard' && i.usable && wireguardAnswering?.(i.name) === false)
        return { ...i, usable: false };
      return i;
    });
  }

  /** What happened to an app's traffic when an interface changed, in the words of the events. */
  private announce(a: PolicyApp, was: Evaluation | undefined, now: Evaluation): void {
    const { bus } = this.deps;
    const held = killSwitchTookHold(a, was, now);
    if (held) {
      bus.emit('egress.killed', held);
    } else if (
      was &&
      was.active !== now.active &&
      now.active &&
      (now.state === 'routed' || now.state === 'failed-over')
    ) {
      if (
        now.state === 'routed' &&
        (was.state === 'failed-over' || isHeld(was) || was.state === 'fallback-default')
      )
        bus.emit('egress.restored', { app: a.id, egress: now.active });
      else bus.emit('egress.failover', { app: a.id, from: was.active, to: now.active });
    } else if (was && was.active && !now.active && now.state === 'fallback-default') {
      bus.emit('egress.failover', { app: a.id, from: was.active, to: null });
    }
  }

  /**
   * Connections a rule change puts on another path (clear ↔ tunnel) or blocks: their source address or
   * their very existence is wrong now, so they are shut down and the app reconnects by the new rules.
   * The nft backstop already keeps them from leaving the wrong way meanwhile.
   */
  private reclassify(id: AppId, plan: FlowPlan): void {
    for (const pid of this.deps.pidsOf(id)) {
      try {
        for (const s of this.sockets.listInetSockets(pid)) {
          if (!s.remoteAddress || !s.remotePort || isLoopbackOrAny(s.remoteAddress)) continue;
          const list = plan.lists.find((l) => l.marks.includes(s.mark >>> 0));
          // A flow class no rule gives any more leaves nowhere (nft): let the app reconnect.
          if (!list && isClassMark(this.deps.layout, s.mark)) this.sockets.shutdownSocket(pid, s.fd);
          if (!list) continue;
          const d = decide(list, { proto: s.protocol, address: s.remoteAddress, port: s.remotePort });
          if (d.action === 'block' || d.mark !== s.mark >>> 0) this.sockets.shutdownSocket(pid, s.fd);
        }
      } catch {
        // the process exited meanwhile
      }
    }
  }

  /**
   * Existing connections follow a new egress. The mark stays (it is the app's tag) and the rules now
   * point elsewhere, so unconnected sockets move by themselves; a connected socket keeps the old
   * egress's source address, which the new path cannot carry, so it is shut down and the app reconnects.
   */
  private moveConnections(id: AppId, active: string | null): void {
    const keep = new Set(
      (active
        ? (this.current.find((i) => i.name === active)?.addresses ?? [])
        : this.current.flatMap((i) => i.addresses)
      ).map((a) => a.address),
    );
    for (const pid of this.deps.pidsOf(id)) {
      try {
        for (const s of this.sockets.listInetSockets(pid)) {
          const connected = s.remoteAddress && s.remotePort;
          const local = s.localAddress ?? '';
          if (!connected || isLoopbackOrAny(local) || keep.has(local)) continue;
          this.sockets.shutdownSocket(pid, s.fd);
        }
      } catch {
        // The process exited meanwhile.
      }
    }
  }
}

/**
 * The policy id a tunnel stamps on an app's packets: FNV-1a of the app and its choice, so the gateway
 * can tell which policy sent a flow, and sees a new id whenever that policy changes.
 */
export function policyIdOf(app: { id: string; choice: EgressChoice }): number {
  return fnv1a32(`${app.id}|${JSON.stringify(app.choice)}`);
}

function isLoopbackOrAny(address: string): boolean {
  return (
    address === '' ||
    address === '0.0.0.0' ||
    address === '::' ||
    address.startsWith('127.') ||
    address === '::1'
  );
}

function isClassMark(layout: Layout, mark: number): boolean {
  const tag = tagOfMark(layout, mark >>> 0);
  return tag !== null && tag > CLASS_TAG_BASE;
}

/** An app's choice as the policy in force has it (pause and override included). */
function askedOf(a: PolicyApp, policy: PolicyDocument): string {
  return JSON.stringify([a.choice, policy.paused, policy.override]);
}
