// The reconciler's kept view of its own ip rules and routes, so an apply need not read them all first
// nor read them all again to verify. It is what the last verified apply (or full read) found, kept
// current by `ip -4/-6 monitor rule route` in the reconciler's namespace.
// Why it cannot be stale without us knowing: before writing, the reconciler registers one expected
// event per batch line; every event in our priority range or tables must consume one. Any other
// event there (a foreign change), an unparsable one, anything on the monitors' stderr (e.g. a
// netlink overflow) or a monitor exiting drops the view, and the next apply reads the kernel in full.
// So does a link going down or away: the kernel then removes its IPv4 routes without an event (IPv6
// says so), so the IPv4 monitor also watches links.
// A write counts as verified when every expected event arrived with exactly the content asked for.
import { type Supervised, supervisor } from '../mechanism/supervisor.ts';
import { subscribed } from '../mechanism/netlink/watch.ts';
import { ipArgv, type NetnsOption } from '../mechanism/netlink/ns.ts';
import { isOurPriority, isOurTable, type KernelScope } from '../layout/kernel-layout.ts';
import type { Operation } from './diff.ts';
import { routeKey, ruleKey, type Family, type RouteSpec, type RuleSpec } from './types.ts';

const TABLE_NAMES: Record<string, number> = { main: 254, default: 253, local: 255 };

/** The event a rule add/del produces, as a comparable key. */
export function ruleEventKey(verb: 'add' | 'del', r: RuleSpec): string {
  return `${verb} rule ${ruleKey(r)}`;
}

/** The event a route replace/del produces: a replace shows the whole route, a delete its key. */
export function routeEventKey(verb: 'add' | 'del', r: RouteSpec): string {
  if (verb === 'del') return `del route ${routeKey(r)}`;
  const extra = [r.dev, r.via ?? '', r.src ?? '', r.scope ?? '', r.onlink ? 'onlink' : ''].join('|');
  return `add route ${routeKey(r)}|${extra}`;
}

/** A `[LINK]` monitor line of a link deleted or set down: the kernel drops its IPv4 routes silently. */
export function linkTakesRoutes(line: string): boolean {
  const m = /^\[LINK\](Deleted )?\d+: [^:]+: <([^>]*)>/.exec(line);
  return m !== null && (m[1] !== undefined || !m[2]!.split(',').includes('UP'));
}

/** The key of one monitor line, null when it is outside our scope, 'foreign' when ours but unreadable. */
export function monitorLineKey(line: string, family: Family, scope: KernelScope): string | null {
  if (line.startsWith('[RULE]')) return ruleLineKey(line.slice(6), family, scope);
  if (line.startsWith('[ROUTE]')) return routeLineKey(line.slice(7), family, scope);
  return null;
}

// `ip` prints a zero mark as plain 0 (exclude mode's rules match unmarked packets).
const RULE_RE =
  /^(Deleted )?(\d+):\s+from all fwmark (0x[0-9a-f]+|0)(?:\/(0x[0-9a-f]+))? (?:lookup (\S+)|(unreachable|prohibit|blackhole))(?: suppress_prefixlength (\d+))?\s*$/;

function ruleLineKey(text: string, family: Family, scope: KernelScope): string | null {
  const prio = /^(?:Deleted )?(\d+):/.exec(text);
  if (!prio || !isOurPriority(scope, Number(prio[1]))) return null;
  const m = RULE_RE.exec(text);
  if (!m) return 'foreign';
  const table = m[5] === undefined ? undefined : (TABLE_NAMES[m[5]] ?? Number(m[5]));
  const rule: RuleSpec = {
    family,
    priority: Number(m[2]),
    fwmark: Number(m[3]),
    mask: m[4] === undefined ? 0xffffffff : Number(m[4]),
    action: (m[6] ?? 'lookup') as RuleSpec['action'],
    ...(table !== undefined ? { table } : {}),
    ...(m[7] !== undefined ? { suppressPrefixlength: Number(m[7]) } : {}),
  };
  return ruleEventKey(m[1] ? 'del' : 'add', rule);
}

function routeLineKey(text: string, family: Family, scope: KernelScope): string | null {
  const words = text.trim().split(/\s+/);
  const deleted = words[0] === 'Deleted';
  if (deleted) words.shift();
  const at = (k: string) => {
    const i = words.indexOf(k);
    return i >= 0 ? words[i + 1] : undefined;
  };
  const tableWord = at('table');
  const table = tableWord === undefined ? 254 : (TABLE_NAMES[tableWord] ?? Number(tableWord));
  if (!isOurTable(scope, table)) return null;
  // Routes without a device (unreachable, blackhole…) are not ours: the full read skips them too.
  const dev = at('dev');
  if (!dev) return null;
  const known = new Set(['via', 'dev', 'src', 'scope', 'table', 'metric', 'onlink', 'pref']);
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (!known.has(w)) return 'foreign'; // proto, expires, a route type…: not one we wrote
    if (w !== 'onlink') i++;
  }
  const metric = Number(at('metric') ?? (family === 6 ? 1024 : 0));
  const via = at('via');
  const src = at('src');
  const route: RouteSpec = {
    family,
    table,
    dst: words[0]!,
    dev,
    metric,
    ...(via ? { via } : {}),
    ...(src ? { src } : {}),
    ...(family === 4 && at('scope') === 'link' ? { scope: 'link' as const } : {}),
    ...(words.includes('onlink') ? { onlink: true } : {}),
  };
  return routeEventKey(deleted ? 'del' : 'add', route);
}

/** The events the batch lines of `ops` will cause. */
export function expectedEvents(ops: readonly Operation[]): string[] {
  const keys: string[] = [];
  for (const o of ops) {
    if (o.op === 'rule-add') keys.push(ruleEventKey('add', o.rule));
    if (o.op === 'rule-del') keys.push(ruleEventKey('del', o.rule));
    if (o.op === 'route-replace') keys.push(routeEventKey('add', o.route));
    if (o.op === 'route-del') keys.push(routeEventKey('del', o.route));
  }
  return keys;
}

export interface ViewState {
  rules: RuleSpec[];
  routes: RouteSpec[];
}

export class KernelView {
  private monitors: Supervised[] = [];
  private state: ViewState | null = null;
  /** Expected event key → how many are still to come. */
  private readonly pending = new Map<string, number>();
  private pendingCount = 0;
  private drained: (() => void)[] = [];
  private stopped = false;
  /** Bumped whenever the view is dropped: a settle() begun before a drop must not undo it. */
  private epoch = 0;
  /** Why the view was last dropped (for logs and tests). */
  lastDropped: string | null = null;

  constructor(
    private readonly scope: KernelScope,
    private readonly netns: NetnsOption,
  ) {}

  async start(): Promise<void> {
    for (const family of [4, 6] as const) {
      const argv = [
        'setpriv',
        '--pdeathsig',
        'KILL',
        '--',
        ...ipArgv(
          this.netns,
          ['monitor', 'label', 'rule', 'route', ...(family === 4 ? ['link'] : [])],
          family,
        ),
      ];
      const child = supervisor.start(argv, {
        name: `ip -${family} monitor (reconciler)`,
        stdout: 'pipe',
        stderr: 'pipe',
      });
      this.monitors.push(child);
      let partial = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        const lines = (partial + d).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) this.onLine(l, family);
      });
      child.stderr?.on('data', () => this.drop(`ip -${family} monitor reported an error`));
      void child.exited.then(() => {
        this.drop(`ip -${family} monitor exited`);
        this.monitors = this.monitors.filter((m) => m !== child);
      });
      const pid = await child.spawned;
      // Until ip has joined its groups, a change would go unseen: no view before that.
      if (!(await subscribed(pid))) this.drop('ip monitor did not subscribe');
    }
  }

  /** True while both monitors run: only then can a view be kept. */
  get watching(): boolean {
    return !this.stopped && this.monitors.length === 2;
  }

  private onLine(line: string, family: Family): void {
    if (line.startsWith('[LINK]')) {
      if (linkTakesRoutes(line)) this.drop(`a link went down or away: ${line.trim()}`);
      return;
    }
    const key = monitorLineKey(line, family, this.scope);
    if (key === null) return;
    const left = this.pending.get(key) ?? 0;
    if (left > 0) {
      if (left === 1) this.pending.delete(key);
      else this.pending.set(key, left - 1);
      if (--this.pendingCount === 0) for (const fn of this.drained.splice(0)) fn();
      return;
    }
    this.drop(`a change we did not make: ${line.trim()}`);
  }

  drop(why: string): void {
    this.epoch++;
    this.state = null;
    this.lastDropped = why;
  }

  /** The kept rules and routes, or null: read the kernel. */
  current(): ViewState | null {
    return this.watching && this.pendingCount === 0 ? this.state : null;
  }

  /** Registers the events the coming batches will cause; call before running them. */
  expect(ops: readonly Operation[]): void {
    for (const k of expectedEvents(ops)) {
      this.pending.set(k, (this.pending.get(k) ?? 0) + 1);
      this.pendingCount++;
    }
  }

  /**
   * Waits until every expected event arrived as asked (true), or gives up after timeoutMs (false,
   * and forgets them: the view is dropped since their late arrival would be taken as foreign).
   */
  async confirm(timeoutMs = 1000): Promise<boolean> {
    if (this.pendingCount > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.drained.push(resolve);
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
    }
    if (this.pendingCount === 0) return this.watching;
    this.forget();
    this.drop('the kernel did not confirm every change in time');
    return false;
  }

  /**
   * Deletes the kernel had done before us: their events never come. The view had missed their going
   * (a device going down takes its IPv4 routes without an event), so it is dropped: the next apply
   * reads the kernel in full.
   */
  alreadyGone(ops: readonly Operation[]): void {
    for (const k of expectedEvents(ops)) {
      const left = this.pending.get(k) ?? 0;
      if (left === 0) continue;
      if (left === 1) this.pending.delete(k);
      else this.pending.set(k, left - 1);
      this.pendingCount--;
    }
    if (this.pendingCount === 0) for (const fn of this.drained.splice(0)) fn();
    this.drop('a delete found the kernel had done it already');
  }

  /** Forgets the expected events (after a failed batch: some lines never ran). */
  forget(): void {
    this.pending.clear();
    this.pendingCount = 0;
    for (const fn of this.drained.splice(0)) fn();
  }

  /** Call before reading or writing; pass the result to settle(). */
  begin(): number {
    return this.epoch;
  }

  /**
   * The kernel now holds exactly this (a full read, or a write whose events all arrived), unless the
   * view was dropped since begin(): then a change may have come after the read, and it stays dropped.
   */
  settle(state: ViewState, since: number): void {
    if (this.watching && since === this.epoch)
      this.state = { rules: [...state.rules], routes: [...state.routes] };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = null;
    this.forget();
    await Promise.all(this.monitors.map((m) => m.stop('SIGTERM')));
  }
}
