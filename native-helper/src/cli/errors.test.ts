import { describe, expect, it } from 'vitest';
import { ApiError, type MethodName, parseParams } from '../api/schema.ts';
import { checkEgressNames } from '../policy/egress-names.ts';
import { userMessage } from './errors.ts';

function refusal(method: MethodName, params: unknown): string {
  try {
    parseParams(method, params);
  } catch (err) {
    return userMessage(err as ApiError);
  }
  throw new Error('the params were accepted');
}

const KEY = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

describe('errors in the CLI words', () => {
  it.each([
    [
      'apps.add',
      { name: 'x', matchers: {} },
      'give at least one of --exe PATH, --cmdline REGEX, --desktop-id ID or --flatpak-id ID',
    ],
    ['apps.add', { name: 'x', matchers: { exe: ['rel'] } }, '--exe: exe paths must be absolute'],
    [
      'apps.add',
      { name: 'x', id: 'Bad!', matchers: { exe: ['/a'] } },
      '--id: lowercase letters, digits, dot, dash, underscore (max 64)',
    ],
    [
      'tunnels.add',
      { name: 't', gateway: 'h:1', gatewayPublicKey: 'x', addresses: ['10.0.0.2/24'] },
      '--gateway-key: a key is 32 bytes in base64 (44 characters)',
    ],
    [
      'tunnels.add',
      { name: 't', gateway: 'h:1', gatewayPublicKey: KEY, addresses: ['nope'] },
      '--address: an address such as 10.77.0.2/24 or fd77::2/64',
    ],
    [
      'tunnels.add',
      { name: 't', gateway: 'gw', gatewayPublicKey: KEY, addresses: ['10.0.0.2/24'] },
      '--gateway: give at least 3 characters',
    ],
    [
      'tunnels.add',
      { name: 't', gateway: 'h:1', gatewayPublicKey: KEY, addresses: ['10.0.0.2/24', 'fd00::2/64', 'x'] },
      '--address: give it at most 2 times',
    ],
    [
      'egress.set',
      { app: 'x', choice: { mode: 'ordered', egresses: ['a b'], killSwitch: false } },
      'IFACE: an interface or tunnel name of at most 15 characters',
    ],
  ])('%s %j', (method, params, text) => {
    const message = refusal(method as MethodName, params);
    expect(message).toBe(text);
    expect(message).not.toMatch(/apps\.add|matchers|gatewayPublicKey|choice\.egresses|desktopId/);
  });

  it('names --allow-absent when the helper refuses an interface it cannot see', () => {
    let err: unknown;
    try {
      checkEgressNames(
        { mode: 'ordered', egresses: ['eth0'], killSwitch: false },
        ['wlan0', 'enp3s0'],
        false,
      );
    } catch (e) {
      err = e;
    }
    expect(userMessage(err as ApiError)).toBe(
      "no interface 'eth0' here (the helper sees wlan0, enp3s0). If it comes later (a tether or a dock), add --allow-absent.",
    );
  });

  it("keeps the helper's own sentences", () => {
    const e = new ApiError('UNAVAILABLE', 'explain: x.example:443: no answer for x.example within 1.5 s');
    expect(userMessage(e)).toBe(e.message);
    expect(userMessage(new ApiError('NOT_FOUND', "no app 'x'"))).toBe("no app 'x'");
    expect(
      userMessage(new ApiError('BAD_REQUEST', "gateway: 'gw' is not HOST:PORT (e.g. 203.0.113.7:51900)")),
    ).toBe("--gateway 'gw' is not HOST:PORT (e.g. 203.0.113.7:51900)");
    expect(
      userMessage(new ApiError('BAD_REQUEST', 'Probe has no command to launch; give one with command')),
    ).toBe(
      'Probe has no command to launch (no desktop entry); start one with `switchyard run --app APP -- COMMAND`',
    );
  });
});
