// Makes the kernel match a DesiredState: diff, one nft transaction, one ip batch per family, verify,
// and roll back to the state found before when anything fails.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../storage/atomic-file.ts';
import { applyBatch } from '../mechanism/netlink/batch.ts';
import type { NetnsOption } from '../mechanism/netlink/ns.ts';
import { applyTable, deleteTable, readCounters, restoreTable } from '../mechanism/nft/table.ts';
import type { KernelScope } from '../layout/kernel-layout.ts';
import type { ClassifierImage, ClassifierList } from '../mechanism/bpf/classifier.ts';
import { readActual, type ActualState } from './actual.ts';
import { batchLines, diff, type Operation } from './diff.ts';
import { writeSysctls } from './sysctl.ts';
import { emptyDesired, type DesiredState } from './types.ts';

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

  /** The helper's rules, routes and nft table, plus the sysctls it wants or changed before. */
  async readActual(desired?: DesiredState): Promise<ActualState> {
    const originals = await this.loadOriginals();
    const paths = [...new Set([...Object.keys(desired?.sysctls ?? {}), ...Object.keys(originals)])];
    const linkNames = (desired?.links ?? []).map((l) => l.name);
    const actual = await readActual(this.opts.layout, { ...this.netns, sysctlPaths: paths, linkNames });
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
    const before = await this.readActual(desired);
    const ops = diff(before, desired, this.nftName);
    const originals = await this.loadOriginals();
    const restores = Object.fromEntries(Object.entries(originals).filter(([p]) => !(p in desired.sysctls)));
    const readMs = performance.now() - tRead;
    if (ops.length === 0 && Object.keys(restores).length === 0)
      return { operations: [], readMs, applyMs: 0, verifyMs: 0 };

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
      await this.execute(ops);
      const applyMs = performance.now() - t0;
      if (Object.keys(restores).length) {
        await writeSysctls(restores, { ...this.netns, ignoreMissing: true });
        for (const p of Object.keys(restores)) delete originals[p];
        await this.saveOriginals();
      }
      const tVerify = performance.now();
      const left = diff(await this.readActual(desired), desired, this.nftName);
      if (left.length)
        throw new Error(
          `the kernel does not match after applying (${left.length} difference(s), first: ${describe(left[0]!)})`,
        );
      if (desired.classifier) this.classifierLists = desired.classifier;
      return { operations: ops, readMs, applyMs, verifyMs: performance.now() - tVerify };
    } catch (err) {
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

  private async execute(ops: readonly Operation[]): Promise<void> {
    const sysctls = Object.fromEntries(ops.flatMap((o) => (o.op === 'sysctl' ? [[o.path, o.value]] : [])));
    await writeSysctls(sysctls, this.netns);
    for (const o of ops) {
      if (o.op === 'nft-replace') {
        // Replacing the table would reset the per-app counters; carry their values over.
        const now = await readCounters(o.table.name, this.netns);
        const counters = o.table.counters.map((c) => ({ ...c, ...now.get(c.name) }));
        await applyTable({ ...o.table, counters }, this.netns);
      }
      if (o.op === 'nft-delete') await deleteTable(o.name, this.netns);
    }
    await applyBatch(4, batchLines(ops, 4), this.netns);
    await applyBatch(6, batchLines(ops, 6), this.netns);
    // One flip of a generation: connect() sees the old lists or the new ones, never a mix.
    for (const o of ops) if (o.op === 'classifier-replace') this.opts.classifier!.replace(o.lists);
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
    const now = await this.readActual();
    const ops = diff({ ...now, nft: null }, emptyDesired());
    await applyBatch(4, batchLines(ops, 4), this.netns);
    await applyBatch(6, batchLines(ops, 6), this.netns);
    if (this.nftName) await deleteTable(this.nftName, this.netns);
    const originals = await this.loadOriginals();
    await writeSysctls(originals, { ...this.netns, ignoreMissing: true });
    this.originals = {};
    await this.saveOriginals();
  }
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
