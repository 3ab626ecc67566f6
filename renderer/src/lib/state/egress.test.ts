import { describe, expect, it } from 'vitest';
import type { EgressChoice } from '#switchyard/api/schema.ts';
import { EgressChoice as EgressChoiceSchema } from '#switchyard/api/schema.ts';
import {
  addFallback,
  badgeFor,
  choiceFromSelect,
  moveItem,
  removeEgress,
  reorder,
  selectValueFor,
  withKillSwitch,
} from './egress.ts';

const ordered: EgressChoice = { mode: 'ordered', egresses: ['wlan0', 'enp3s0', 'wg0'], killSwitch: true };

describe('egress choice editing', () => {
  it('maps choices to combobox values and back', () => {
    expect(selectValueFor({ mode: 'default' })).toBe('default');
    expect(selectValueFor({ mode: 'block' })).toBe('block');
    expect(selectValueFor(ordered)).toBe('egress:wlan0');
    expect(choiceFromSelect('block', ordered)).toEqual({ mode: 'block' });
    expect(choiceFromSelect('default', ordered)).toEqual({ mode: 'default' });
  });

  it('picking an egress from default starts a one-item list without a kill switch', () => {
    expect(choiceFromSelect('egress:enp3s0', { mode: 'default' })).toEqual({
      mode: 'ordered',
      egresses: ['enp3s0'],
      killSwitch: false,
    });
  });

  it('picking an egress of an existing list moves it first and keeps the fallbacks and kill switch', () => {
    expect(choiceFromSelect('egress:enp3s0', ordered)).toEqual({
      mode: 'ordered',
      egresses: ['enp3s0', 'wlan0', 'wg0'],
      killSwitch: true,
    });
  });

  it('rejects an unknown option rather than guessing', () => {
    expect(() => choiceFromSelect('tunnel', ordered)).toThrow(/unknown egress option/);
  });

  it('moves items for drag and drop and the move buttons', () => {
    expect(moveItem(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
    expect(moveItem(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
    expect(moveItem(['a', 'b', 'c'], 1, 9)).toEqual(['a', 'c', 'b']); // clamped to the end
    expect(moveItem(['a', 'b', 'c'], 5, 0)).toEqual(['a', 'b', 'c']); // nothing at 5
    expect(reorder(ordered, 2, 0)).toEqual({ ...ordered, egresses: ['wg0', 'wlan0', 'enp3s0'] });
    expect(reorder({ mode: 'block' }, 0, 1)).toEqual({ mode: 'block' });
  });

  it('adds fallbacks once, up to the schema limit of eight', () => {
    expect(addFallback(ordered, 'wwan0')).toEqual({
      ...ordered,
      egresses: ['wlan0', 'enp3s0', 'wg0', 'wwan0'],
    });
    expect(addFallback(ordered, 'wlan0')).toBe(ordered);
    const full: EgressChoice = {
      mode: 'ordered',
      egresses: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
      killSwitch: false,
    };
    expect(addFallback(full, 'i')).toBe(full);
  });

  it('removing the last egress falls back to system default', () => {
    expect(removeEgress(ordered, 'enp3s0')).toEqual({ ...ordered, egresses: ['wlan0', 'wg0'] });
    expect(removeEgress({ mode: 'ordered', egresses: ['wlan0'], killSwitch: true }, 'wlan0')).toEqual({
      mode: 'default',
    });
  });

  it('toggles the kill switch only on an ordered list', () => {
    expect(withKillSwitch(ordered, false)).toEqual({ ...ordered, killSwitch: false });
    expect(withKillSwitch({ mode: 'default' }, true)).toEqual({ mode: 'default' });
  });

  it('every edit produces a choice the helper schema accepts', () => {
    const edits = [
      choiceFromSelect('egress:wlan0', { mode: 'default' }),
      reorder(ordered, 0, 2),
      addFallback(ordered, 'wwan0'),
      removeEgress(ordered, 'wg0'),
      withKillSwitch(ordered, false),
    ];
    for (const e of edits) expect(EgressChoiceSchema.safeParse(e).success).toBe(true);
  });

  it('gives every egress state a distinct badge', () => {
    const states = [
      'default',
      'routed',
      'failed-over',
      'fallback-default',
      'killed',
      'blocked',
      'paused',
    ] as const;
    const labels = states.map((s) => badgeFor(s, 'wlan0').label);
    expect(new Set(labels).size).toBe(states.length);
    expect(badgeFor('failed-over', 'enp3s0').description).toContain('enp3s0');
    expect(badgeFor('killed', null).tone).toBe('bad');
  });
});

describe('badgeFor under the global override and the kill switch', () => {
  it('says "Override" when the helper routes the app through the override, not its own choice', () => {
    const b = badgeFor('routed', 'wlan0', 'wlan0');
    expect(b.label).toBe('Override');
    expect(b.description).toContain('wlan0');
    expect(badgeFor('routed', 'enp3s0', null).label).toBe('Routed');
  });

  it('names the override when its egress is down', () => {
    expect(badgeFor('killed', null, 'wlan0').description).toContain('override sends every app through wlan0');
    expect(badgeFor('fallback-default', null, 'wlan0').label).toBe('System route');
  });

  it('says the kill switch blocks traffic, not that the app was killed', () => {
    const b = badgeFor('killed', null);
    expect(b.label).toBe('Blocked (kill switch)');
    expect(b.description).toContain('processes keep running');
  });
});
