import { describe, expect, it } from 'vitest';
import type { Interface, Tunnel } from '#switchyard/api/schema.ts';
import { unavailableWords, withAvailability } from './availability.ts';

const iface = (name: string, kind: Interface['kind'], usable: boolean) =>
  ({ name, kind, usable }) as Interface;
const tunnel = (name: string, state: Tunnel['state']) => ({ name, state }) as Tunnel;

describe('unavailableWords', () => {
  it("uses the CLI's tunnel state words and 'down' for other interfaces", () => {
    const words = unavailableWords(
      [
        iface('wlan0', 'wifi', false),
        iface('enp3s0', 'ethernet', true),
        iface('sy-office', 'tunnel', false),
        iface('sy-travel', 'tunnel', false),
      ],
      [tunnel('sy-office', 'connecting'), tunnel('sy-travel', 'down')],
    );
    expect(words).toEqual({ wlan0: 'down', 'sy-office': 'connecting', 'sy-travel': 'down' });
    expect(withAvailability('sy-office', words)).toBe('sy-office (connecting)');
    expect(withAvailability('enp3s0', words)).toBe('enp3s0');
  });
});
