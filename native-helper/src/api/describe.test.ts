import { describe, expect, it } from 'vitest';
import { describeChoice, describeEgressSet } from './describe.ts';

describe('describeChoice', () => {
  it('names each mode in one phrase', () => {
    expect(describeChoice({ mode: 'default' })).toBe('default');
    expect(describeChoice({ mode: 'block' })).toBe('block');
    expect(describeChoice({ mode: 'ordered', egresses: ['wlan0', 'enp3s0'], killSwitch: true })).toBe(
      'wlan0 → enp3s0 with kill switch',
    );
    expect(describeChoice({ mode: 'ordered', egresses: ['wg0'], killSwitch: false })).toBe('wg0');
  });
});

describe('describeEgressSet', () => {
  it('reads an ordered list as an order, not as a change from one egress to another', () => {
    const s = describeEgressSet('Firefox', {
      mode: 'ordered',
      egresses: ['enp3s0', 'wlan0'],
      killSwitch: false,
    });
    expect(s).toBe('Firefox: egress set: enp3s0, then wlan0');
    expect(s).not.toContain('→');
  });

  it('says one egress, default, block and the kill switch plainly', () => {
    expect(describeEgressSet('Firefox', { mode: 'ordered', egresses: ['wlan0'], killSwitch: true })).toBe(
      'Firefox: egress set to wlan0 (kill switch on)',
    );
    expect(describeEgressSet('Firefox', { mode: 'block' })).toBe('Firefox: egress set to block');
    expect(describeEgressSet('Firefox', { mode: 'default' })).toBe('Firefox: egress set to default');
  });
});
