// What every end-to-end file needs: a fresh lab, the real helper in it, the web bridge serving the
// built UI, and Debian's chromium on it. One `UiSession` per file (`beforeAll`/`afterAll`).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import type { MethodName, ParamsIn, Result } from '../../native-helper/src/api/schema.ts';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { type WebBridge, startWebBridge } from '../../native-helper/src/web/bridge.ts';
import { Lab } from '../lab/lab.ts';
import { type HelperProcessOptions, REPO, RunningHelper } from '../lab/switchyard-helper.ts';

export const ARTIFACTS = join(REPO, 'test/e2e/artifacts');
const RENDERER = join(REPO, 'renderer/dist');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why an e2e file cannot run here, or null (use with `describe.skipIf`). */
export const cannotRun = process.getuid?.() !== 0 || !existsSync(CHROMIUM);

/** The sizes every view is shot at: the usual laptop window and the smallest supported one. */
export const VIEWPORTS = {
  wide: { width: 1280, height: 800 },
  small: { width: 800, height: 600 },
} as const;

let built = false;

export class UiSession {
  lab!: Lab;
  helper!: RunningHelper;
  bridge!: WebBridge;
  browser!: Browser;
  page!: Page;

  /** Builds the UI (once per process: a dist/ left from before would test an older UI) and opens it. */
  async start(
    viewport: { width: number; height: number } = VIEWPORTS.wide,
    /** Runs in the new lab before the helper starts, and may give the helper options (a wrap). */
    prepare?: (lab: Lab) => Promise<HelperProcessOptions>,
  ): Promise<this> {
    mkdirSync(ARTIFACTS, { recursive: true });
    if (!built) await run(['npm', 'run', '-s', 'build:renderer'], { timeoutMs: 180_000 });
    built = true;
    this.lab = await Lab.up({ prefix: Lab.randomPrefix() });
    this.helper = new RunningHelper(this.lab, (await prepare?.(this.lab)) ?? {});
    await this.helper.start();
    this.bridge = await startWebBridge({ helperSocket: this.helper.socket, rendererDir: RENDERER });
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    this.page = await this.browser.newPage({ viewport });
    await this.page.goto(this.bridge.url);
    return this;
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await this.bridge?.close();
    await this.helper?.stop();
    await this.lab?.down();
  }

  /** One call to the helper on a connection of its own (the UI's answers are not the truth). */
  async ask<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>> {
    const c = await this.helper.client();
    try {
      return await c.call(method, params);
    } finally {
      c.close();
    }
  }

  /** `<name>-light.png` and `<name>-dark.png` in the artifacts folder, with passing notices dismissed. */
  async shot(name: string, opts: { keepNotices?: boolean } = {}): Promise<void> {
    const page = this.page;
    if (!opts.keepNotices)
      for (const b of await page.getByRole('button', { name: 'Dismiss message' }).all()) await b.click();
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(150);
      await page.screenshot({ path: join(ARTIFACTS, `${name}-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }
}
