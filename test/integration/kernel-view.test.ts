// The reconciler's kept kernel view (reconcile/kernel-view.ts) in a real namespace: applies after the
// first come from the view, and any change we did not make (a foreign rule deleted or added in our
// range) drops it, so the next apply reads in full and repairs the drift. Failing applies still roll
// back, and teardown still finds everything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { readInterfaces } from '../../native-helper/src/mechanism/netlink/read.ts';
import { layoutFor } from '../../native-helper/src/layout/kernel-layout.ts';
import { compile } from '../../native-helper/src/policy/compile.ts';
import { applyBatch } from '../../native-helper/src/mechanism/netlink/batch.ts';
import { routeLine, ruleLine } from '../../native-helper/src/reconcile/diff.ts';
import { ReconcileError, Reconciler } from '../../native-helper/src/reconcile/reconciler.ts';
import type { DesiredState } from '../../native-helper/src/reconcile/types.ts';
import { benchPolicy } from '../bench/apply.bench.ts';

const NS = `sykv${process.pid}`;
const ip = (...args: string[]) => run(['ip', '-n', NS, ...args]);
const layout = layoutFor(NS);
let reconciler: Reconciler;
let ten: DesiredState;
let eleven: DesiredState;

async function viewSettles(): Promise<void> {
  // Events of the last write arrive within milliseconds; the view is not used while any is owed.
  await new Promise((r) => setTimeout(r, 100));
}

beforeAll(async () => {
  await run(['ip', 'netns', 'add', NS]);
  await ip('link', 'set', 'lo', 'up');
  for (const n of [1, 2]) {
    await ip('link', 'add', 'name', `up${n}`, 'type', 'veth', 'peer', 'name', `pe${n}`);
    await ip('addr', 'add', `198.18.${n}.2/24`, 'dev', `up${n}`);
    await ip('-6', 'addr', 'add', `fd5a:${n}::2/64`, 'dev', `up${n}`, 'nodad');
    await ip('link', 'set', `up${n}`, 'up');
    await ip('link', 'set', `pe${n}`, 'up');
    await ip('route', 'add', 'default', 'via', `198.18.${n}.1`, 'dev', `up${n}`, 'metric', String(100 * n));
    await ip(
      '-6',
      'route',
      'add',
      'default',
      'via',
      `fd5a:${n}::1`,
      'dev',
      `up${n}`,
      'metric',
      String(100 * n),
    );
  }
  const interfaces = await readInterfaces({ netns: NS });
  ten = compile(benchPolicy(10), interfaces, layout);
  eleven = compile(benchPolicy(11), interfaces, layout);
  reconciler = new Reconciler({ layout, netns: NS, keepView: true });
});

afterAll(async () => {
  await reconciler?.teardown().catch(() => undefined);
  await reconciler?.close().catch(() => undefined);
  await run(['ip', 'netns', 'del', NS], { allowFailure: true });
});

describe('kept kernel view', () => {
  it('applies after the first from the view, and the kernel matches a full read', async () => {
    const first = await reconciler.apply(ten);
    expect(first.operations.length).toBeGreaterThan(0);
    await viewSettles();
    const second = await reconciler.apply(eleven);
    expect(second.fromView).toBe(true);
    expect(second.operations.some((o) => o.op === 'rule-add')).toBe(true);
    expect(await reconciler.plan(eleven)).toEqual([]);
  });

  it('sysctls are not in the view: one changed behind our back is set again by an apply from the view', async () => {
    const path = Object.keys(eleven.sysctls).find((p) => eleven.sysctls[p] !== '0')!;
    await run(['ip', 'netns', 'exec', NS, 'sh', '-c', `echo 0 > /proc/sys/${path}`]);
    await viewSettles();
    const res = await reconciler.apply(eleven);
    expect(res.fromView).toBe(true);
    expect(res.operations).toEqual([{ op: 'sysctl', path, value: eleven.sysctls[path] }]);
    expect(await reconciler.plan(eleven)).toEqual([]);
  });

  it('a foreign delete of one of our rules drops the view; the next apply reads in full and repairs it', async () => {
    await viewSettles();
    const victim = eleven.rules.find((r) => r.family === 4)!;
    await ip('-4', 'rule', ...ruleLine('del', victim).split(' ').slice(1));
    expect((await reconciler.plan(eleven)).length).toBe(1);
    await viewSettles();
    const res = await reconciler.apply(eleven);
    expect(res.fromView).toBe(false);
    expect(res.operations).toEqual([{ op: 'rule-add', rule: victim }]);
    expect(await reconciler.plan(eleven)).toEqual([]);
  });

  it('a foreign rule added in our range is removed by the next apply', async () => {
    await viewSettles();
    const stray = { ...eleven.rules.find((r) => r.family === 6)!, priority: layout.priorities.last };
    await ip('-6', 'rule', ...ruleLine('add', stray).split(' ').slice(1));
    await viewSettles();
    const res = await reconciler.apply(eleven);
    expect(res.fromView).toBe(false);
    expect(res.operations).toEqual([{ op: 'rule-del', rule: stray }]);
    expect(await reconciler.plan(eleven)).toEqual([]);
  });

  it('a failing apply from the view rolls back, and the next one starts from a full read', async () => {
    await reconciler.apply(eleven); // the view is kept again
    await viewSettles();
    const bad: DesiredState = structuredClone(ten);
    const t = bad.routes.find((r) => r.dev === 'up1' && r.family === 6)!.table;
    // A gateway that is not on-link: the IPv6 batch fails, the IPv4 one has run.
    bad.routes.push({
      family: 6,
      table: t,
      dst: 'fd5a:77::/64',
      via: 'fd5a:99::1',
      dev: 'up1',
      metric: 1024,
    });
    const err = await reconciler.apply(bad).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReconcileError);
    expect((err as ReconcileError).rolledBack).toBe(true);
    expect(await reconciler.plan(eleven)).toEqual([]);
    await viewSettles();
    const again = await reconciler.apply(ten);
    expect(again.fromView).toBe(false);
    expect(await reconciler.plan(ten)).toEqual([]);
  });

  it('a link that goes down takes its IPv4 routes without an event: the view is dropped, a delete of one is done', async () => {
    // An IPv4-only device (as a tunnel is): no IPv6 route event tells of its routes' going.
    await ip('link', 'add', 'name', 'up3', 'type', 'veth', 'peer', 'name', 'pe3');
    await ip('addr', 'add', '198.18.3.2/24', 'dev', 'up3');
    await ip('link', 'set', 'pe3', 'up');
    await ip('link', 'set', 'up3', 'up');
    const via3 = {
      family: 4 as const,
      table: ten.routes[0]!.table,
      dst: '198.51.100.0/24',
      via: '198.18.3.1',
      dev: 'up3',
      metric: 0,
    };
    const withUp3: DesiredState = { ...ten, routes: [...ten.routes, via3] };
    await reconciler.apply(withUp3);
    await viewSettles();
    expect((await reconciler.apply(withUp3)).fromView).toBe(true);
    // A flap: the route is gone from the kernel, so the next apply must not trust the view.
    await ip('link', 'set', 'up3', 'down');
    await ip('link', 'set', 'up3', 'up');
    await viewSettles();
    const back = await reconciler.apply(withUp3);
    expect(back.fromView).toBe(false);
    expect(back.operations).toEqual([{ op: 'route-replace', route: via3 }]);
    // Down again: deleting the route the kernel removed is "No such process", taken as done.
    await ip('link', 'set', 'up3', 'down');
    const line = routeLine('del', via3);
    expect(await applyBatch(4, [line], { netns: NS })).toEqual([line]);
    await reconciler.apply(ten);
    expect(await reconciler.plan(ten)).toEqual([]);
    await ip('link', 'del', 'up3');
  });

  it('teardown leaves nothing in our ranges', async () => {
    await reconciler.teardown();
    expect(await reconciler.plan({ rules: [], routes: [], nft: null, sysctls: {} })).toEqual([]);
    const rules = await ip('rule', 'list');
    expect(rules.stdout).not.toMatch(new RegExp(`^${layout.priorities.first}:`, 'm'));
  });
});
