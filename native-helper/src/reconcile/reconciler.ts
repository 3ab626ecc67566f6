// Makes the kernel match a DesiredState: diff, one nft transaction, one ip batch per family, verify,
// and roll back to the state found before when anything fails.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../storage/atomic-file.ts';
import { applyBatch } from '../mechanism/netlink/batch.ts';
import type { NetnsOption } from '../mechanism/netlink/ns.ts';
import { applyTable, countersFromText, deleteTable, restoreTable } from '../mechanism/nft/table.ts';
import type { KernelScope } from '../layout/kernel-layout.ts';
import type { ClassifierImage, ClassifierList } from '../mechanism/bpf/classifier.ts';
import { readActual, type ActualState } from './actual.ts';
import { batchLines, diff, type Operation } from './diff.ts';
import { KernelView } from './kernel-view.ts';
import { writeSysctls } from './sysctl.ts';
import { emptyDesired, routeKey, ruleKey, type DesiredState } from './types.ts';

export interface ReconcilerOptions extends NetnsOption {
  /** What this reconciler owns: a helper instance's Layout, a gateway's, or links only. */
  layout: KernelScope;
  /**
   * Where original sysctl values are kept so teardown can restore them even after the helper was
   * killed. Without it they are kept in memory only.
   */
  stateFile?: string;
  /** The flow classifier, when desired states carry classifier lists. */
  classifier?: ClassifierPort;
  /**
   * Keep a view of our rules and routes, current by `ip monitor` (kernel-view.ts), so an apply reads
   * and verifies only what it changes. Runs two monitor processes until close().
   */
  keepView?: boolean;
}

/** What the reconciler needs of the classifier (mechanism/bpf/classifier.ts). */
export interface ClassifierPort {
  replace(lists: readonly ClassifierList[]): void;
  read(): ClassifierImage;
}

export interface ApplyResult {
  operations: Operation[];
  /** Milliseconds per phase: reading the kernel, changing it, reading it again to verify. */
  readMs: number;
  applyMs: number;
  verifyMs: number;
  /** Whether rules and routes came from the kept view instead of a full read. */
  fromView?: boolean;
}

const MAIN_TABLE = 254;

export class ReconcileError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
    readonly rolledBack: boolean,
  ) {
    super(message);
    this.name = 'ReconcileError';
  }
}

export class Reconciler {
  private originals: Record<string, string> | null = null;
  /** The classifier lists last applied here, to put back when a later apply fails after its flip. */
  private classifierLists: readonly ClassifierList[] | null = null;
  private readonly netns: NetnsOption;
  private view: KernelView | null = null;
  private viewStarting: Promise<KernelView | null> | null = null;
  private closed = false;

  constructor(private readonly opts: ReconcilerOptions) {
    this.netns = opts.netns ? { netns: opts.netns } : {};
  }

  get layout(): KernelScope {
    return this.opts.layout;
  }

  /** Re-read on every call when a state file is set: another helper process may have written it. */
  private async loadOriginals(): Promise<Record<string, string>> {
    if (this.originals && !this.opts.stateFile) return this.originals;
    this.originals = {};
    if (this.opts.stateFile) {
      try {
        const doc = JSON.parse(await readFile(this.opts.stateFile, 'utf8')) as {
          sysctlOriginals?: Record<string, string>;
        };
        this.originals = doc.sysctlOriginals ?? {};
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          throw new Error(
            `cannot read reconciler state ${this.opts.stateFile}: ${(err as Error).message}; delete it to start over.`,
            { cause: err },
          );
      }
    }
    return this.originals;
  }

  private async saveOriginals(): Promise<void> {
    if (!this.opts.stateFile || !this.originals) return;
    await writeFileAtomic(
      this.opts.stateFile,
      JSON.stringify({ sysctlOriginals: this.originals }, null, 2),
      0o600,
    );
  }

  /** The kept view, started on first use; null without keepView or when its monitors cannot start. */
  private keptView(): Promise<KernelView | null> {
    if (!this.opts.keepView || this.closed) return Promise.resolve(null);
    this.viewStarting ??= (async () => {
      const view = new KernelView(this.opts.layout, this.netns);
      try {
        await view.start();
        this.view = view;
        return view;
      } catch {
        await view.stop().catch(() => undefined);
        return null; // full reads, as without keepView
      }
    })();
    return this.viewStarting;
  }

  /** Stops the kept view's monitors; later applies and teardowns read the kernel in full. */
  async close(): Promise<void> {
    this.closed = true;
    await this.serialize(async () => {
      await this.viewStarting;
      await this.view?.stop();
      this.view = null;
      this.viewStarting = null;
    });
  }

  /** The helper's rules, routes and nft table, plus the sysctls it wants or changed before. */
  async readActual(
    desired?: DesiredState,
    parts: { routing?: boolean; nft?: boolean } = {},
  ): Promise<ActualState> {
    const originals = await this.loadOriginals();
    const paths = [...new Set([...Object.keys(desired?.sysctls ?? {}), ...Object.keys(originals)])];
    const linkNames = (desired?.links ?? []).map((l) => l.name);
    const actual = await readActual(this.opts.layout, {
      ...this.netns,
      sysctlPaths: paths,
      linkNames,
      ...parts,
    });
    return this.opts.classifier ? { ...actual, classifier: this.opts.classifier.read() } : actual;
  }

  /** Operations apply() would run now. */
  async plan(desired: DesiredState): Promise<Operation[]> {
    return diff(await this.readActual(desired), desired, this.nftName);
  }

  private get nftName(): string | undefined {
    return this.opts.layout.nftTable ?? undefined;
  }

  /** Applies one desired state at a time: calls queue behind each other. */
  apply(desired: DesiredState): Promise<ApplyResult> {
    return this.serialize(() => this.applyNow(desired));
  }

  private queue: Promise<unknown> = Promise.resolve();
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async applyNow(desired: DesiredState): Promise<ApplyResult> {
    this.checkInRange(desired);
    const tRead = performance.now();
    const view = await this.keptView();
    const since = view?.begin() ?? 0;
    const kept = view?.current() ?? null;
    // With a kept view only what it does not cover is read: nft, sysctls, links, classifier.
    const before = kept
      ? { ...(await this.readActual(desired, { routing: false })), ...kept }
      : await this.readActual(desired);
    const fromView = kept !== null;
    const ops = diff(before, desired, this.nftName);
    const originals = await this.loadOriginals();
    const restores = Object.fromEntries(Object.entries(originals).filter(([p]) => !(p in desired.sysctls)));
    const readMs = performance.now() - tRead;
    if (ops.length === 0 && Object.keys(restores).length === 0) {
      view?.settle(before, since);
      return { operations: [], readMs, applyMs: 0, verifyMs: 0, fromView };
    }

    const t0 = performance.now();
    try {
      // Remember what a sysctl was before we first changed it.
      let recorded = false;
      for (const o of ops) {
        if (o.op !== 'sysctl' || o.path in originals) continue;
        const was = before.sysctls[o.path];
        if (was !== null && was !== undefined) {
          originals[o.path] = was;
          recorded = true;
        }
      }
      if (recorded) await this.saveOriginals();
      view?.expect(ops);
      await this.execute(ops, before);
      const applyMs = performance.now() - t0;
      if (Object.keys(restores).length) {
        await writeSysctls(restores, { ...this.netns, ignoreMissing: true });
        for (const p of Object.keys(restores)) delete originals[p];
        await this.saveOriginals();
      }
      const tVerify = performance.now();
      await this.verify(desired, ops, before, view, since);
      if (desired.classifier) this.classifierLists = desired.classifier;
      return { operations: ops, readMs, applyMs, verifyMs: performance.now() - tVerify, fromView };
    } catch (err) {
      view?.forget();
      view?.drop('an apply failed');
      try {
        await this.restore(before);
        if (this.classifierLists && ops.some((o) => o.op === 'classifier-replace'))
          this.opts.classifier?.replace(this.classifierLists);
      } catch (rollbackErr) {
        throw new ReconcileError(
          `Applying the routing policy failed (${(err as Error).message}) and rolling back failed too (${(rollbackErr as Error).message}); run teardown and apply again.`,
          err,
          false,
        );
      }
      throw new ReconcileError(
        `Applying the routing policy failed and was rolled back: ${(err as Error).message}`,
        err,
        true,
      );
    }
  }

  /**
   * Reads back what the apply changed. With a kept view the rules and routes are verified by the
   * kernel's own events (each batch line's event arrived with the content asked for) and the nft
   * table is read only when it was replaced; otherwise everything is read again.
   */
  private async verify(
    desired: DesiredState,
    ops: readonly Operation[],
    before: ActualState,
    view: KernelView | null,
    since: number,
  ): Promise<void> {
    const confirmed = view ? await view.confirm() : false;
    const touchedNft = ops.some((o) => o.op === 'nft-replace' || o.op === 'nft-delete');
    let after: ActualState;
    if (confirmed) {
      // nft -f is one transaction that either committed exactly what was sent or failed: not read
      // back. A later foreign change to the table is found by the next apply's read, as ever.
      // Sysctls, links and classifier lists are read back only when this apply changed them.
      const other = new Set(['link-set', 'addr-add', 'addr-del', 'classifier-replace']);
      const read = ops.some((o) => other.has(o.op))
        ? await this.readActual(desired, { routing: false, nft: false })
        : before;
      const rules = [...new Map(desired.rules.map((r) => [ruleKey(r), r])).values()];
      const routes = [...new Map(desired.routes.map((r) => [routeKey(r), r])).values()];
      const sent = ops.find((o) => o.op === 'nft-replace');
      const nft = sent ? { text: '', hash: sent.table.comment?.replace(/^sy:/, '') ?? null } : null;
      // Sysctls were read back as they were written (execute).
      const written = Object.fromEntries(ops.flatMap((o) => (o.op === 'sysctl' ? [[o.path, o.value]] : [])));
      const sysctls = { ...read.sysctls, ...written };
      after = { ...read, sysctls, rules, routes, nft: touchedNft ? nft : before.nft };
    } else {
      const sinceRead = view?.begin() ?? 0;
      after = await this.readActual(desired);
      since = sinceRead;
    }
    const left = diff(after, desired, this.nftName);
    if (left.length)
      throw new Error(
        `the kernel does not match after applying (${left.length} difference(s), first: ${describe(left[0]!)})`,
      );
    view?.settle(after, since);
  }

  private checkInRange(desired: DesiredState): void {
    if (desired.classifier && !this.opts.classifier)
      throw new Error('the desired state has classifier lists, but this reconciler has no classifier.');
    const { priorities, tables } = this.opts.layout;
    for (const r of desired.rules) {
      if (r.priority < priorities.first || r.priority > priorities.last)
        throw new Error(
          `rule priority ${r.priority} is outside this instance's range ${priorities.first}..${priorities.last}.`,
        );
      // Looking up main changes nothing the main table would not do anyway.
      if (
        r.table !== undefined &&
        r.table !== MAIN_TABLE &&
        (r.table < tables.first || r.table > tables.last)
      )
        throw new Error(`rule table ${r.table} is outside this instance's tables.`);
    }
    for (const r of desired.routes)
      if (r.table < tables.first || r.table > tables.last)
        throw new Error(`route table ${r.table} is outside this instance's tables.`);
    if (desired.nft && desired.nft.name !== this.opts.layout.nftTable)
      throw new Error(
        `nft table ${desired.nft.name} is not this instance's table ${this.opts.layout.nftTable ?? '(none)'}.`,
      );
  }

  private async execute(ops: readonly Operation[], before: ActualState): Promise<void> {
    const sysctls = Object.fromEntries(ops.flatMap((o) => (o.op === 'sysctl' ? [[o.path, o.value]] : [])));
    // Read back in the same process: the sysctls are verified here, not by a second read.
    const sysctlStep = () => writeSysctls(sysctls, { ...this.netns, verify: true });
    const nftBefore = before.nft;
    const nftStep = async () => {
      for (const o of ops) {
        if (o.op === 'nft-replace') {
          // Replacing the table would reset the per-app counters; carry their values over.
          // Their values come from the read just before (no second dump of thousands of counters).
          const now = nftBefore ? countersFromText(nftBefore.text) : new Map();
          const counters = o.table.counters.map((c) => ({ ...c, ...now.get(c.name) }));
          await applyTable({ ...o.table, counters }, this.netns);
        }
        if (o.op === 'nft-delete') await deleteTable(o.name, this.netns);
      }
    };
    // The families are independent: their batches run side by side, each in its own order.
    const batches = [() => this.batch(4, ops), () => this.batch(6, ops)];
    // The nft-first order protects a policy in force. From nothing in force (no table, rules or
    // routes of ours) there is none: the table is written alongside the batches.
    const fromNothing = !nftBefore && before.rules.length === 0 && before.routes.length === 0;
    // Sysctls still go before the batches (routes may depend on them).
    const routing = async () => {
      await sysctlStep();
      await settleAll(batches);
    };
    if (fromNothing) await settleAll([nftStep, routing]);
    else {
      await sysctlStep();
      await nftStep();
      await settleAll(batches);
    }
    // One flip of a generation: connect() sees the old lists or the new ones, never a mix.
    for (const o of ops) if (o.op === 'classifier-replace') this.opts.classifier!.replace(o.lists);
  }

  /** One family's batch. Deletes the kernel had done already are done; the kept view hears of them. */
  private async batch(family: 4 | 6, ops: readonly Operation[]): Promise<void> {
    const gone = new Set(await applyBatch(family, batchLines(ops, family), this.netns));
    if (gone.size) this.view?.alreadyGone(ops.filter((o) => gone.has(batchLines([o], family)[0] ?? '')));
  }

  /** Puts rules, routes, nft table, sysctls and the links asked for back as they were in `state`. */
  private async restore(state: ActualState): Promise<void> {
    const links = Object.entries(state.links ?? {}).flatMap(([name, l]) => (l ? [{ name, ...l }] : []));
    const target: DesiredState = { rules: state.rules, routes: state.routes, nft: null, sysctls: {}, links };
    const now = await this.readActual(target);
    const ops = diff({ ...now, nft: null }, target).filter((o) => o.op !== 'sysctl');
    const sysctls: Record<string, string> = {};
    for (const [p, v] of Object.entries(state.sysctls))
      if (v !== null && now.sysctls[p] !== v) sysctls[p] = v;
    await writeSysctls(sysctls, { ...this.netns, ignoreMissing: true });
    const nftName = this.nftName;
    if (nftName && state.nft) await restoreTable(nftName, state.nft.text, this.netns);
    else if (nftName) await deleteTable(nftName, this.netns);
    await applyBatch(4, batchLines(ops, 4), this.netns);
    await applyBatch(6, batchLines(ops, 6), this.netns);
  }

  /**
   * Removes every rule, route and nft table in this instance's ranges and restores sysctls. Links are
   * left as they are: they live as long as whoever created them.
   */
  teardown(): Promise<void> {
    return this.serialize(() => this.teardownNow());
  }

  private async teardownNow(): Promise<void> {
    // Always a full read: teardown must find everything in our ranges, whatever the view says.
    const view = await this.keptView();
    const since = view?.begin() ?? 0;
    const now = await this.readActual();
    const ops = diff({ ...now, nft: null }, emptyDesired());
    view?.expect(ops);
    try {
      await applyBatch(4, batchLines(ops, 4), this.netns);
      await applyBatch(6, batchLines(ops, 6), this.netns);
    } catch (err) {
      view?.forget();
      view?.drop('a teardown failed');
      throw err;
    }
    if (view && (await view.confirm())) view.settle({ rules: [], routes: [] }, since);
    if (this.nftName) await deleteTable(this.nftName, this.netns);
    const originals = await this.loadOriginals();
    await writeSysctls(originals, { ...this.netns, ignoreMissing: true });
    this.originals = {};
    await this.saveOriginals();
  }
}

/** Runs side by side and waits for all, so a rollback never starts while one is still writing. */
async function settleAll(steps: readonly (() => Promise<void>)[]): Promise<void> {
  const results = await Promise.allSettled(steps.map((f) => f()));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function describe(o: Operation): string {
  switch (o.op) {
    case 'sysctl':
      return `sysctl ${o.path}=${o.value}`;
    case 'route-replace':
    case 'route-del':
      return `${o.op} ${o.route.dst} table ${o.route.table}`;
    case 'rule-add':
    case 'rule-del':
      return `${o.op} priority ${o.rule.priority} mark 0x${o.rule.fwmark.toString(16)}`;
    case 'nft-replace':
      return `nft-replace ${o.table.name}`;
    case 'nft-delete':
      return `nft-delete ${o.name}`;
    case 'link-set':
      return `link ${o.link.name} mtu ${o.link.mtu} ${o.link.up ? 'up' : 'down'}`;
    case 'addr-add':
    case 'addr-del':
      return `${o.op} ${o.cidr} dev ${o.dev}`;
    case 'classifier-replace':
      return `classifier lists for ${o.lists.length} app(s)`;
  }
}
