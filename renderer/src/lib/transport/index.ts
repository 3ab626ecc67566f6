// Picks the carrier: the Electron preload when present, otherwise the loopback bridge's WebSocket.
// `?demo` (dev server, or a build made with --mode demo) uses the FakeHelper instead: the one place
// production code may import the test double (eslint.config.js allows it here only). A production
// build drops the import, since demoAllowed is false there.
import { ElectronClient } from './electron.ts';
import { WebSocketClient, bridgeUrl, tokenFromHash } from './websocket.ts';
import type { PreloadBridge, SwitchyardClient } from './types.ts';

export type { SwitchyardClient } from './types.ts';

declare global {
  interface Window {
    switchyard?: PreloadBridge;
  }
}

const TOKEN_KEY = 'switchyard.token';

/** Take the token out of the address bar (so it is not left in history) and keep it for reloads. */
export function takeToken(): string | null {
  const fromHash = tokenFromHash(location.hash);
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    history.replaceState(null, '', `${location.pathname}${location.search}#/apps`);
    return fromHash;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export async function createClient(): Promise<SwitchyardClient> {
  const demoAllowed = import.meta.env.DEV || import.meta.env.MODE === 'demo';
  if (demoAllowed) {
    const params = new URLSearchParams(location.search);
    if (params.has('demo')) {
      const { FakeHelper } = await import('../transport-testing/fake-helper.ts');
      const helper = params.get('helper');
      const fake = new FakeHelper({
        apps: Number(params.get('apps')) || 36,
        autoTick: params.get('tick') !== 'off',
        flap: params.has('flap'),
        canAutostart: params.get('autostart') !== 'no',
        connection:
          helper === 'absent' || helper === 'refused' || helper === 'incompatible' ? helper : 'connected',
      });
      return fake;
    }
  }
  if (window.switchyard) return new ElectronClient(window.switchyard);
  const token = takeToken();
  return new WebSocketClient({ url: bridgeUrl(location, token), hasToken: token !== null });
}
