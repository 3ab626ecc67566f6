// `switchyard web`: the UI for a browser, on 127.0.0.1 only, guarded by a one-time token.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { supervisor } from '../mechanism/supervisor.ts';
import { RESOURCES } from '../resources.ts';
import { startWebBridge } from '../web/bridge.ts';
import { VERSION } from '../version.ts';
import { type Parsed, UsageError, str } from './args.ts';

const RENDERER_DIST = RESOURCES.renderer;

export async function webCommand(p: Parsed): Promise<number> {
  const port = Number(str(p, 'port') ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('--port takes 0 to 65535 (0 picks a free one)');
  if (!existsSync(join(RENDERER_DIST, 'index.html'))) {
    throw new Error(`the UI is not built (${RENDERER_DIST} is missing); run \`npm run build:renderer\``);
  }
  const bridge = await startWebBridge({
    helperSocket: p.socket,
    port,
    rendererDir: RENDERER_DIST,
    version: VERSION,
  });
  console.log(`Switchyard UI: ${bridge.url}`);
  console.log(
    'Open it once: the token in the address works for one browser session. Ctrl-C stops the bridge.',
  );
  if (p.values.open) openInBrowser(bridge.url);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await bridge.close();
  return 0;
}

function openInBrowser(url: string): void {
  const browser = ['/usr/bin/chromium', '/usr/bin/google-chrome'].find((b) => existsSync(b));
  if (!browser) {
    console.log('No Chromium found; open the address above in your browser.');
    return;
  }
  // The window is the user's: it stays when the bridge stops.
  supervisor.start([browser, `--app=${url}`], { detached: true, stderr: 'ignore' }).release();
}
