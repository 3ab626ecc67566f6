import { describe, expect, it } from 'vitest';
import type { EgressChoice, EgressState } from '../api/schema.ts';
import { renderTable } from '../mechanism/nft/spec.ts';
import { hex, layoutFor, markFor } from '../layout/kernel-layout.ts';
import { compile } from './compile.ts';
import { effectiveChoice, evaluate } from './evaluate.ts';
import {
  heldReason,
  isHeld,
  killSwitchArmed,
  killSwitchHolds,
  killSwitchNft,
  killSwitchState,
  killSwitchTookHold,
  notHeldReason,
  ownKillSwitch,
} from './kill-switch.ts';
import { addApp, emptyPolicy, ensureEgressTables } from './model.ts';

const layout = layoutFor('unit', 11);
const ordered = (egresses: string[], killSwitch: boolean): EgressChoice => ({
  mode: 'ordered',
  egresses,
  killSwitch,
});
const ifs = (usable: Record<string, boolean>) =>
  Object.entries(usable).map(([name, u]) => ({ name, usable: u }));

const guarded = ordered(['wg0', 'wlan0'], true);
const open = ordered(['wg0', 'wlan0'], false);

describe('when the kill switch holds an app', () => {
  it('belongs to ordered choices only, and an app keeps its own under the override', () => {
    expect(ownKillSwitch(guarded)).toBe(true);
    expect(ownKillSwitch(open)).toBe(false);
    expect(ownKillSwitch({ mode: 'default' })).toBe(false);
    expect(ownKillSwitch({ mode: 'block' })).toBe(false);
    expect(effectiveChoice(guarded, 'eth0')).toEqual(ordered(['eth0'], true));
    expect(effectiveChoice({ mode: 'default' }, 'eth0')).toEqual(ordered(['eth0'], false));
  });

  it('is armed unless paused', () => {
    expect(killSwitchArmed(guarded, false)).toBe(true);
    expect(killSwitchArmed(guarded, true)).toBe(false);
    expect(killSwitchArmed(open, false)).toBe(false);
  });

  it('holds only when armed and none of the egresses in force is usable', () => {
    expect(killSwitchHolds(guarded, ifs({ wg0: false, wlan0: false, eth0: true }), false)).toBe(true);
    expect(killSwitchHolds(guarded, ifs({ eth0: true }), false)).toBe(true); // the egresses vanished
    expect(killSwitchHolds(guarded, ifs({ wg0: false, wlan0: true }), false)).toBe(false);
    expect(killSwitchHolds(guarded, ifs({ wg0: false, wlan0: false }), true)).toBe(false); // paused
    expect(killSwitchHolds(open, ifs({ wg0: false, wlan0: false }), false)).toBe(false);
    expect(killSwitchHolds({ mode: 'block' }, ifs({}), false)).toBe(false);
    // Under the override the list in force is [override]: the app's own egresses do not help.
    const forced = effectiveChoice(guarded, 'vpn0');
    expect(killSwitchHolds(forced, ifs({ wg0: true, wlan0: true, vpn0: false }), false)).toBe(true);
  });

  it("is exactly evaluate's decision 'killed'", () => {
    const choices: EgressChoice[] = [
      guarded,
      open,
      ordered(['wg0'], true),
      { mode: 'default' },
      { mode: 'block' },
    ];
    const worlds = [
      ifs({}),
      ifs({ wg0: true }),
      ifs({ wg0: false, wlan0: true }),
      ifs({ wlan0: false, vpn0: true }),
    ];
    let held = 0;
    for (const choice of choices)
      for (const interfaces of worlds)
        for (const paused of [false, true])
          for (const override of [null, 'vpn0']) {
            const state = evaluate(choice, interfaces, { paused, override }).state;
            const holds = killSwitchHolds(effectiveChoice(choice, override), interfaces, paused);
            expect(isHeld({ state }), JSON.stringify({ choice, interfaces, paused, override })).toBe(holds);
            if (holds) held++;
          }
    expect(held).toBeGreaterThan(3); // the matrix does reach the held case
  });

  it('reads a held app from its evaluation', () => {
    expect(isHeld({ state: 'killed' })).toBe(true);
    for (const state of [
      'routed',
      'failed-over',
      'fallback-default',
      'blocked',
      'default',
      'paused',
    ] as const)
      expect(isHeld({ state })).toBe(false);
  });
});

describe('what the kill switch adds to the desired state', () => {
  const mark = markFor(layout, 4);

  it('an unreachable rule at the kill priority in both families, and a guard allowing loopback and its egresses', () => {
    expect(killSwitchState(guarded, false, mark, layout)).toEqual({
      rules: [
        {
          family: 4,
          priority: layout.priorities.kill,
          fwmark: mark,
          mask: 0xffffffff,
          action: 'unreachable',
        },
        {
          family: 6,
          priority: layout.priorities.kill,
          fwmark: mark,
          mask: 0xffffffff,
          action: 'unreachable',
        },
      ],
      guard: { mark, allowed: ['lo', 'wg0', 'wlan0'] },
    });
    // Behind every lookup, ahead of the main table.
    expect(layout.priorities.kill).toBeGreaterThan(layout.priorities.lookup + 7);
  });

  it('nothing when not armed', () => {
    expect(killSwitchState(guarded, true, mark, layout)).toBeNull();
    expect(killSwitchState(open, false, mark, layout)).toBeNull();
    expect(killSwitchState({ mode: 'block' }, false, mark, layout)).toBeNull();
    expect(killSwitchState({ mode: 'default' }, false, mark, layout)).toBeNull();
  });

  it('an nft drop for packets of armed apps leaving by any other interface, counted per app', () => {
    const other = markFor(layout, 9);
    const counters: [string, string][] = [[hex(mark), '"kill_4"']];
    const nft = killSwitchNft(
      [
        { mark, allowed: ['lo', 'wg0'] },
        { mark: other, allowed: ['lo', 'eth0'] },
      ],
      counters,
    );
    expect(nft.output).toEqual([
      'meta mark @kill_marks meta mark . oifname != @kill_allowed counter name meta mark map @kill_counters drop',
    ]);
    expect(nft.sets).toEqual([
      { name: 'kill_marks', type: 'mark', elements: [hex(mark), hex(other)] },
      {
        name: 'kill_allowed',
        type: 'mark . ifname',
        elements: [
          `${hex(mark)} . "lo"`,
          `${hex(mark)} . "wg0"`,
          `${hex(other)} . "lo"`,
          `${hex(other)} . "eth0"`,
        ],
      },
    ]);
    expect(nft.counterMap).toEqual({ name: 'kill_counters', type: 'mark : counter', elements: counters });
    // No armed app: no drop, but the sets and the counter map stay (the table's shape does not change).
    const none = killSwitchNft([], counters);
    expect(none.output).toEqual([]);
    expect(none.sets.map((s) => s.elements)).toEqual([[], []]);
  });

  it('is what compile puts in the kernel for each armed app, and only for those', () => {
    const m = { icon: null, source: 'manual' as const, matchers: { exe: ['/bin/x'] } };
    let p = emptyPolicy();
    p = addApp(p, { ...m, id: 'held', name: 'Held', choice: ordered(['wg0'], true) });
    p = addApp(p, { ...m, id: 'free', name: 'Free', choice: ordered(['wg0'], false) });
    p = ensureEgressTables(p);
    const d = compile(p, [], layout);
    const held = killSwitchState(ordered(['wg0'], true), false, markFor(layout, 1), layout)!;
    expect(d.rules.filter((r) => r.action === 'unreachable')).toEqual(held.rules);
    const text = renderTable(d.nft!);
    expect(text).toContain(`set kill_marks { type mark; elements = { ${hex(markFor(layout, 1))} }; }`);
    expect(text).toContain('counter kill_2 {}'); // every app has its counter, armed or not
    expect(compile({ ...p, paused: true }, [], layout).rules.some((r) => r.action === 'unreachable')).toBe(
      false,
    );
  });
});

describe('how the kill switch is told', () => {
  it('in explain', () => {
    expect(heldReason('Firefox')).toBe(
      "None of Firefox's egresses is usable and its kill switch drops the traffic.",
    );
    expect(notHeldReason('Firefox', 'eth0')).toBe(
      "None of Firefox's egresses is usable and its kill switch is off, so it uses the system routing (eth0).",
    );
  });

  it('as egress.killed, once, when the switch takes hold, naming the app its own egresses', () => {
    const app = { id: 'firefox', choice: guarded };
    const at = (state: EgressState) => ({ state });
    expect(killSwitchTookHold(app, at('routed'), at('killed'))).toEqual({
      app: 'firefox',
      egresses: ['wg0', 'wlan0'],
    });
    expect(killSwitchTookHold(app, undefined, at('killed'))).toEqual({
      app: 'firefox',
      egresses: ['wg0', 'wlan0'],
    });
    expect(killSwitchTookHold(app, at('fallback-default'), at('killed'))).not.toBeNull();
    expect(killSwitchTookHold(app, at('killed'), at('killed'))).toBeNull();
    expect(killSwitchTookHold(app, at('killed'), at('routed'))).toBeNull();
    expect(killSwitchTookHold(app, at('routed'), at('failed-over'))).toBeNull();
    expect(
      killSwitchTookHold({ id: 'x', choice: { mode: 'default' } }, at('routed'), at('killed')),
    ).toBeNull();
  });
});
