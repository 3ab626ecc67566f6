import { describe, expect, it } from 'vitest';
import type { Interface } from '#switchyard/api/schema.ts';
import { defaultVia, killSwitchSentence, modeSentence } from './mode.svelte.ts';

const iface = (name: string, kind: Interface['kind']) => ({ name, kind }) as Interface;

describe('mode words', () => {
  it('says in one line what each mode does, and what happens while its egress is down', () => {
    expect(modeSentence({ kind: 'include' }, {})).toBe(
      'Only the apps you give an egress are routed; everything else uses the system routing.',
    );
    const ex = { kind: 'exclude', via: 'sy-office', killSwitch: true } as const;
    expect(modeSentence(ex, {})).toBe(
      'Apps on System default and everything not listed here (system services, other programs) go through sy-office; apps given an egress of their own keep it.',
    );
    expect(modeSentence(ex, { 'sy-office': 'connecting' })).toBe(
      'sy-office is connecting: the kill switch blocks what it carries until it is back.',
    );
    expect(modeSentence({ ...ex, killSwitch: false }, { 'sy-office': 'down' })).toBe(
      'sy-office is down: what it carries uses the system routing until it is back.',
    );
    // Paused lifts the kill switch, as it lifts every app's.
    expect(modeSentence(ex, { 'sy-office': 'down' }, true)).toContain('uses the system routing');
    expect(killSwitchSentence(ex)).toBe('On: when sy-office is down, that traffic is blocked.');
  });

  it('offers a usable tunnel or WireGuard first, else a usable interface', () => {
    const list = [iface('wlan0', 'wifi'), iface('wg0', 'wireguard'), iface('sy-office', 'tunnel')];
    expect(defaultVia(list, {})).toBe('wg0');
    expect(defaultVia(list, { wg0: 'down' })).toBe('sy-office');
    expect(defaultVia(list, { wg0: 'down', 'sy-office': 'connecting' })).toBe('wlan0');
    expect(defaultVia(list, { wg0: 'down', 'sy-office': 'down', wlan0: 'down' })).toBe('wlan0');
    expect(defaultVia([], {})).toBeNull();
  });
});
