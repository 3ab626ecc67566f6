import { describe, expect, it } from 'vitest';
import { describeChoice } from './describe.ts';

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
