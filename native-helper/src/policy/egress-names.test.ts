import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/schema.ts';
import { checkEgressNames, spellEgresses } from './egress-names.ts';

const ordered = (...egresses: string[]) => ({ mode: 'ordered' as const, egresses, killSwitch: false });
const KNOWN = ['wlan0', 'enp3s0', 'sy-tun0'];

describe('egress names', () => {
  it('spells names as the helper knows them', () => {
    expect(checkEgressNames(ordered('WLAN0', 'Enp3s0'), KNOWN, false)).toEqual(ordered('wlan0', 'enp3s0'));
    expect(checkEgressNames({ mode: 'block' }, [], false)).toEqual({ mode: 'block' });
  });

  it('refuses a name it cannot see, with what exists and the nearest name', () => {
    let err: ApiError | undefined;
    try {
      checkEgressNames(ordered('wlan1'), KNOWN, false);
    } catch (e) {
      err = e as ApiError;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect(err!.code).toBe('NOT_FOUND');
    expect(err!.message).toBe(
      "no interface 'wlan1' here (the helper sees wlan0, enp3s0, sy-tun0). Did you mean wlan0? If it comes later (a tether, a dock), allow absent interfaces.",
    );
    expect(err!.details).toEqual({ absent: ['wlan1'], known: KNOWN });
    expect(() => checkEgressNames(ordered('eth0', 'usb0'), [], false)).toThrow(
      "no interfaces 'eth0', 'usb0' here (the helper sees no interfaces).",
    );
  });

  it('keeps an absent name when the caller says it comes later', () => {
    expect(checkEgressNames(ordered('usb0', 'WLAN0'), KNOWN, true)).toEqual(ordered('usb0', 'wlan0'));
  });
});

describe('an override', () => {
  it('names one egress that is there, in any case, and offers no "comes later"', () => {
    expect(spellEgresses(['WLAN0'], KNOWN, false, false)).toEqual(['wlan0']);
    expect(() => spellEgresses(['wlan9'], KNOWN, false, false)).toThrow(
      /^no interface 'wlan9' here \(the helper sees wlan0, enp3s0, sy-tun0\)\. Did you mean wlan0\?$/,
    );
  });
});
