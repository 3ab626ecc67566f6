import { describe, expect, it } from 'vitest';
import type { KernelScope } from '../layout/kernel-layout.ts';
import { routeLine, ruleLine, type Operation } from './diff.ts';
import {
  expectedEvents,
  KernelView,
  linkTakesRoutes,
  monitorLineKey,
  routeEventKey,
  ruleEventKey,
} from './kernel-view.ts';
import type { RouteSpec, RuleSpec } from './types.ts';

const scope: KernelScope = {
  priorities: { first: 10000, last: 10099 },
  tables: { first: 1000, last: 1099 },
  nftTable: 'switchyard_t',
};
const rule: RuleSpec = {
  family: 4,
  priority: 10010,
  fwmark: 0x100,
  mask: 0xff00,
  action: 'lookup',
  table: 1001,
};
const kill: RuleSpec = { family: 6, priority: 10092, fwmark: 0x200, mask: 0xffffffff, action: 'unreachable' };
const route: RouteSpec = {
  family: 4,
  table: 1001,
  dst: 'default',
  via: '198.18.1.1',
  dev: 'up1',
  src: '198.18.1.2',
  metric: 0,
};

describe('monitorLineKey', () => {
  // Lines as `ip monitor label rule route` prints them (iproute2 6.x).
  it('reads rule adds and deletes as the keys of the operations that cause them', () => {
    expect(monitorLineKey('[RULE]10010:\tfrom all fwmark 0x100/0xff00 lookup 1001', 4, scope)).toBe(
      ruleEventKey('add', rule),
    );
    expect(monitorLineKey('[RULE]Deleted 10010:\tfrom all fwmark 0x100/0xff00 lookup 1001', 4, scope)).toBe(
      ruleEventKey('del', rule),
    );
    expect(monitorLineKey('[RULE]10092:\tfrom all fwmark 0x200 unreachable', 6, scope)).toBe(
      ruleEventKey('add', kill),
    );
    expect(
      monitorLineKey('[RULE]10001:\tfrom all fwmark 0x1/0xff lookup main suppress_prefixlength 0', 4, scope),
    ).toBe(
      ruleEventKey('add', {
        family: 4,
        priority: 10001,
        fwmark: 1,
        mask: 0xff,
        action: 'lookup',
        table: 254,
        suppressPrefixlength: 0,
      }),
    );
  });

  it('reads route replaces with every field, deletes by their key', () => {
    expect(monitorLineKey('[ROUTE]default via 198.18.1.1 dev up1 table 1001 src 198.18.1.2 ', 4, scope)).toBe(
      routeEventKey('add', route),
    );
    expect(monitorLineKey('[ROUTE]Deleted default via 198.18.1.1 dev up1 table 1001 ', 4, scope)).toBe(
      routeEventKey('del', route),
    );
    const v6: RouteSpec = {
      family: 6,
      table: 1002,
      dst: 'default',
      via: 'fd5a:1::1',
      dev: 'up1',
      metric: 1024,
      onlink: true,
    };
    expect(
      monitorLineKey(
        '[ROUTE]default via fd5a:1::1 dev up1 table 1002 metric 1024 onlink pref medium',
        6,
        scope,
      ),
    ).toBe(routeEventKey('add', v6));
    // A changed field is another key: the event would not confirm the write.
    expect(
      monitorLineKey('[ROUTE]default via 198.18.1.1 dev up2 table 1001 src 198.18.1.2', 4, scope),
    ).not.toBe(routeEventKey('add', route));
  });

  it('ignores what is outside our priorities and tables, flags what it cannot read inside them', () => {
    expect(monitorLineKey('[RULE]32766:\tfrom all lookup main', 4, scope)).toBeNull();
    expect(monitorLineKey('[ROUTE]default via 10.0.0.1 dev eth0 metric 100', 4, scope)).toBeNull();
    expect(monitorLineKey('[ROUTE]unreachable default table 1001', 4, scope)).toBeNull();
    expect(monitorLineKey('[RULE]10010:\tfrom 10.0.0.0/8 lookup 1001', 4, scope)).toBe('foreign');
    expect(monitorLineKey('[ROUTE]default via 198.18.1.1 dev up1 table 1001 proto static', 4, scope)).toBe(
      'foreign',
    );
  });

  it('keys the lines the reconciler writes the same way as their events', () => {
    // ruleLine/routeLine are what ip -batch gets; the parsed event must match the expected key.
    expect(ruleLine('add', rule)).toContain('fwmark 0x100/0xff00 lookup 1001');
    expect(routeLine('replace', route)).toContain('table 1001');
    const ops: Operation[] = [
      { op: 'rule-add', rule },
      { op: 'route-replace', route },
      { op: 'rule-del', rule: kill },
      { op: 'route-del', route },
    ];
    expect(expectedEvents(ops)).toEqual([
      ruleEventKey('add', rule),
      routeEventKey('add', route),
      ruleEventKey('del', kill),
      routeEventKey('del', route),
    ]);
  });
});

describe('KernelView bookkeeping', () => {
  // Drives the event handling directly (no monitor processes): the view is valid only while watching.
  function viewWithState() {
    const view = new KernelView(scope, {});
    Object.defineProperty(view, 'watching', { get: () => true });
    view.settle({ rules: [rule], routes: [route] }, view.begin());
    const feed = (line: string, family: 4 | 6 = 4) =>
      (view as unknown as { onLine(l: string, f: 4 | 6): void }).onLine(line, family);
    return { view, feed };
  }

  it('keeps the view through its own expected events, and confirms the write', async () => {
    const { view, feed } = viewWithState();
    const since = view.begin();
    view.expect([{ op: 'rule-del', rule }]);
    expect(view.current()).toBeNull(); // not while events are outstanding
    feed('[RULE]Deleted 10010:\tfrom all fwmark 0x100/0xff00 lookup 1001');
    expect(await view.confirm(50)).toBe(true);
    view.settle({ rules: [], routes: [route] }, since);
    expect(view.current()).toEqual({ rules: [], routes: [route] });
  });

  it('drops the view on a change it did not make, and a settle begun before cannot bring it back', () => {
    const { view, feed } = viewWithState();
    const since = view.begin();
    feed('[RULE]Deleted 10010:\tfrom all fwmark 0x100/0xff00 lookup 1001');
    expect(view.current()).toBeNull();
    expect(view.lastDropped).toMatch(/did not make/);
    view.settle({ rules: [rule], routes: [route] }, since);
    expect(view.current()).toBeNull();
  });

  it('takes a delete the kernel had done already as confirmed at once, and reads in full next time', async () => {
    // A device going down takes its IPv4 routes without an event: the view still had the route.
    const { view, feed } = viewWithState();
    const since = view.begin();
    view.expect([
      { op: 'route-del', route },
      { op: 'rule-del', rule },
    ]);
    view.alreadyGone([{ op: 'route-del', route }]);
    feed('[RULE]Deleted 10010:\tfrom all fwmark 0x100/0xff00 lookup 1001');
    const started = Date.now();
    expect(await view.confirm(5000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(view.lastDropped).toMatch(/had done it already/);
    view.settle({ rules: [], routes: [] }, since);
    expect(view.current()).toBeNull();
  });

  it('drops the view when a link goes down or away (its IPv4 routes go without an event), not when one comes up', () => {
    const { view, feed } = viewWithState();
    feed('[LINK]7: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420 qdisc noqueue state UNKNOWN group default ');
    feed('[LINK]3: up1@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 state LOWERLAYERDOWN');
    expect(view.current()).toEqual({ rules: [rule], routes: [route] });
    feed('[LINK]7: wg0: <POINTOPOINT,NOARP> mtu 1420 qdisc noqueue state DOWN group default ');
    expect(view.current()).toBeNull();
    expect(view.lastDropped).toMatch(/a link went down or away/);
    expect(linkTakesRoutes('[LINK]Deleted 7: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420')).toBe(true);
    expect(linkTakesRoutes('    link/ether 52:02:f4:cb:84:4d brd ff:ff:ff:ff:ff:ff')).toBe(false);
  });

  it('drops the view when the kernel does not confirm a write in time', async () => {
    const { view } = viewWithState();
    view.expect([{ op: 'route-replace', route }]);
    expect(await view.confirm(20)).toBe(false);
    expect(view.current()).toBeNull();
    expect(view.lastDropped).toMatch(/did not confirm/);
  });
});
